// The runtime directory: everything a Wasm container needs to start hyrun's executor, and nothing
// else of the host: the node binary, the shared libraries it links (found with ldd, dynamic loader
// included), and the executor/worker bundles (plus wabt for .wat modules, when installed).
// It is bind mounted read-only at RUNTIME_MOUNT inside Wasm containers, so it must be self-contained:
// FROM-scratch images have no /lib64/ld-linux-x86-64.so.2, which is why the container's process is
// the loader itself, given node as its program (see executorCommand()).
//
// Built once per (node binary, bundles) and cached: <cache>/runtime-<key>. Built in a temporary
// sibling and renamed into place, so a half-built directory is never visible and concurrent
// creators are safe (the loser of the rename discards its copy).
import { lazyCrypto, randomHex } from './lazy-crypto.js';
import { NATIVE_FILE } from '../wasi/native.js';
import { COMPONENT_MOUNT, RUNTIME_MOUNT } from '../wasm/engine.js';
import { engineStartFlags } from '../wasm/flags.js';
import { nodeBinary, sharedObjectsOf } from './self-node.js';
import {
  chmodSync, constants as fsConstants, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync,
  realpathSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Default cache location for root; HYRUN_CACHE_DIR overrides it (tests). */
export const DEFAULT_CACHE_DIR = '/var/lib/hyrun';

/** Where runtime dirs live: $HYRUN_CACHE_DIR, else /var/lib/hyrun for root, else the user's data dir (rootless engines). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (env.HYRUN_CACHE_DIR) return env.HYRUN_CACHE_DIR;
  if (uid === 0) return DEFAULT_CACHE_DIR;
  const data = env.XDG_DATA_HOME || (env.HOME ? join(env.HOME, '.local/share') : undefined);
  return data ? join(data, 'hyrun') : join('/tmp', `hyrun-${uid}`);
}

export interface RuntimeDir {
  /** Host path of the prepared directory. */
  path: string;
  /** File name of the dynamic loader inside it (e.g. ld-linux-x86-64.so.2). */
  loader: string;
}

export interface RuntimeDirOptions {
  /** Parent directory of runtime-<key> dirs. Default: defaultCacheDir(). */
  cacheDir?: string;
  /** The node binary to ship. Default: the one running hyrun. */
  node?: string;
  /** Directory holding executor.cjs and worker.cjs. Default: found next to this module. */
  distDir?: string;
}

/** The entries (scripts/cached-entry.cjs) and the bundles they start. */
// net-worker.cjs: the net thread of a component with wasi:sockets (src/wasm/net-thread.ts);
// http-worker.cjs: the thread that serves an HTTP component (src/wasm/http-serve.ts).
const BUNDLES = ['executor.cjs', 'executor-main.cjs', 'worker.cjs', 'worker-main.cjs', 'net-worker.cjs', 'http-worker.cjs'];
/** V8 code caches of the bundles, carried when the build made them (start-up only; see cached-entry.cjs). */
const CODE_CACHES = ['executor-main.cjs.cache', 'worker-main.cjs.cache'];
/** The Node-API addon (src/wasi/native.ts), carried when the build made it: the guest's lookups use it too. */
const NATIVE_ADDON = NATIVE_FILE;
/** Bumped when the directory's layout or contents change for the same inputs. */
const FORMAT = 6;

/*
 * Nothing the image holds may become code in the executor: a Wasm guest with a writable rootfs
 * could otherwise plant it, and the next exec or restart would run it natively (both observed with
 * a test library printing from its constructor):
 * - the dynamic loader reads /etc/ld.so.preload from the container's root: our copy of the loader
 *   has that path patched to a file that cannot exist (the runtime dir is read-only, and has none);
 * - it may consult /etc/ld.so.cache: started with --inhibit-cache (all libraries are in lib/);
 * - node loads /etc/ssl/openssl.cnf, whose providers are shared objects: --openssl-config points at
 *   an empty file here.
 */
const PRELOAD_PATH = '/etc/ld.so.preload';
const PRELOAD_REPLACEMENT = `${RUNTIME_MOUNT}/no.preload`;
const OPENSSL_CONFIG = 'openssl.cnf';

/** The loader with its preload-file path redirected; throws unless the path occurs exactly once. */
export function patchLoader(bytes: Buffer): Buffer {
  const from = Buffer.from(PRELOAD_PATH + '\0');
  const to = Buffer.from(PRELOAD_REPLACEMENT + '\0');
  if (from.length !== to.length) throw new Error('loader patch: replacement length differs');
  const at = bytes.indexOf(from);
  if (at < 0 || bytes.indexOf(from, at + 1) >= 0) throw new Error(`the dynamic loader does not name ${PRELOAD_PATH} exactly once; cannot isolate it`);
  const out = Buffer.from(bytes);
  to.copy(out, at);
  return out;
}

/** The dist/ directory holding the bundles, whether this code runs from dist/hyrun.cjs or dist/src/handlers/. */
export function findDistDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [here, join(here, '../..')]) {
    if (BUNDLES.every((b) => existsSync(join(candidate, b)))) return candidate;
  }
  throw new Error(`hyrun is not fully built (no ${BUNDLES.join('/')} near ${here}): run \`npm run build\``);
}

/** wabt's package directory if installed (the worker imports it lazily for .wat modules). */
function findWabt(distDir: string): string | undefined {
  const dir = join(distDir, '..', 'node_modules', 'wabt');
  return existsSync(join(dir, 'package.json')) ? dir : undefined;
}

/**
 * The cache key. The node binary is identified by its stat (hashing ~100 MB on every `create` would
 * cost more than the container start); the bundles, which change with every build, by content.
 */
function cacheKey(node: string, distDir: string, wabt: string | undefined): string {
  const h = lazyCrypto().createHash('sha256');
  h.update(`format ${FORMAT}\n`);
  const st = statSync(node, { bigint: true });
  // Not ctime: hard-linking node into a runtime dir changes it.
  h.update(`node ${node} ${st.dev} ${st.ino} ${st.size} ${st.mtimeNs}\n`);
  for (const b of BUNDLES) h.update(`${b}\n`).update(readFileSync(join(distDir, b)));
  // A cache follows from its bundle (whose first line names the build) and node: its presence is enough.
  for (const c of CODE_CACHES) h.update(`${c} ${existsSync(join(distDir, c))}\n`);
  if (existsSync(join(distDir, NATIVE_ADDON))) h.update(`${NATIVE_ADDON}\n`).update(readFileSync(join(distDir, NATIVE_ADDON)));
  if (wabt) {
    const ws = statSync(join(wabt, 'package.json'), { bigint: true });
    h.update(`wabt ${ws.ino} ${ws.mtimeNs}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

export { parseLdd } from './self-node.js';

/**
 * Hard link when allowed (same filesystem, and for non-root fs.protected_hardlinks permitting),
 * else link to a private copy kept in <cache>/files, made once per source file version: a rootless
 * user then pays the 100 MB copy of node once, not once per build.
 */
function place(src: string, dst: string, mode: number, store: string): void {
  const real = realpathSync(src);
  try {
    linkSync(real, dst);
    return;
  } catch {
    // fall through to the private copy
  }
  const st = statSync(real, { bigint: true });
  const id = lazyCrypto().createHash('sha256').update(`${real} ${st.dev} ${st.ino} ${st.size} ${st.mtimeNs} ${mode}`).digest('hex').slice(0, 24);
  const obj = join(store, `${id}-${basename(real)}`);
  if (!existsSync(obj)) {
    mkdirSync(store, { recursive: true, mode: 0o755 });
    const tmp = `${obj}.tmp-${process.pid}-${randomHex(4)}`;
    copyFileSync(real, tmp, fsConstants.COPYFILE_FICLONE);
    chmodSync(tmp, mode);
    renameSync(tmp, obj); // atomic: a concurrent copier's rename just replaces an identical file
  }
  try {
    linkSync(obj, dst);
  } catch {
    copyFileSync(obj, dst);
    chmodSync(dst, mode);
  }
}

function copyTree(src: string, dst: string, store: string): void {
  mkdirSync(dst, { recursive: true, mode: 0o755 });
  for (const name of readdirSync(src)) {
    const s = join(src, name);
    const d = join(dst, name);
    if (statSync(s).isDirectory()) copyTree(s, d, store);
    else place(s, d, 0o644, store);
  }
}

/** Returns the runtime directory for the current node and build, creating it if needed. */
export function ensureRuntimeDir(options: RuntimeDirOptions = {}): RuntimeDir {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const node = realpathSync(options.node ?? nodeBinary());
  const distDir = options.distDir ?? findDistDir();
  const wabt = findWabt(distDir);
  const key = cacheKey(node, distDir, wabt);
  const final = join(cacheDir, `runtime-${key}`);
  const loaderFile = join(final, 'loader');
  if (existsSync(loaderFile)) return { path: final, loader: readFileSync(loaderFile, 'utf8').trim() };

  // World-readable: containers may run as any uid, possibly user-namespaced.
  mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
  removeStaleTemps(cacheDir);
  const tmp = join(cacheDir, `.tmp-runtime-${key}-${process.pid}-${randomHex(4)}`);
  try {
    mkdirSync(join(tmp, 'lib'), { recursive: true, mode: 0o755 });
    chmodSync(tmp, 0o755);
    // A node directory (a release or an install: self-node.ts) already holds what node links; the
    // host then needs no ldd. Any other node: ask ldd.
    const so = sharedObjectsOf(node);
    const loader = basename(so.loader);
    const store = join(cacheDir, 'files');
    // A patched copy, never a link: the host's loader must stay as it is.
    writeFileSync(join(tmp, loader), patchLoader(readFileSync(realpathSync(so.loader))), { mode: 0o755 });
    chmodSync(join(tmp, loader), 0o755);
    writeFileSync(join(tmp, OPENSSL_CONFIG), '', { mode: 0o644 });
    // The mount point of a container's transpiled component (COMPONENT_MOUNT): the runtime dir is
    // mounted read-only, so the engine could not make it there.
    mkdirSync(join(tmp, basename(COMPONENT_MOUNT)), { mode: 0o755 });
    for (const lib of so.libs) place(lib, join(tmp, 'lib', basename(lib)), 0o755, store);
    place(node, join(tmp, 'node'), 0o755, store);
    for (const b of [...BUNDLES, ...CODE_CACHES.filter((c) => existsSync(join(distDir, c)))]) {
      copyFileSync(join(distDir, b), join(tmp, b));
      chmodSync(join(tmp, b), 0o644);
    }
    if (existsSync(join(distDir, NATIVE_ADDON))) {
      copyFileSync(join(distDir, NATIVE_ADDON), join(tmp, NATIVE_ADDON));
      chmodSync(join(tmp, NATIVE_ADDON), 0o644);
    }
    // The worker's `require('wabt')` resolves from /.hyrun/node_modules. Without wabt, a stub that
    // refuses to load stops the lookup there: node would otherwise go on to /node_modules/wabt in
    // the image, and run the image's JavaScript in the executor, outside the WASI sandbox.
    const wabtDir = join(tmp, 'node_modules', 'wabt');
    if (wabt) copyTree(wabt, wabtDir, store);
    else writeWabtStub(wabtDir);
    return finish(tmp, final, loader);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
}

function writeWabtStub(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'package.json'), '{"name":"wabt","main":"index.js"}\n', { mode: 0o644 });
  writeFileSync(join(dir, 'index.js'), "throw new Error('wabt is not installed with hyrun');\n", { mode: 0o644 });
}

/** Temporary dirs of builders that died half-way (a live build takes well under a minute). */
function removeStaleTemps(cacheDir: string): void {
  const store = join(cacheDir, 'files');
  const temps = [
    ...readdirSync(cacheDir).filter((n) => n.startsWith('.tmp-runtime-')).map((n) => join(cacheDir, n)),
    ...(existsSync(store) ? readdirSync(store).filter((n) => n.includes('.tmp-')).map((n) => join(store, n)) : []),
  ];
  for (const p of temps) {
    try {
      if (Date.now() - statSync(p).mtimeMs > 10 * 60_000) rmSync(p, { recursive: true, force: true });
    } catch {
      // raced with its owner or another cleaner: fine
    }
  }
}

function finish(tmp: string, final: string, loader: string): RuntimeDir {
  // Its presence marks a complete directory (the rename already makes that atomic).
  writeFileSync(join(tmp, 'loader'), loader + '\n', { mode: 0o644 });
  try {
    renameSync(tmp, final);
  } catch (error) {
    // Someone else renamed theirs first: theirs is complete, use it.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(final, 'loader'))) throw error;
  }
  return { path: final, loader };
}

/**
 * The container process that starts the executor: the loader runs node from the runtime dir with
 * the runtime dir's libraries only, so nothing from the image (or its absence) matters. V8's flags
 * (the tier policy) go on node's command line: they must never be changed at run time (flags.ts).
 */
export function executorCommand(rt: Pick<RuntimeDir, 'loader'>, nodeFlags: string[] = engineStartFlags()): string[] {
  return [
    `${RUNTIME_MOUNT}/${rt.loader}`, '--inhibit-cache', '--library-path', `${RUNTIME_MOUNT}/lib`,
    `${RUNTIME_MOUNT}/node`, `--openssl-config=${RUNTIME_MOUNT}/${OPENSSL_CONFIG}`, ...nodeFlags,
    `${RUNTIME_MOUNT}/executor.cjs`,
  ];
}

/** Where hyrun keeps transpiled components (component.ts), in the cache directory. */
export const componentCacheDir = (cacheDir: string = defaultCacheDir()): string => join(cacheDir, 'components');

/** The mount that puts the runtime dir into a container. */
export function runtimeMount(rt: Pick<RuntimeDir, 'path'>): { destination: string; type: string; source: string; options: string[] } {
  return { destination: RUNTIME_MOUNT, type: 'bind', source: rt.path, options: ['rbind', 'ro', 'nosuid', 'nodev'] };
}
