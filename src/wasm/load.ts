// Reading, recognising, capping and compiling the guest module on the supervising thread. Every way
// a module cannot be run becomes a one-line LaunchError with a Podman-style exit status.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PREVIEW1_FUNCTIONS } from '../wasi/host.js';
import { capMemory, functionExportNames, cappedImportMax, describeNonModule, looksLikeWat, MemoryCapError, memoryImports, PAGE } from './binary.js';
import { LaunchError } from './engine.js';
import { compileForEngine } from './flags.js';

export interface MemoryImportPlan { module: string; name: string; initial: number; maximum?: number; shared: boolean }

export interface LoadedModule {
  module: WebAssembly.Module;
  /** A memory the module imports, which the worker must create (with the capped maximum). */
  memoryImport?: MemoryImportPlan;
  exportNames: Record<number, string>;
}

const WASI = 'wasi_snapshot_preview1';
const PROVIDED = new Set<string>(PREVIEW1_FUNCTIONS);

/**
 * Reads the file, mapping file-system failures to 127 (missing) or 126 (unreadable). Synchronously:
 * nothing else runs meanwhile, and node:fs/promises costs ~2 ms of start-up to load.
 */
export async function readModuleFile(path: string): Promise<Uint8Array> {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new LaunchError(`${path}: no such file`, 127);
    if (code === 'EISDIR') throw new LaunchError(`${path} is a directory, not a WebAssembly module`, 126);
    if (code === 'EACCES' || code === 'EPERM') throw new LaunchError(`${path}: permission denied`, 126);
    throw new LaunchError(`${path}: cannot read: ${(e as Error).message}`, 126);
  }
}

/** Turns WebAssembly text into a binary with the `wabt` package, loaded only when needed. */
export async function watToBinary(path: string, text: Uint8Array): Promise<Uint8Array> {
  let factory: () => Promise<any>;
  try {
    // require, not import(): the CLI bundle runs from V8's code cache (scripts/cached-entry.cjs), where
    // node 20 has no dynamic-import hook. wabt is CommonJS.
    factory = createRequire(import.meta.url)('wabt') as () => Promise<any>;
  } catch {
    throw new LaunchError(`${path} is WebAssembly text (.wat) and the wabt package needed to read it is not installed`, 125);
  }
  const wabt = await factory();
  let parsed: any;
  try {
    parsed = wabt.parseWat(path, new TextDecoder().decode(text), {
      exceptions: true, mutable_globals: true, sat_float_to_int: true, sign_extension: true,
      simd: true, threads: true, multi_value: true, tail_call: true, bulk_memory: true,
      reference_types: true, memory64: true,
    });
    parsed.resolveNames();
    parsed.validate();
    return parsed.toBinary({ write_debug_names: true }).buffer as Uint8Array;
  } catch (e) {
    const first = String((e as Error).message ?? e).trim().split('\n').find((l) => l.trim() !== '') ?? 'parse error';
    throw new LaunchError(`${path} is not valid WebAssembly text: ${first.trim()}`, 126);
  } finally {
    parsed?.destroy();
  }
}

/** Recognises the bytes, converts .wat, applies the memory cap; returns a module binary. */
export async function prepareBinary(path: string, bytes: Uint8Array, memoryLimit?: number): Promise<Uint8Array> {
  const what = describeNonModule(bytes);
  if (what !== null) {
    if (path.endsWith('.wat') || looksLikeWat(bytes)) bytes = await watToBinary(path, bytes);
    else throw new LaunchError(`${path} is not a WebAssembly module: it is ${what}`, 126);
  }
  return memoryLimit === undefined ? bytes : capToLimit(path, bytes, memoryLimit);
}

/** The module with its memories capped at `memoryLimit` bytes (binary.ts capMemory); one-line LaunchErrors otherwise. */
export function capToLimit(path: string, bytes: Uint8Array, memoryLimit: number): Uint8Array {
  if (!(memoryLimit >= 0)) throw new LaunchError(`invalid memory limit ${memoryLimit}`, 125);
  try {
    return capMemory(bytes, memoryLimit);
  } catch (e) {
    if (e instanceof MemoryCapError) {
      throw new LaunchError(`${path} needs ${e.initialBytes} bytes of memory at start, more than the memory limit of ${e.capBytes} bytes`, 126);
    }
    throw new LaunchError(`${path} is not a valid WebAssembly module: ${(e as Error).message}`, 126);
  }
}

/** Compiles and checks that the module is a WASI command hyrun can link. */
export async function compileChecked(path: string, bytes: Uint8Array, memoryLimit?: number): Promise<LoadedModule> {
  let module: WebAssembly.Module;
  try {
    module = compileForEngine(bytes);
  } catch (first) {
    // Report the error with the file's own byte offsets: compile it as it is (flags.ts reshapes it).
    const e = await WebAssembly.compile(bytes).then(() => first, (original: unknown) => original);
    throw new LaunchError(`${path} is not a valid WebAssembly module: ${(e as Error).message.replace(/^WebAssembly\.compile\(\): /, '')}`, 126);
  }
  const unknown: string[] = [];
  let memoryImport: MemoryImportPlan | undefined;
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind === 'function' && imp.module === WASI && PROVIDED.has(imp.name)) continue;
    if (imp.kind === 'memory' && memoryImport === undefined) {
      const declared = memoryImports(bytes).find((m) => m.module === imp.module && m.name === imp.name);
      if (declared !== undefined) {
        memoryImport = {
          module: imp.module, name: imp.name, initial: declared.limits.min,
          maximum: cappedImportMax(declared.limits, memoryLimit), shared: (declared.limits.flags & 2) !== 0,
        };
        continue;
      }
    }
    unknown.push(`${imp.module}.${imp.name}`);
  }
  if (unknown.length > 0) {
    throw new LaunchError(`${path} imports what hyrun does not provide (it implements ${WASI}): ${unknown.join(', ')}`, 126);
  }
  const exports = WebAssembly.Module.exports(module);
  if (!exports.some((e) => e.name === '_start' && e.kind === 'function')) {
    throw new LaunchError(`${path} has no _start function: it is not a WASI command module (libraries and reactors cannot be run)`, 126);
  }
  if (!exports.some((e) => e.kind === 'memory' && e.name === 'memory') && memoryImport === undefined) {
    throw new LaunchError(`${path} neither exports nor imports a memory, so WASI cannot pass it data`, 126);
  }
  return { module, memoryImport, exportNames: functionExportNames(bytes) };
}

/** The whole path from a file name to a compiled, checked module. */
export async function loadModule(path: string, memoryLimit?: number): Promise<LoadedModule> {
  const raw = await readModuleFile(path);
  const bytes = await prepareBinary(path, raw, memoryLimit);
  return compileChecked(path, bytes, memoryLimit);
}

export { PAGE };
