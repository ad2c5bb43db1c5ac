// WASI 0.2 command components: recognised by the binary header (layer 1), transpiled once by
// jco-transpile (transpile.ts, its own bundle) into core modules plus canonical-ABI glue, cached by
// the component's sha256 and the transpiler's version, then run against hyrun's own WASI 0.2 host
// (src/wasi/p2), never jco's preview2-shim. A cached start loads no transpiler: it reads the
// glue (from V8's code cache) and the core modules, compiles them as modules are compiled
// (flags.ts, with the --memory cap), instantiates and calls wasi:cli/run's `run`.
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';
import type { WasiOptions } from '../wasi/context.js';
import { ProcExit } from '../wasi/errors.js';
import { P2Host, P2_WORLD } from '../wasi/p2/host.js';
import { AddonRequiredError } from '../wasi/preopen.js';
import { functionExportNames } from './binary.js';
import { withStateExports } from './state-exports.js';
import { LaunchError, type TranspiledRef } from './engine.js';
import { compileForEngineAsync } from './flags.js';
import { capToLimit } from './load.js';
import type { ResultMessage } from './protocol.js';
import { formatTrap, isTrap } from './trap.js';
import { TRANSPILER_TAG } from './transpiler-tag.js';
import type { NetThread } from './net-thread.js';
import type * as TranspileModule from './transpile.js';

// The cache key's second half: the transpiler's version and the shape of what hyrun keeps.
export { TRANSPILER_TAG };

/** What is kept about a transpiled component beside its glue and core modules. */
export interface Meta {
  /** interface -> the names the glue takes from it (`const { a, b } = imports['wasi:cli/environment']`). */
  needs: Record<string, string[]>;
  /** The component's exports, as the transpiler names them (`wasi:cli/run@0.2.12`, `run`, …). */
  exports: string[];
  cores: string[];
  /** An HTTP component's glue: its blocking imports suspend, `handle` returns a promise (JSPI). */
  suspending: boolean;
}

/** Whether a component serves HTTP (exports wasi:http/incoming-handler). */
export const isHttpComponent = (exports: string[]): boolean => exports.some((e) => e.startsWith('wasi:http/incoming-handler@'));

export interface Cached { dir: string; meta: Meta; cached: boolean }

// node:crypto on first use: loading it costs a start ~10 ms, and a cached start outside a container
// hashes nothing (rememberedDigest).
const sha256 = (bytes: Uint8Array): string =>
  (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(bytes).digest('hex');

/** What the glue destructures from each import object: exactly what the host must provide. */
export function glueNeeds(glue: string): Record<string, string[]> {
  const needs: Record<string, string[]> = {};
  for (const m of glue.matchAll(/const \{([^}]*)\} = imports\['([^']+)'\];/g)) {
    const names = m[1]!.split(',').map((part) => part.split(':')[0]!.trim()).filter((n) => n !== '');
    needs[m[2]!] = [...new Set([...(needs[m[2]!] ?? []), ...names])];
  }
  return needs;
}

/**
 * Loads the transpiler bundle, dist/hyrun-transpile.cjs: beside this bundle, or two levels up from
 * the per-file build (dist/src/wasm, tests). Only the bundle: it alone runs the transpiler's own
 * WASI imports on hyrun's host (transpiler-wasi.ts).
 */
function transpiler(): typeof TranspileModule {
  for (const rel of ['./hyrun-transpile.cjs', '../../hyrun-transpile.cjs']) {
    const bundle = new URL(rel, import.meta.url);
    if (existsSync(bundle)) return createRequire(import.meta.url)(bundle.pathname) as typeof TranspileModule;
  }
  throw new LaunchError('the component transpiler (dist/hyrun-transpile.cjs) is missing: run npm run build', 125);
}

/**
 * The component's transpiled form, from `cacheDir` or made now and stored there (atomically: a
 * directory renamed into place, so a concurrent start sees all of it or none). A component the
 * transpiler refuses is one LaunchError, and nothing is stored.
 */
export async function transpiled(path: string, bytes: Uint8Array, cacheDir: string, identity?: string): Promise<Cached> {
  const parent = join(cacheDir, TRANSPILER_TAG);
  const remembered = identity === undefined ? undefined : rememberedDigest(parent, identity);
  const digest = remembered ?? sha256(bytes);
  const dir = join(parent, digest);
  try {
    const found: Cached = { dir, meta: JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta, cached: true };
    markUsed(dir);
    if (identity !== undefined && remembered === undefined) rememberDigest(parent, identity, digest);
    return found;
  } catch {
    // Not cached yet (or damaged: made again below).
  }
  const t = transpiler();
  let out: TranspileModule.Transpiled;
  let suspending = false;
  try {
    out = await t.transpileComponent(bytes);
    // An HTTP component waits on its bodies and outbound requests while others are served: its
    // glue is made again with suspending imports (the exports are known only after a transpile).
    if (isHttpComponent(out.exports)) {
      out = await t.transpileComponent(bytes, true);
      suspending = true;
    }
  } catch (e) {
    if (e instanceof t.TranspileError) throw new LaunchError(`${path} is not a valid WebAssembly component: ${e.message}`, 126);
    throw e;
  }
  const meta: Meta = { needs: glueNeeds(out.glue), exports: out.exports, cores: Object.keys(out.cores), suspending };
  let tmp: string;
  try {
    mkdirSync(parent, { recursive: true });
    tmp = mkdtempSync(join(parent, '.new-'));
    // Readable by every uid: a container's executor reads it as the container's user.
    chmodSync(tmp, 0o755);
  } catch (e) {
    throw new LaunchError(`cannot write the transpile cache in ${parent} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set HYRUN_CACHE_DIR to a directory you may write`, 125);
  }
  try {
    writeFileSync(join(tmp, 'glue.cjs'), out.glue);
    for (const [name, data] of Object.entries(out.cores)) writeFileSync(join(tmp, name), data);
    writeFileSync(join(tmp, 'meta.json'), JSON.stringify(meta));
    publish(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // Another start put the same output there first: use it.
    if (!existsSync(join(dir, 'meta.json'))) throw e;
  }
  if (identity !== undefined) rememberDigest(parent, identity, digest);
  return { dir, meta, cached: false };
}

/**
 * The cache collection's "last used" (src/handlers/component-gc.ts): the directory's modification
 * time, set to now when it is more than an hour old (so a start costs one stat, rarely a utimes).
 * Best effort: a read-only cache keeps its times.
 */
const USE_STAMP_MS = 3_600_000;
function markUsed(dir: string): void {
  try {
    const now = Date.now();
    if (now - statSync(dir).mtimeMs > USE_STAMP_MS) utimesSync(dir, now / 1000, now / 1000);
  } catch {
    // only the collection's view of it is older
  }
}

// A cached start should not hash the component: node:crypto alone costs ~10 ms of start-up (it loads
// node:stream and more), a sixth of a module's hello. So the digest is remembered per file
// identity (fileIdentity: device, inode, size, modification and change times, taken before the
// bytes were read): any write to the file changes its change time, which no user can set back,
// so a remembered digest is the digest of exactly those bytes. A miss only costs the hash.
const BY_FILE = '.by-file';

/**
 * The file's identity for rememberedDigest, from a stat taken before its bytes are read; undefined
 * if it cannot be taken, or if the file changed in the last RACY_NS: file times come from a coarse
 * clock on older kernels, so a second write within the same tick could keep the same change time
 * (git's "racy" files). Once that much older, any later write gets a later change time.
 */
export function fileIdentity(path: string, nowNs: bigint = BigInt(Date.now()) * 1_000_000n): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    if (!st.isFile() || nowNs - st.ctimeNs < RACY_NS || nowNs - st.mtimeNs < RACY_NS) return undefined;
    return `${st.dev}-${st.ino}-${st.size}-${st.mtimeNs}-${st.ctimeNs}`;
  } catch {
    return undefined;
  }
}

const RACY_NS = 2_000_000_000n;

function rememberedDigest(parent: string, identity: string): string | undefined {
  try {
    const digest = readFileSync(join(parent, BY_FILE, identity), 'utf8');
    return /^[0-9a-f]{64}$/.test(digest) ? digest : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort, atomically (a reader sees the whole digest or no file): a failure only costs the next start a hash. */
function rememberDigest(parent: string, identity: string, digest: string): void {
  const dir = join(parent, BY_FILE);
  const tmp = join(dir, `.${identity}.${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, digest);
    renameSync(tmp, join(dir, identity));
  } catch {
    rmSync(tmp, { force: true });
  }
}

/**
 * The transpiled form made before this process started (outside its container): used only when it
 * was made from these very bytes; a container cannot transpile anything else.
 */
function preparedFor(path: string, bytes: Uint8Array, ref: TranspiledRef): Cached {
  if (sha256(bytes) !== ref.digest) {
    throw new LaunchError(`${path} is a WebAssembly component that was not transpiled when this container was created (only the container's own entrypoint, found in its image, is); run it as the container's entrypoint`, 126);
  }
  try {
    return { dir: ref.dir, meta: JSON.parse(readFileSync(join(ref.dir, 'meta.json'), 'utf8')) as Meta, cached: true };
  } catch (e) {
    throw new LaunchError(`the transpiled component at ${ref.dir} is unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); recreate the container`, 125);
  }
}

/**
 * The transpiled form for this run: the one made before it started (a container's, `prepared`),
 * else found in or made into `cacheDir`; neither is one line (a container's create did not see it).
 */
export async function transpiledFor(path: string, bytes: Uint8Array, where: { cacheDir?: string; prepared?: TranspiledRef; identity?: string }): Promise<Cached> {
  if (where.prepared !== undefined) return preparedFor(path, bytes, where.prepared);
  if (where.cacheDir !== undefined) return transpiled(path, bytes, where.cacheDir, where.identity);
  return missingCache(path);
}

/**
 * Transpiles a component into `cacheDir` ahead of its start (a container's create, a build, a pull)
 * and makes its glue's code cache there, so that a container, which cannot write it, starts from
 * it. Returns where it is and the component's digest.
 */
export async function prepareComponent(path: string, bytes: Uint8Array, cacheDir: string): Promise<TranspiledRef & { cached: boolean }> {
  const { dir, cached } = await transpiled(path, bytes, cacheDir);
  if (!existsSync(join(dir, 'glue.cjs.cache'))) loadGlue(dir).saveCache();
  return { dir, digest: sha256(bytes), cached };
}

/**
 * Renames the finished `tmp` to `dir`. A complete `dir` (another start's, possibly being read
 * now) is kept and `tmp` dropped; only a damaged one (no meta.json, written last) is replaced.
 */
function publish(tmp: string, dir: string): void {
  try {
    renameSync(tmp, dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
  }
  if (existsSync(join(dir, 'meta.json'))) {
    rmSync(tmp, { recursive: true, force: true });
    return;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/**
 * The glue's `instantiate`, compiled from V8's code cache beside it when there is one (written after
 * the first run). `cacheName`: which cache, `glue.cjs.cache` (a command's run) or the serving
 * thread's own, written after its first response so that it holds the request path too; when that
 * one is absent the command's is read (and the serving one written later).
 */
export function loadGlue(dir: string, cacheName = 'glue.cjs.cache'): { instantiate: Instantiate; saveCache: () => void; fromCache: boolean } {
  const file = join(dir, 'glue.cjs');
  const cacheFile = join(dir, cacheName);
  let cachedData: Buffer | undefined;
  let ownCache = true;
  for (const name of new Set([cacheName, 'glue.cjs.cache'])) {
    try {
      cachedData = readFileSync(join(dir, name));
      ownCache = name === cacheName;
      break;
    } catch {
      cachedData = undefined;
    }
  }
  const script = new Script(`(function (module, exports) {${readFileSync(file, 'utf8')}\n})`, { filename: file, cachedData });
  const fromCache = cachedData !== undefined && !script.cachedDataRejected;
  const mod = { exports: {} as { instantiate: Instantiate } };
  (script.runInThisContext() as (m: typeof mod, e: object) => void)(mod, mod.exports);
  const saveCache = (): void => {
    if (cachedData !== undefined && ownCache && !script.cachedDataRejected) return;
    try {
      // A container's transpiled form is mounted read-only: no cache to make there.
      accessSync(dir, constants.W_OK);
      const tmp = `${cacheFile}.${process.pid}`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      // Only start-up time is lost.
    }
  };
  return { instantiate: mod.exports.instantiate, saveCache, fromCache };
}

export type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: object,
  instantiateCore?: (module: WebAssembly.Module, imports: WebAssembly.Imports) => WebAssembly.Instance,
) => Record<string, Record<string, unknown>>;

/** `interface` or `interface#name` for everything the component imports that the host does not serve. */
export function unserved(needs: Record<string, string[]>, served: Record<string, Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const [iface, names] of Object.entries(needs)) {
    const have = served[iface];
    if (have === undefined) out.push(iface);
    else for (const name of names) if (!(name in have)) out.push(`${iface}#${name}`);
  }
  return out;
}

/** The exported `run` of wasi:cli/run, or a LaunchError saying what the component is instead. */
function commandExport(path: string, exports: string[]): string {
  const run = exports.find((e) => /^wasi:cli\/run@/.test(e));
  if (run !== undefined) return run;
  if (isHttpComponent(exports)) {
    throw new LaunchError(`${path} is an HTTP component (it exports wasi:http/incoming-handler): it is served, not run; use hyrun serve`, 126);
  }
  throw new LaunchError(`${path} is not a command component: it exports no wasi:cli/run (its exports: ${exports.join(', ') || 'none'})`, 126);
}

export interface ComponentRun {
  path: string;
  bytes: Uint8Array;
  /** fileIdentity(path) taken before `bytes` were read: a cached start then skips hashing them. */
  identity?: string;
  /** Where to find or make the transpiled form... */
  cacheDir?: string;
  /** ...or the one made before this process started (a container's). */
  prepared?: TranspiledRef;
  memoryLimit?: number;
  options: WasiOptions;
  /** Whether wasi:sockets may reach the network (engine.ts networkAllowed); else every bind, connect and lookup is denied. */
  allowNet?: boolean;
  trace?: (what: string) => void;
}

/** The net thread, for a component that imports wasi:sockets and may use the network: else none (denied, or not needed). */
async function netThreadFor(needs: Record<string, string[]>, allowNet: boolean | undefined): Promise<NetThread | undefined> {
  if (allowNet !== true || !Object.keys(needs).some((i) => i.startsWith('wasi:sockets/'))) return undefined;
  // Lazy: worker_threads and the net worker only for components with sockets.
  const { startNetThread } = await import('./net-thread.js');
  return startNetThread();
}

/** Runs a command component to its end; LaunchError when it cannot start, else how it ended. */
export async function runComponent(r: ComponentRun, made?: Cached): Promise<ResultMessage> {
  const { dir, meta, cached } = made ?? await transpiledFor(r.path, r.bytes, r);
  r.trace?.(cached ? 'component from the transpile cache' : 'component transpiled');
  const runName = commandExport(r.path, meta.exports);
  const net = await netThreadFor(meta.needs, r.allowNet);
  const host = new P2Host(r.options, net?.broker);
  try {
    const missing = unserved(meta.needs, host.importObject());
    if (missing.length > 0) throw new LaunchError(`${r.path} imports what hyrun does not serve (hyrun serves ${P2_WORLD}): ${missing.join(', ')}`, 126);
    const { glue, cores: { modules, exportNames } } = await loadComponent(r.path, dir, meta, { memoryLimit: r.memoryLimit, trace: r.trace });
    try {
      host.start();
    } catch (e) {
      if (e instanceof AddonRequiredError) throw new LaunchError(e.message, 125);
      throw e;
    }
    return runInstance(glue, modules, host, runName, exportNames, r.trace);
  } finally {
    host.dispose();
    await net?.stop();
  }
}

export interface CompiledCores {
  modules: Map<string, WebAssembly.Module>;
  exportNames: Record<number, string>;
  /** Whether every module had its state exported (see compileCores' `stateExports`). */
  resettable: boolean;
}

/**
 * The component's core modules compiled under the engine's flags (flags.ts: given when node
 * starts), each capped at `memoryLimit`; the first one's export names name trap frames. `stateExports`:
 * each module with its state exported (state-exports.ts), so that instances can be reset;
 * `resettable` says whether every module could be. Compiled on V8's background threads: the caller
 * loads the glue meanwhile.
 */
export async function compileCores(path: string, dir: string, meta: Meta, memoryLimit?: number, stateExports = false): Promise<CompiledCores> {
  const compiling: Promise<WebAssembly.Module>[] = [];
  let exportNames: Record<number, string> = {};
  let resettable = stateExports;
  for (const name of meta.cores) {
    let bytes: Uint8Array = readFileSync(join(dir, name));
    if (memoryLimit !== undefined) bytes = capToLimit(path, bytes, memoryLimit);
    if (compiling.length === 0) exportNames = functionExportNames(bytes);
    if (stateExports) {
      const rewritten = withStateExports(bytes);
      if (rewritten === undefined) resettable = false;
      else bytes = rewritten;
    }
    compiling.push(compileForEngineAsync(bytes));
  }
  const compiled = await Promise.all(compiling);
  return { modules: new Map(meta.cores.map((name, i) => [name, compiled[i]!])), exportNames, resettable };
}

/**
 * The glue and the compiled cores of a transpiled component: the cores compile on V8's threads
 * while this thread loads the glue (`cacheName`: which of its code caches, see loadGlue).
 */
export async function loadComponent(path: string, dir: string, meta: Meta,
  o: { memoryLimit?: number; stateExports?: boolean; cacheName?: string; trace?: (what: string) => void }): Promise<{ glue: ReturnType<typeof loadGlue>; cores: CompiledCores }> {
  const compiling = compileCores(path, dir, meta, o.memoryLimit, o.stateExports);
  // Awaited below; a failure of the glue's load must not leave it unhandled meanwhile.
  compiling.catch(() => {});
  const glue = loadGlue(dir, o.cacheName);
  o.trace?.(glue.fromCache ? 'glue from its code cache' : 'glue compiled');
  const cores = await compiling;
  o.trace?.('core modules compiled');
  return { glue, cores };
}

/** How a guest's call ended by throwing, as a ResultMessage (exit, trap, or host failure). */
export function failureOf(e: unknown, exportNames: Record<number, string>): ResultMessage {
  if (e instanceof ProcExit) return { type: 'exit', code: e.code };
  if (isTrap(e)) return { type: 'trap', message: formatTrap(e, exportNames) };
  // The glue's own checks of what the guest passes (a u8 out of range, a bad handle, invalid
  // UTF-8): the guest broke the canonical ABI, which wasmtime traps on too.
  if (thrownByGlue(e)) return { type: 'trap', message: `wasm trap: canonical ABI: ${(e as Error).message}`.replace(/\s*\n\s*/g, ' ') };
  return { type: 'error', message: `WASI host failure: ${(e as Error)?.stack ?? String(e)}` };
}

function runInstance(glue: ReturnType<typeof loadGlue>, modules: Map<string, WebAssembly.Module>, host: P2Host, runName: string,
  exportNames: Record<number, string>, trace?: (what: string) => void): ResultMessage {
  const ended = (e: unknown): ResultMessage => failureOf(e, exportNames);
  let exports: Record<string, Record<string, unknown>>;
  try {
    exports = glue.instantiate((name) => modules.get(name) ?? missingCore(name), host.importObject());
  } catch (e) {
    return ended(e);
  }
  trace?.('instantiated');
  try {
    (exports[runName]!.run as () => void)();
    return { type: 'exit', code: 0 };
  } catch (e) {
    // `run` returning err: the glue throws its payload wrapped (ComponentError); the exit status is 1, as wasmtime's.
    if ((e as object | null)?.constructor?.name === 'ComponentError') return { type: 'exit', code: 1 };
    return ended(e);
  } finally {
    // After the run: the cache then holds every glue function the run compiled, not only instantiate's.
    glue.saveCache();
  }
}

/** Whether an error was thrown by the glue's own code (its first frame is in glue.cjs), not by hyrun's host. */
function thrownByGlue(e: unknown): boolean {
  if (!(e instanceof Error) || typeof e.stack !== 'string') return false;
  const first = e.stack.split('\n').find((l) => /^\s+at /.test(l));
  return first !== undefined && /[/(]glue\.cjs:\d+:\d+\)?$/.test(first);
}

const missingCache = (path: string): never => {
  throw new LaunchError(`${path} is a WebAssembly component that was not found when this container was created (it must be in the image, not in a volume), so it was not transpiled; a container cannot transpile`, 126);
};

export const missingCore = (name: string): never => {
  throw new Error(`the glue asks for a core module the transpiler did not produce: ${name}`);
};

/** Transpiled outputs in `cacheDir` (for tests and cache housekeeping): digest directories per transpiler tag. */
export function cachedComponents(cacheDir: string): string[] {
  if (!existsSync(cacheDir)) return [];
  return readdirSync(cacheDir).flatMap((tag) => (tag.startsWith('.') ? [] : readdirSync(join(cacheDir, tag)).filter((d) => !d.startsWith('.')).map((d) => join(tag, d))));
}
