// Wasm containers: the delegate (crun/runc) builds the same kernel sandbox as for a Linux container
// (namespaces, cgroups, seccomp, user, capabilities, mounts), but the process it starts is hyrun's
// executor — node from the read-only runtime directory — which runs the module named by
// process.args[0] (docs/wasm-containers.md).
//
// prepare() writes a private bundle under the state dir: a copy of the user's config whose process
// starts the executor, whose root.path is absolute (the user's rootfs, used in place), and which
// mounts the runtime dir. The user's bundle is never written.
import { closeSync, constants as fsConstants, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ANNOTATION_HANDLER, ANNOTATION_VARIANT } from '../oci/annotations.js';
import { configForDelegate } from '../oci/config.js';
import type { OciMount, OciProcess, OciSpec } from '../oci/spec.js';
import { hasWasmMagic, isComponentHeader, readFileHead } from '../wasm/binary.js';
import { COMPONENT_MOUNT, LaunchError, RUNTIME_MOUNT, SPEC_ENV, type TranspiledRef, type WasmRunSpec } from '../wasm/engine.js';
import { resolveEntrypoint } from './detect.js';
import { componentCacheDir, ensureRuntimeDir, executorCommand, runtimeMount, type RuntimeDir } from './runtime-dir.js';
import { collectComponentsDaily } from './component-gc.js';
import { collectRuntimeDirs, releaseRuntimeDir, useRuntimeDir, userFile } from './runtime-gc.js';
import { crunHasWasmHandler, HandlerError, type DelegateInfo, type ExecContext, type Handler, type PrepareContext } from './types.js';

/**
 * What the executor is handed inside the container. `module` is process.args[0] as the user wrote
 * it: the executor resolves it there (PATH, cwd, volumes are only visible inside).
 */
export type ContainerSpec = WasmRunSpec;

/** What prepare() keeps in hyrun.json for prepareExec(). */
export interface WasmRecordData {
  rootfs: string;
  runtimeDir: string;
  loader: string;
  memoryLimit?: number;
  /** The sha256 of the component process.args[0] was at create (its transpiled form is at COMPONENT_MOUNT). */
  componentDigest?: string;
}

/**
 * hyrun's own annotation: listening TCP sockets the executor opens in the container's network
 * namespace and preopens to the guest (WASI preview1 cannot create sockets), e.g.
 * `io.hyrun.tcp-listen: "0.0.0.0:8080"`; several separated by commas. Only the container's first
 * process gets them, not exec'd instances. (docs/kubernetes.md)
 */
export const ANNOTATION_TCP_LISTEN = 'io.hyrun.tcp-listen';

/** The HOST:PORT list of ANNOTATION_TCP_LISTEN; one clear line when malformed. */
export function tcpListenAddresses(annotations: Record<string, string> | undefined): string[] | undefined {
  const raw = annotations?.[ANNOTATION_TCP_LISTEN];
  if (raw === undefined) return undefined;
  const list = raw.split(',').map((a) => a.trim()).filter(Boolean);
  for (const a of list) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]*):(\d{1,5})$/.exec(a);
    if (!m || Number(m[2]) > 65535) {
      throw new HandlerError(`annotation ${ANNOTATION_TCP_LISTEN}: "${a}" is not HOST:PORT; write e.g. 0.0.0.0:8080 (several separated by commas)`);
    }
  }
  return list.length > 0 ? list : undefined;
}

const MiB = 1 << 20;
const PAGE = 64 * 1024;
/**
 * The cgroup limit covers node as well as the guest's linear memory. Node's own share, measured in a
 * memory-limited container (cgroup v1, node 20): ~15 MiB idle, and with a 128 MiB limit a guest
 * growing to the cap was OOM-killed with allowances up to 20 MiB and ran with 24 MiB — with node's
 * pages already in the page cache. Cold, node's ~35 MiB of text is charged to the container too.
 * Leave 64 MiB, or half the limit when it is small, so memory.grow fails before the OOM killer fires.
 */
const NODE_ALLOWANCE = 64 * MiB;

export function linearMemoryCap(cgroupLimit: unknown): number | undefined {
  if (typeof cgroupLimit !== 'number' || !Number.isFinite(cgroupLimit) || cgroupLimit <= 0) return undefined;
  const cap = cgroupLimit - Math.min(NODE_ALLOWANCE, cgroupLimit / 2);
  return Math.max(PAGE, Math.floor(cap / PAGE) * PAGE);
}

/** The executor spec for a process of this container (`componentDigest`: the container's component, see transpileEntrypoint). */
export function executorSpec(proc: OciProcess, memoryLimit: number | undefined, componentDigest?: string): ContainerSpec {
  const args = proc.args ?? [];
  const spec: ContainerSpec = {
    module: args[0]!,
    args: [...args],
    env: [...(proc.env ?? [])],
    // The guest sees the container's whole filesystem (rootfs and every OCI mount) as `/`...
    preopens: [{ hostPath: '/', guestPath: '/' }],
    // ...except the runtime directory.
    hiddenPaths: [RUNTIME_MOUNT],
    // The container's network namespace bounds the network: wasi:sockets and outbound HTTP are allowed (engine.ts networkAllowed).
    inContainer: true,
  };
  if (memoryLimit !== undefined) spec.memoryLimit = memoryLimit;
  if (componentDigest !== undefined) spec.transpiled = { dir: COMPONENT_MOUNT, digest: componentDigest };
  return spec;
}

/** Replace the process's command and environment with the executor's; everything else is kept. */
export function wrapProcess(proc: OciProcess, rt: Pick<RuntimeDir, 'loader'>, spec: ContainerSpec): OciProcess {
  return {
    ...proc,
    args: executorCommand(rt),
    // Only the spec: node must not pick up NODE_OPTIONS & co. from the image. The guest's env travels
    // inside the spec (an env var, not an argument: /proc/PID/environ is private to the owner,
    // /proc/PID/cmdline is readable by every user of the host).
    // One malloc arena: glibc gives each thread that allocates an arena of its own, and V8's
    // compiler and GC threads left ~3–5 MB of them in every idle executor (measured on node 26:
    // 13.9–16.6 MB of anonymous memory, 11.1 MB with one arena); the guest runs on one thread.
    env: [...specEnv(spec), 'MALLOC_ARENA_MAX=1'],
  };
}

/**
 * Linux limits each environment string to 128 KiB (MAX_ARG_STRLEN); a container with a big
 * environment would not start with its spec in one variable. Split it: SPEC_ENV, SPEC_ENV_1, …
 */
const CHUNK = 96 * 1024;
export function specEnv(spec: ContainerSpec): string[] {
  const b64 = Buffer.from(JSON.stringify(spec)).toString('base64');
  const out: string[] = [];
  for (let i = 0; i * CHUNK < b64.length || i === 0; i++) {
    out.push(`${SPEC_ENV}${i === 0 ? '' : `_${i}`}=${b64.slice(i * CHUNK, (i + 1) * CHUNK)}`);
  }
  return out;
}

/** 'wasm' | 'elf' | 'script' | 'other' from a file's first bytes; undefined if unreadable. */
export function sniff(hostPath: string): 'wasm' | 'elf' | 'script' | 'other' | undefined {
  const b = readFileHead(hostPath, 4);
  if (b === undefined) return undefined;
  if (hasWasmMagic(b)) return 'wasm';
  if (b.length === 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) return 'elf';
  if (b.length >= 2 && b[0] === 0x23 && b[1] === 0x21) return 'script';
  return 'other';
}

/** One-line reason why an entrypoint found in the image cannot be run as Wasm. */
export function notWasmMessage(arg0: string, kind: 'elf' | 'script' | 'other'): string {
  const what = kind === 'elf' ? 'it is an ELF executable' : kind === 'script' ? 'it is a script (#!)' : 'it does not start with the Wasm magic bytes';
  return `${arg0} is not a Wasm module: ${what}; run it as a Linux container (drop the Wasm annotation) or point process.args[0] at a .wasm/.wat file`;
}

const isWasmName = (p: string): boolean => /\.(wasm|wat)$/i.test(p);

/**
 * The private config: the user's, with the executor as process and the runtime dir mounted; with a
 * component's transpiled form (transpileEntrypoint) mounted read-only at COMPONENT_MOUNT.
 */
export function privateConfig(ctx: Pick<PrepareContext, 'config' | 'rootfs' | 'delegate'>, rt: RuntimeDir, component?: TranspiledRef): { config: OciSpec; data: WasmRecordData } {
  const user = ctx.config;
  const proc = user.process;
  if (!proc || !proc.args || proc.args.length === 0 || !proc.args[0]) {
    throw new HandlerError('config.json: process.args is empty: a Wasm container needs the module as process.args[0]');
  }
  if ((user.mounts ?? []).some((m) => m.destination.replace(/\/+$/, '') === RUNTIME_MOUNT)) {
    throw new HandlerError(`config.json: a mount at ${RUNTIME_MOUNT} is reserved for hyrun's runtime in Wasm containers; move it elsewhere`);
  }
  checkAddressSpace(proc);
  checkThreads(user);
  const memory = (user.linux?.resources as { memory?: { limit?: unknown } } | undefined)?.memory;
  const memoryLimit = linearMemoryCap(memory?.limit);
  const config: OciSpec = structuredClone(configForDelegate(user, ctx.delegate) ?? user);
  config.root = { ...(user.root ?? { path: ctx.rootfs }), path: ctx.rootfs };
  const spec = executorSpec(proc, memoryLimit, component?.digest);
  const listen = tcpListenAddresses(user.annotations);
  if (listen) spec.tcpListen = listen;
  config.process = wrapProcess(proc, rt, spec);
  config.mounts = [...(user.mounts ?? []), runtimeMount(rt) as OciMount];
  if (component) config.mounts.push({ destination: COMPONENT_MOUNT, type: 'bind', source: component.dir, options: ['rbind', 'ro', 'nosuid', 'nodev'] });
  // A crun built with Wasm support (+WASM:wasmedge, as Fedora ships it) would act on these and run
  // the executor's loader as a Wasm module itself: such a crun (and any delegate hyrun cannot vouch
  // for) gets them removed; the user's bundle keeps them. A crun without it gets them unchanged, so
  // that its `state` is already the engine's view (lifecycle.ts, bin/hyrun).
  const keepAnnotations = ctx.delegate.kind === 'crun' && !crunHasWasmHandler(ctx.delegate);
  if (user.annotations && !keepAnnotations) {
    const { [ANNOTATION_VARIANT]: _v, [ANNOTATION_HANDLER]: _h, ...rest } = user.annotations;
    config.annotations = rest;
  }
  const data: WasmRecordData = { rootfs: ctx.rootfs, runtimeDir: rt.path, loader: rt.loader };
  if (memoryLimit !== undefined) data.memoryLimit = memoryLimit;
  if (component) data.componentDigest = component.digest;
  return { config, data };
}

/** A file of the rootfs, never through a symlink planted at its name since it was resolved (hyrun reads it as root). */
function readNoFollow(hostPath: string): Buffer {
  const fd = openSync(hostPath, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A WASI 0.2 component as the entrypoint (known by its header, whatever its name): transpiled now,
 * by this process, outside the container, into the host's cache (or found there: a cached create
 * transpiles nothing). The container could not do it: its runtime directory is read-only, it holds
 * no transpiler, and the image's rootfs is no place for hyrun's files. An entrypoint create cannot
 * see (in a volume) is not transpiled: the executor then says so.
 */
export async function transpileEntrypoint(config: OciSpec, rootfs: string, cacheDir = componentCacheDir()): Promise<TranspiledRef | undefined> {
  const found = resolveEntrypoint(config, rootfs);
  const head = found && readFileHead(found.hostPath, 8);
  if (!found || head === undefined || !isComponentHeader(head)) return undefined;
  // Lazy: a module's create never loads the component code.
  const { prepareComponent } = await import('../wasm/component.js');
  try {
    const { dir, digest } = await prepareComponent(config.process?.args?.[0] ?? found.guestPath, readNoFollow(found.hostPath), cacheDir);
    return { dir, digest };
  } catch (e) {
    if (e instanceof LaunchError) throw new HandlerError(e.message, e.exitCode);
    throw e;
  }
}

/**
 * V8 (node 20) reserves ~10 GiB of address space per Wasm memory for its guard regions (not RAM);
 * measured: with RLIMIT_AS at 10 GiB allocating a memory fails, at 11 GiB it works. Node 20 cannot
 * turn the guard regions off, so a smaller limit would only fail later with a cryptic message.
 */
export const MIN_ADDRESS_SPACE = 16 * 1024 * MiB;

function checkAddressSpace(proc: OciProcess): void {
  const as = (proc.rlimits ?? []).find((r) => r.type === 'RLIMIT_AS');
  if (!as) return;
  const soft = Number(as.soft);
  // 2^64-1 (RLIM_INFINITY) does not survive JSON as a number exactly: anything huge is "unlimited".
  if (!Number.isFinite(soft) || soft >= MIN_ADDRESS_SPACE) return;
  throw new HandlerError(`config.json: process.rlimits RLIMIT_AS (${soft} bytes) is too small for a Wasm container: the Wasm engine reserves about 10 GiB of address space (not memory) per instance; use at least ${MIN_ADDRESS_SPACE} or drop it, and cap memory with linux.resources.memory.limit`);
}

/**
 * A running executor has 12 threads (node's main, V8 platform and libuv threads, the guest's worker;
 * counted in /proc/PID/task). Below that node does not fail: it hangs in start-up, before its signal
 * handlers exist, so as PID 1 it ignores SIGTERM (observed with RLIMIT_NPROC 2 and 5; 10 failed,
 * 20 worked). RLIMIT_NPROC and the pids cgroup both count threads.
 */
export const MIN_THREADS = 32;

function checkThreads(config: OciSpec): void {
  const nproc = (config.process?.rlimits ?? []).find((r) => r.type === 'RLIMIT_NPROC');
  const pids = (config.linux?.resources as { pids?: { limit?: unknown } } | undefined)?.pids?.limit;
  const what = nproc && Number(nproc.soft) < MIN_THREADS ? `process.rlimits RLIMIT_NPROC (${nproc.soft})`
    : typeof pids === 'number' && pids > 0 && pids < MIN_THREADS ? `linux.resources.pids.limit (${pids})` : undefined;
  if (what) {
    throw new HandlerError(`config.json: ${what} is too small for a Wasm container: the executor (node) runs about 12 threads, each counted; use at least ${MIN_THREADS}`);
  }
}

/** Refuse at create time an entrypoint that is in the image but is not Wasm (126, like Podman). */
function checkEntrypoint(config: OciSpec, rootfs: string): void {
  const arg0 = config.process?.args?.[0] ?? '';
  const found = resolveEntrypoint(config, rootfs);
  if (!found) return; // maybe in a volume: the executor looks inside the container and says 127 if absent
  const kind = sniff(found.hostPath);
  if (kind === 'wasm' || kind === undefined) return;
  if (isWasmName(found.guestPath)) return; // .wat text, or a broken module: the executor reports it
  throw new HandlerError(notWasmMessage(arg0, kind), 126);
}

export const wasmHandler: Handler = {
  name: 'wasm',

  async prepare(ctx) {
    checkEntrypoint(ctx.config, ctx.rootfs);
    let rt: RuntimeDir;
    try {
      rt = ensureRuntimeDir();
      // Collected by another build's create between the two calls: made again, then ours.
      if (!useRuntimeDir(rt.path, ctx.stateDir)) {
        rt = ensureRuntimeDir();
        if (!useRuntimeDir(rt.path, ctx.stateDir)) throw new Error(`${rt.path} vanished twice while registering this container`);
      }
    } catch (error) {
      throw new HandlerError(`cannot prepare hyrun's runtime directory: ${(error as Error).message}`, 125);
    }
    try {
      collectRuntimeDirs(dirname(rt.path), rt.path);
    } catch {
      // Housekeeping only: the next create tries again.
    }
    collectComponentsDaily(dirname(rt.path));
    const component = await transpileEntrypoint(ctx.config, ctx.rootfs);
    const { config, data } = privateConfig(ctx, rt, component);
    const bundle = join(ctx.stateDir, 'bundle');
    // Private: the config carries the guest's environment (secrets, often).
    mkdirSync(bundle, { recursive: true, mode: 0o700 });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
    return { bundle, data: { ...data } };
  },

  async prepareExec(ctx: ExecContext) {
    const data = ctx.record.data as Partial<WasmRecordData> | undefined;
    const proc = ctx.process;
    const arg0 = proc.args?.[0];
    if (!data?.rootfs || !data.loader || !arg0) return proc;
    if (!isWasmName(arg0)) {
      // A Linux binary in the image (a debug shell, say) runs as usual; so does anything not found,
      // which the delegate reports in its own words.
      const found = resolveEntrypoint({ ociVersion: '1.0.0', process: proc }, data.rootfs);
      if (!found || sniff(found.hostPath) !== 'wasm') return proc;
    }
    // A new instance in the same container: the runtime dir is already mounted there.
    return wrapProcess(proc, { loader: data.loader }, executorSpec(proc, data.memoryLimit, data.componentDigest));
  },

  resourcesUpdated(record, update) {
    if (update.memoryLimit === undefined) return {};
    const data = { ...(record.data ?? {}) } as Partial<WasmRecordData> & Record<string, unknown>;
    const before = data.memoryLimit;
    const cap = update.memoryLimit > 0 ? linearMemoryCap(update.memoryLimit) : undefined;
    if (cap === undefined) delete data.memoryLimit;
    else data.memoryLimit = cap;
    const was = before === undefined ? 'no cap' : `${before} bytes`;
    const next = cap === undefined ? 'no cap' : `${cap} bytes`;
    return {
      warning: `container ${record.id}: the cgroup memory limit is updated, but the running Wasm guest's linear-memory cap (${was}) was fixed when it started; the new cap (${next}) applies from the next start (and to new exec processes)`,
      data,
    };
  },

  releaseFiles(record, stateDir) {
    const data = record.data as Partial<WasmRecordData> | undefined;
    return data?.runtimeDir ? [userFile(data.runtimeDir, stateDir)] : [];
  },

  async release(record, stateDir) {
    const data = record.data as Partial<WasmRecordData> | undefined;
    // The directory stays until a later create collects it (runtime-gc.ts).
    if (data?.runtimeDir) releaseRuntimeDir(data.runtimeDir, stateDir);
  },
};
