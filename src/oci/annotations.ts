// The config annotations that decide Linux or Wasm (read by src/handlers/detect.ts). They live here,
// below the handlers, because `features` advertises them too.
export const ANNOTATION_HANDLER = 'run.oci.handler';
export const ANNOTATION_VARIANT = 'module.wasm.image/variant';
export const ANNOTATION_CRI_TYPE = 'io.kubernetes.cri.container-type';
export const ANNOTATION_CRIO_TYPE = 'io.kubernetes.cri-o.ContainerType';
/** Every annotation detection reads (advertised in `features` as potentially unsafe). */
export const DETECTION_ANNOTATIONS = [ANNOTATION_VARIANT, ANNOTATION_HANDLER, ANNOTATION_CRI_TYPE, ANNOTATION_CRIO_TYPE];
