// The transpiler side of components: jco-transpile turns a component into its core modules plus
// JavaScript glue (the canonical ABI's lifting and lowering). Its own bundle
// (dist/hyrun-transpile.cjs, ~1 MB of JS and 6 MB of Wasm of its own), loaded by component.ts
// only when a component is not in the cache yet: a cached start never loads it.
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { toCommonJs, TranspileError } from './glue.js';

/** What the glue needs rewritten, and what it asks of the host. */
export interface Transpiled {
  /** Core module file name -> bytes, as the glue's getCoreModule names them. */
  cores: Record<string, Uint8Array>;
  /** The glue, as a CommonJS body: `module.exports = { instantiate }`. */
  glue: string;
  /** The component's exports (`wasi:cli/run@0.2.12`, …). */
  exports: string[];
}

export { TranspileError };

/**
 * The blocking WASI 0.2 calls, made suspending imports for HTTP components (JSPI): the guest's stack
 * is put aside while the host waits, and the thread serves other requests meanwhile.
 */
const SUSPENDING_IMPORTS = [
  'wasi:io/poll#poll', 'wasi:io/poll#[method]pollable.block',
  'wasi:io/streams#[method]input-stream.blocking-read', 'wasi:io/streams#[method]input-stream.blocking-skip',
  'wasi:io/streams#[method]output-stream.blocking-flush', 'wasi:io/streams#[method]output-stream.blocking-write-and-flush',
  'wasi:io/streams#[method]output-stream.blocking-write-zeroes-and-flush', 'wasi:io/streams#[method]output-stream.blocking-splice',
];
const PROMISING_EXPORTS = ['wasi:http/incoming-handler#handle'];

/**
 * Transpiles with the WASI shim off (every wasi:* import is left to hyrun's host, by unversioned
 * interface name) and synchronous instantiation. `suspending`: the blocking imports suspend and the
 * HTTP handler's `handle` returns a promise (JSPI; for HTTP components), else every call is
 * synchronous (a command runs to its end on its thread).
 */
export async function transpileComponent(bytes: Uint8Array, suspending = false): Promise<Transpiled> {
  let files: Record<string, Uint8Array>;
  let exports: [string, string][];
  try {
    ({ files, exports } = await transpileBytes(bytes, {
      name: 'component', instantiation: 'sync', wasiShim: false, emitTypescriptDeclarations: false,
      nodejsCompat: false, base64Cutoff: Number.MAX_SAFE_INTEGER, noComponentErrorWrapping: false,
      ...(suspending ? { asyncMode: 'jspi', asyncImports: SUSPENDING_IMPORTS, asyncExports: PROMISING_EXPORTS } : {}),
    } as Parameters<typeof transpileBytes>[1]));
  } catch (e) {
    const text = String((e as Error)?.message ?? e).split('\n').map((l) => l.trim()).filter((l) => l !== '');
    throw new TranspileError(text.slice(0, 3).join(': ') || 'the transpiler failed');
  }
  const cores: Record<string, Uint8Array> = {};
  let glue: string | undefined;
  for (const [name, data] of Object.entries(files)) {
    if (name.endsWith('.wasm')) cores[name] = data;
    else if (name.endsWith('.js')) glue = new TextDecoder().decode(data);
  }
  if (glue === undefined) throw new TranspileError('the transpiler produced no glue');
  return { cores, glue: toCommonJs(glue), exports: exports.map(([name]) => name) };
}
