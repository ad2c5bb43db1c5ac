// Components in images (docs/components.md): `build --artifact`, `build` and `pull` transpile a
// component entrypoint into the host's cache, so that its first container start transpiles nothing.
import { ImageError } from '../image/errors.js';
import { findImage } from '../image/resolve.js';
import type { Store } from '../image/store.js';
import { say } from './image-flags.js';

/** `build --artifact FILE`: a component is transpiled into the host's cache now (docs/components.md). */
export async function transpileArtifactFile(file: string): Promise<void> {
  const { readFileHead, isComponentHeader } = await import('../wasm/binary.js');
  const head = readFileHead(file, 8);
  if (head === undefined || !isComponentHeader(head)) return;
  const { readFileSync } = await import('node:fs');
  const { prepareComponent } = await import('../wasm/component.js');
  const { componentCacheDir } = await import('../handlers/runtime-dir.js');
  const { LaunchError } = await import('../wasm/engine.js');
  try {
    await prepareComponent(file, readFileSync(file), componentCacheDir());
  } catch (e) {
    if (e instanceof LaunchError) throw new ImageError(e.message, e.exitCode);
    throw e;
  }
}

/**
 * After a build or pull: the image's component entrypoint is transpiled into the host's cache. A
 * component that cannot be is one warning line: the image itself is stored, and running it says
 * the same.
 */
export async function transpileComponentOf(store: Store, name: string, platform: Parameters<typeof findImage>[2], quiet: boolean): Promise<void> {
  const image = findImage(store, name, platform);
  if (!image) return;
  const { transpileImageComponent } = await import('../image/components.js');
  try {
    if (await transpileImageComponent(store, image) && !quiet) say(`transpiled the component ${image.stored.name ?? name} runs`);
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    process.stderr.write(`hyrun: warning: ${e.message}\n`);
  }
}
