// Finding an image in the store by what a user typed, and choosing a platform from an image index.
import { arch } from 'node:os';
import { ImageError } from './errors.js';
import { isIndex, type Descriptor, type ImageConfig, type ImageIndex, type Manifest, type Platform } from './media.js';
import { parseReference, formatReference } from './reference.js';
import type { Store, StoredImage } from './store.js';

/** The host's platform in OCI terms. */
export function hostPlatform(): Platform {
  const a = arch();
  const architecture = a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
  return { os: 'linux', architecture };
}

/** Platforms a Wasm image may carry, in the order hyrun prefers them. */
export const WASM_PLATFORMS: Platform[] = [
  { os: 'wasi', architecture: 'wasm' },
  { os: 'wasip1', architecture: 'wasm' },
  { os: 'wasm', architecture: 'wasm' },
];

export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new ImageError(`--platform ${JSON.stringify(text)} is not OS/ARCH[/VARIANT]; write e.g. linux/amd64 or wasi/wasm`);
  }
  return parts.length === 3 ? { os: parts[0], architecture: parts[1], variant: parts[2] } : { os: parts[0], architecture: parts[1] };
}

export const formatPlatform = (p: Platform): string => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;

const samePlatform = (a: Platform | undefined, b: Platform): boolean =>
  a !== undefined && a.os === b.os && a.architecture === b.architecture && (b.variant === undefined || a.variant === b.variant);

/**
 * The manifest of an index that fits: the requested platform if given, else the host's, else a Wasm
 * platform (wasi/wasm, wasip1/wasm, wasm/wasm). Attestation manifests (platform unknown/unknown) never count.
 */
export function selectPlatform(index: ImageIndex, wanted?: Platform): Descriptor {
  const candidates = index.manifests.filter((m) => m.platform?.os !== 'unknown');
  const order = wanted ? [wanted] : [hostPlatform(), ...WASM_PLATFORMS];
  for (const p of order) {
    const hit = candidates.find((m) => samePlatform(m.platform, p));
    if (hit) return hit;
  }
  if (!wanted && candidates.length === 1 && candidates[0].platform === undefined) return candidates[0];
  const offered = candidates.map((m) => (m.platform ? formatPlatform(m.platform) : '?')).join(', ');
  throw new ImageError(`no image for ${wanted ? formatPlatform(wanted) : `${formatPlatform(hostPlatform())} or wasi/wasm`} in the index (it has ${offered || 'nothing'}); choose one with --platform`);
}

/** Names under which a user's text may be stored: explicit registry as typed; else localhost/ then docker.io. */
export function candidateNames(text: string): string[] {
  const ref = parseReference(text);
  const first = text.split('/', 1)[0];
  const explicit = text.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (explicit) return [formatReference(ref)];
  const local = formatReference({ ...ref, registry: 'localhost', repository: ref.repository.replace(/^library\//, '') });
  return [local, formatReference(ref)];
}

/** The name `hyrun build -t`/`tag` gives: unqualified names go under localhost/, as Podman does. */
export function localName(text: string): string {
  return candidateNames(text)[0];
}

export interface ResolvedImage {
  /** The entry found in the store index. */
  stored: StoredImage;
  /** The image manifest (after platform selection) and its descriptor. */
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

/** Looks `text` up in the store (names, then digests/IDs); undefined when absent. */
export function findImage(store: Store, text: string, platform?: Platform): ResolvedImage | undefined {
  let stored: StoredImage | undefined;
  try {
    for (const name of candidateNames(text)) {
      stored = store.find(name);
      if (stored) break;
    }
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    if (!/^(sha256:)?[a-f0-9]{6,64}$/.test(text)) throw e;
  }
  stored ??= store.find(text);
  if (!stored) return undefined;
  // An index whose image for this platform was never pulled: absent, so callers pull it.
  if (platform && isIndex(stored.descriptor.mediaType)) {
    try {
      if (!store.hasBlob(selectPlatform(store.readJson<ImageIndex>(stored.descriptor.digest), platform).digest)) return undefined;
    } catch {
      return undefined;
    }
  }
  return resolveDescriptor(store, stored, platform);
}

export function resolveDescriptor(store: Store, stored: StoredImage, platform?: Platform): ResolvedImage {
  let descriptor = stored.descriptor;
  if (isIndex(descriptor.mediaType)) {
    const index = store.readJson<ImageIndex>(descriptor.digest);
    // Without an explicit platform, choose among the images of the index that were pulled.
    const present = platform ? index : { ...index, manifests: index.manifests.filter((m) => store.hasBlob(m.digest)) };
    descriptor = selectPlatform(present.manifests.length > 0 ? present : index, platform);
    if (!store.hasBlob(descriptor.digest)) {
      throw new ImageError(`${stored.name ?? descriptor.digest}: the ${descriptor.platform ? formatPlatform(descriptor.platform) : ''} image of this index was not pulled; pull it with --platform`);
    }
  }
  const manifest = store.readJson<Manifest>(descriptor.digest);
  const config = store.readJson<ImageConfig>(manifest.config.digest);
  return { stored, descriptor, manifest, config };
}
