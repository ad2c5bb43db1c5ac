// The executor: runs one WASI command module and reports its exit status: proc_exit(n) -> n,
// `_start` returning -> 0, a trap -> one `hyrun: wasm trap: …` line on stderr and 134 (as wasmtime's
// CLI does), a failure before the guest runs -> LaunchError.
//
// Which thread runs the guest (guestThread()):
// - PID 1 of a PID namespace (the executor of a Wasm container): the kernel drops signals that have
//   no handler there, and a JS handler could never run while the guest spins on the main thread.
//   With the addon, SIGTERM, SIGINT, SIGHUP and SIGUSR1 get a C handler that only calls
//   _exit(128+signal) (native.ts exitOnSignal): it needs no JS, so the guest runs on the main
//   thread, and the worker's boot (~30-40 ms of every container start, measured) is saved. Without
//   the addon the guest runs on a worker thread and the main thread supervises: it compiles the
//   module while the worker boots, owns the sockets (io-broker.ts) and turns signals into
//   128+signal from JS.
// - Anywhere else (`hyrun run` on the host, `exec` into a container): the guest runs on the main
//   thread, and SIGTERM, SIGINT and SIGHUP keep their default action, so the process dies of the
//   signal as a native program does. The exceptions, here and in containers, are sockets
//   (--tcplisten, or stdin being a socket): Node has no synchronous socket calls or readiness
//   checks, so they need the worker and the broker.
import { fstatSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { native } from '../wasi/native.js';
import { isComponentHeader, readFileHead } from './binary.js';
import { codeCacheStatus } from './code-cache.js';
import { LaunchError, networkAllowed, type WasmRunSpec } from './engine.js';
import { runGuest } from './guest.js';
import { loadModule, readModuleFile } from './load.js';
import type { ResultMessage } from './protocol.js';

export { LaunchError, type WasmRunSpec } from './engine.js';

/** Exit status for a guest that trapped. */
export const TRAP_EXIT = 134;

/** Options for embedding the executor (tests, the in-container entry); the CLI needs none. */
export interface RunOptions {
  /** Host fds to use as the guest's 0, 1, 2 (default the process's own). */
  stdio?: [number, number, number];
  /** Called with the bound port of each --tcplisten socket once listening (useful with port 0). */
  onListening?: (ports: number[]) => void;
  /** Where the guest runs; default guestThread(spec). */
  thread?: GuestThread;
}

export type GuestThread = 'main' | 'worker';

/**
 * The guest's thread (see the top of this file): a worker for sockets (--tcplisten, or a stdin
 * that is a socket, as Node's child_process gives: only the broker can wait on it without blocking
 * for good) and for PID 1 when signals cannot be handled in C (`cSignals` false: no addon), else
 * the main thread.
 */
export function guestThread(spec: Pick<WasmRunSpec, 'tcpListen'>, pid = process.pid, stdinIsSocket = false, cSignals = canExitOnSignalsInC()): GuestThread {
  if (stdinIsSocket || (spec.tcpListen !== undefined && spec.tcpListen.length > 0)) return 'worker';
  return pid === 1 && !cSignals ? 'worker' : 'main';
}

/** Whether the addon can make signals end the process from C (exitOnSignal). */
const canExitOnSignalsInC = (): boolean => typeof native()?.exitOnSignal === 'function';

const isSocket = (fd: number): boolean => {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
};

// HYRUN_TRACE_STARTUP=1 prints start-up milestones (ms since the process started) on stderr.
const tracing = process.env.HYRUN_TRACE_STARTUP === '1';
const trace = (what: string): void => {
  if (tracing) writeSync(2, `[startup] ${performance.now().toFixed(1)} ms ${what}\n`);
};

const stderrLine = (fd: number, text: string): void => {
  const line = Buffer.from(`hyrun: ${text.replace(/\n/g, ' ')}\n`);
  let off = 0;
  while (off < line.length) off += writeSync(fd, line, off);
};

/** How the guest ended, as an exit status (trap and host failure lines go to errFd). */
export function statusOf(r: ResultMessage, errFd: number): number {
  switch (r.type) {
    case 'exit': return r.code;
    case 'trap':
      stderrLine(errFd, r.message);
      return TRAP_EXIT;
    case 'error':
      stderrLine(errFd, r.message);
      return 125;
  }
}

/** Runs the module to completion and resolves to the guest's exit status; LaunchError when it cannot start. */
export async function runWasm(spec: WasmRunSpec, options: RunOptions = {}): Promise<number> {
  const head = readFileHead(spec.module, 8);
  if (head !== undefined && isComponentHeader(head)) return runComponentFile(spec, options);
  if (spec.serve) throw new LaunchError(`${spec.module} is a WebAssembly module (WASI preview1), not an HTTP component; hyrun serve serves components that export wasi:http/incoming-handler`, 126);
  const thread = options.thread ?? guestThread(spec, process.pid, isSocket(options.stdio?.[0] ?? 0));
  trace(`runWasm (code cache: ${codeCacheStatus()}; guest on the ${thread} thread)`);
  if (thread === 'main') {
    if (spec.tcpListen?.length) throw new LaunchError('--tcplisten needs the guest on a worker thread', 125);
    const loaded = await loadModule(spec.module, spec.memoryLimit);
    trace('module compiled');
    const r = runGuest({
      module: loaded.module, memoryImport: loaded.memoryImport, exportNames: loaded.exportNames,
      options: { args: spec.args, env: spec.env, preopens: spec.preopens, hiddenPaths: spec.hiddenPaths, stdio: options.stdio },
    }, undefined, trace);
    trace('guest ended');
    return statusOf(r, options.stdio?.[2] ?? 2);
  }
  // Lazy: worker_threads and node:net (the socket server) cost a main-thread run ~10 ms of start-up.
  const { runOnWorker } = await import('./supervisor.js');
  return runOnWorker(spec, options, { trace, statusOf });
}

/**
 * A WASI 0.2 component (detected by its header, whatever the file is called). A command component
 * runs on the main thread, which it holds until it ends. Its sockets (wasi:sockets) live on a net
 * thread (component.ts, net-thread.ts) that it reaches through the io broker; a socket stdin is
 * read blocking. An HTTP component (one that exports wasi:http/incoming-handler) is served
 * (http-serve.ts): on the serving thread, the main thread keeping the signals.
 */
async function runComponentFile(spec: WasmRunSpec, options: RunOptions): Promise<number> {
  // WASI 0.2 has no preopened sockets: a component binds and listens itself (wasi:sockets).
  if (spec.tcpListen?.length) throw new LaunchError(`--tcplisten is for WASI preview1 modules: ${spec.module} is a component, which listens itself with wasi:sockets (on the host give --allow-net)`, 125);
  // `hyrun serve`: the serving thread starts now, beside the reading of the component (first response sooner).
  const serving = spec.serve ? await import('./http-serve.js') : undefined;
  const early = serving?.startServingThread();
  // Lazy: modules never load the WASI 0.2 host. The transpiled form: a container's, made at its
  // create outside it (spec.transpiled), else from the cache; with neither, one line (transpiledFor).
  const { fileIdentity, runComponent, transpiledFor, isHttpComponent } = await import('./component.js');
  // The identity first, then the bytes: a write in between changes the identity, never the reverse.
  const identity = fileIdentity(spec.module);
  let made: Awaited<ReturnType<typeof transpiledFor>>;
  let bytes: Uint8Array;
  try {
    bytes = await readModuleFile(spec.module);
    made = await transpiledFor(spec.module, bytes, { cacheDir: spec.componentCache, prepared: spec.transpiled, identity });
  } catch (e) {
    if (early !== undefined) await serving!.stopServingThread(early);
    throw e;
  }
  if (isHttpComponent(made.meta.exports)) {
    trace(made.cached ? 'component from the transpile cache' : 'component transpiled');
    const { serveComponent } = serving ?? await import('./http-serve.js');
    return serveComponent(spec, made, options, trace, early);
  }
  if (early !== undefined) await serving!.stopServingThread(early);
  if (spec.serve) {
    throw new LaunchError(`${spec.module} is not an HTTP component: it exports no wasi:http/incoming-handler (its exports: ${made.meta.exports.filter((e) => e.includes(':')).join(', ') || 'none'}); run a command component with hyrun run`, 126);
  }
  const r = await runComponent({
    path: spec.module, bytes, cacheDir: spec.componentCache, memoryLimit: spec.memoryLimit,
    options: { args: spec.args, env: spec.env, preopens: spec.preopens, hiddenPaths: spec.hiddenPaths, stdio: options.stdio },
    allowNet: networkAllowed(spec), trace,
  }, made);
  trace('guest ended');
  return statusOf(r, options.stdio?.[2] ?? 2);
}

// SIGUSR1 too: without a JS listener node opens its inspector on 127.0.0.1:9229 (arbitrary JS for
// anyone on that loopback, outside the WASI sandbox). A guest cannot handle signals, so SIGUSR1 ends
// it as it would a native program without a handler.
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'] as const;
let handlersInstalled = false;

/**
 * For PID 1: makes SIGTERM/SIGINT/SIGHUP/SIGUSR1 end the process at once with 128+signal (the
 * kernel drops signals without a handler there). Exiting the process ends the worker even inside a
 * tight guest loop.
 */
export function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of SIGNALS) process.on(sig, () => process.exit(128 + osConstants.signals[sig]));
}

/**
 * SIGUSR1 back to its default action (the process dies of it), without a JS handler, which could
 * not run while the guest spins on the main thread. node 20 has no --disable-sigusr1 and replaces
 * inherited dispositions at start-up with its inspector's handler; a JS listener replaces that with
 * libuv's, and removing the last listener makes libuv put SIG_DFL back.
 */
export function defaultSigusr1(): void {
  const noop = (): void => {};
  process.on('SIGUSR1', noop);
  process.removeAllListeners('SIGUSR1');
}

/**
 * SIGTERM/SIGINT/SIGHUP/SIGUSR1 end the process with 128+signal from a C handler (the addon), which
 * works while the guest holds the main thread. False if one fails: the caller then installs JS
 * handlers, which replace any C handler already set.
 */
function exitOnSignalsInC(): boolean {
  const addon = native();
  if (typeof addon?.exitOnSignal !== 'function') return false;
  return SIGNALS.every((sig) => addon.exitOnSignal!(osConstants.signals[sig]) === 0);
}

/** Runs the module and exits the process with its status; LaunchErrors print one `hyrun:` line. */
export async function executeAndExit(spec: WasmRunSpec, options: RunOptions = {}): Promise<never> {
  let thread = options.thread ?? guestThread(spec, process.pid, isSocket(options.stdio?.[0] ?? 0));
  if (process.pid === 1) {
    // PID 1: every signal needs a handler. On the main thread only C handlers can act in time.
    if (thread !== 'main' || !exitOnSignalsInC()) {
      installSignalHandlers();
      thread = 'worker';
    }
  } else defaultSigusr1();
  let code: number;
  try {
    code = await runWasm(spec, { ...options, thread });
  } catch (e) {
    if (e instanceof LaunchError) {
      stderrLine(2, e.message);
      code = e.exitCode;
    } else {
      stderrLine(2, `internal error: ${(e as Error)?.stack ?? e}`);
      code = 125;
    }
  }
  // The low 8 bits, as the kernel keeps them for a native exit(n).
  process.exit(code & 0xff);
}
