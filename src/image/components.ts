// WASI 0.2 components in images are transpiled when the image arrives (`hyrun build --artifact`,
// `hyrun build`, `hyrun pull`), into the host's transpile cache (docs/components.md): the first
// container start then transpiles nothing. A container's create does the same for images that came
// another way (an engine's own store); either way it happens outside the container.
import { HandlerError } from '../handlers/types.js';
import { transpileEntrypoint } from '../handlers/wasm.js';
import type { OciSpec } from '../oci/spec.js';
import { DEFAULT_PATH, isWasmImage, mergeEnv, processArgs } from './container-config.js';
import { ImageError } from './errors.js';
import type { ResolvedImage } from './resolve.js';
import type { Store } from './store.js';
import { snapshot } from './unpack.js';

/**
 * Transpiles the image's entrypoint when it is a component (by its header); a no-op for Linux
 * images and core modules. Throws (one line) when the component is not valid.
 */
export async function transpileImageComponent(store: Store, image: ResolvedImage): Promise<boolean> {
  if (!isWasmImage(image.manifest, image.config)) return false;
  let args: string[];
  try {
    args = processArgs(image.manifest, image.config, { args: [], entrypoint: undefined });
  } catch {
    return false; // no command in the image: `run` names one, and its create transpiles it
  }
  const env = mergeEnv(image.config, []);
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  const spec: OciSpec = { ociVersion: '1.0.2', process: { user: { uid: 0, gid: 0 }, args, env, cwd: image.config.config?.WorkingDir || '/' } };
  try {
    return (await transpileEntrypoint(spec, await snapshot(store, image))) !== undefined;
  } catch (e) {
    if (e instanceof HandlerError) throw new ImageError(e.message, e.exitCode);
    throw e;
  }
}
