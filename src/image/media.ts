// Media types and annotation keys of the OCI image spec, Docker's v2 schema 2 and the CNCF TAG
// Runtime Wasm artifact; shared by the store, builder, registry client and unpacker.
export const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  wasmConfig: 'application/vnd.wasm.config.v0+json',
  wasmConfigV1: 'application/vnd.wasm.config.v1+json',
  wasmLayer: 'application/wasm',
  wasmLayerV1: 'application/vnd.wasm.content.layer.v1+wasm',
} as const;

export const INDEX_TYPES: readonly string[] = [MT.ociIndex, MT.dockerList];
export const MANIFEST_TYPES: readonly string[] = [MT.ociManifest, MT.dockerManifest];
export const WASM_CONFIG_TYPES: readonly string[] = [MT.wasmConfig, MT.wasmConfigV1];
export const WASM_LAYER_TYPES: readonly string[] = [MT.wasmLayer, MT.wasmLayerV1];

/** The Accept header for manifests: everything this client can read. */
export const MANIFEST_ACCEPT = [MT.ociIndex, MT.ociManifest, MT.dockerList, MT.dockerManifest].join(', ');

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
/** containerd's import reads the full image name from this key. */
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';
export const WASM_VARIANT = 'module.wasm.image/variant';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, object>;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    StopSignal?: string;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
  /** Wasm artifact config only. */
  layerDigests?: string[];
}

export const isIndex = (mediaType: string | undefined): boolean => mediaType !== undefined && INDEX_TYPES.includes(mediaType);
