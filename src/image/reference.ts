// Image references normalised as Docker/Podman do: `alpine` -> docker.io/library/alpine:latest,
// `host:5000/a/b` -> host:5000/a/b:latest, digests kept (`name@sha256:…`). Parsing is
// @swimlane/docker-reference's (the grammar of distribution's reference package).
import { parseFamiliarName } from '@swimlane/docker-reference';
import { ImageError } from './errors.js';

export interface ImageRef {
  /** Registry host[:port], e.g. docker.io, 127.0.0.1:5000. */
  registry: string;
  /** Repository path, e.g. library/alpine. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** The registry's API host (Docker Hub's API lives on another name than its references). */
export const apiHost = (registry: string): string => (registry === 'docker.io' ? 'registry-1.docker.io' : registry);

export function parseReference(text: string): ImageRef {
  let ref;
  try {
    ref = parseFamiliarName(text);
  } catch (e) {
    throw new ImageError(`invalid image reference ${JSON.stringify(text)}: ${(e as Error).message}; write e.g. alpine, quay.io/org/app:1.0 or NAME@sha256:DIGEST`);
  }
  const registry = ref.domain ?? 'docker.io';
  const repository = ref.repository ?? '';
  const digest = ref.digest;
  if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new ImageError(`invalid image reference ${JSON.stringify(text)}: only sha256 digests are supported`);
  }
  return { registry, repository, tag: ref.tag ?? (digest ? undefined : 'latest'), digest };
}

/** The full name the store records: registry/repository:tag (plus @digest when given). */
export function formatReference(ref: ImageRef): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

export const normalizeReference = (text: string): string => formatReference(parseReference(text));

/** True when the text parses as a reference at all (for telling an image from a file or ID). */
export function looksLikeReference(text: string): boolean {
  try {
    parseFamiliarName(text);
    return true;
  } catch {
    return false;
  }
}
