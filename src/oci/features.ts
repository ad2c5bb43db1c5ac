// `features`: the delegate's own document when it has one (runc >= 1.1), else one describing what
// hyrun can promise through the delegate; plus what hyrun adds (Wasm, the detection annotations).
import { DETECTION_ANNOTATIONS } from './annotations.js';
import type { OciFeatures } from './spec.js';

/** Advertised in features.annotations (as crun advertises run.oci.crun.wasm). */
export const WASM_FEATURE_ANNOTATION = 'run.oci.hyrun.wasm';

/** A minimal valid document for delegates without `features` (crun 1.8). */
export function fallbackFeatures(maxVersion: string): OciFeatures {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: maxVersion,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: true },
    },
  };
}

/** Add hyrun's part to a features document (the delegate's or the fallback). */
export function withHyrun(f: OciFeatures): OciFeatures {
  const unsafe = new Set(f.potentiallyUnsafeConfigAnnotations ?? []);
  for (const a of DETECTION_ANNOTATIONS) unsafe.add(a);
  return {
    ...f,
    annotations: { ...(f.annotations ?? {}), [WASM_FEATURE_ANNOTATION]: 'true' },
    potentiallyUnsafeConfigAnnotations: [...unsafe],
  };
}

/** Whether a parsed document has the fields the spec requires. */
export function isFeatures(x: unknown): x is OciFeatures {
  const f = x as OciFeatures | null;
  return !!f && typeof f === 'object' && typeof f.ociVersionMin === 'string' && typeof f.ociVersionMax === 'string';
}
