// The executor: runs one WASI command module and reports its exit status.
//
// The guest runs on a worker thread; this (main) thread supervises: it compiles the module while the
// worker boots, owns the sockets (io-broker.ts), handles signals and turns the guest's ending into an
// exit status: proc_exit(n) -> n, `_start` returning -> 0, a trap -> one `hyrun: wasm trap: …` line
// on stderr and 134 (as wasmtime's CLI does), a failure before the guest runs -> LaunchError.
import { existsSync, fstatSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import { brokerFlag } from '../wasi/io-broker.js';
import { IoServer } from './io-server.js';
import { LaunchError, type WasmRunSpec } from './engine.js';
import { takeEarlyWorker } from './early-worker.js';
import { loadModule } from './load.js';
import type { ResultMessage, StartMessage } from './protocol.js';

export { LaunchError, type WasmRunSpec } from './engine.js';

/** Exit status for a guest that trapped. */
export const TRAP_EXIT = 134;

/** Options for embedding the executor (tests, the in-container entry); the CLI needs none. */
export interface RunOptions {
  /** Host fds to use as the guest's 0, 1, 2 (default the process's own). */
  stdio?: [number, number, number];
  /** Called with the bound port of each --tcplisten socket once listening (useful with port 0). */
  onListening?: (ports: number[]) => void;
}

/**
 * The worker bundle sits next to the bundle that imports us (dist/hyrun.cjs, dist/executor.cjs, both
 * siblings of dist/worker.cjs); when running the per-file transpiled tree, it is worker.js beside us.
 */
function workerUrl(): URL {
  const bundled = new URL('./worker.cjs', import.meta.url);
  if (existsSync(bundled)) return bundled;
  return new URL('./worker.js', import.meta.url);
}

// HYRUN_TRACE_STARTUP=1 prints start-up milestones (ms since the process started) on stderr.
/**
 * The guest's thread. trackUnmanagedFds off: the WASI host opens some descriptors through the addon
 * (openat2), which node never saw, and closes them itself; node's tracking would warn on each.
 */
const WORKER_OPTIONS = { stdin: false, stdout: false, stderr: false, trackUnmanagedFds: false } as const;

const tracing = process.env.HYRUN_TRACE_STARTUP === '1';
const trace = (what: string): void => {
  if (tracing) writeSync(2, `[startup] ${performance.now().toFixed(1)} ms ${what}\n`);
};

const isSocket = (fd: number): boolean => {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
};

const stderrLine = (fd: number, text: string): void => {
  const line = Buffer.from(`hyrun: ${text.replace(/\n/g, ' ')}\n`);
  let off = 0;
  while (off < line.length) off += writeSync(fd, line, off);
};

/** Runs the module to completion and resolves to the guest's exit status; LaunchError when it cannot start. */
export async function runWasm(spec: WasmRunSpec, options: RunOptions = {}): Promise<number> {
  trace('runWasm');
  // Boot the worker first: its start-up overlaps reading and checking the module (and opening sockets).
  // bin/hyrun may have started it before the CLI even loaded (early-worker.ts).
  const early = takeEarlyWorker();
  const worker = early?.worker ?? new Worker(workerUrl(), WORKER_OPTIONS);
  worker.ref();
  if (tracing) worker.once('online', () => trace('worker online'));
  let result: ResultMessage | null = null;
  let booted!: () => void;
  const ready = new Promise<void>((resolve) => { booted = resolve; });
  const ended = new Promise<ResultMessage>((resolve) => {
    worker.on('message', (m: ResultMessage | { type: 'ready' }) => {
      if (m.type === 'ready') {
        trace('worker ready');
        booted();
      } else resolve((result = m));
    });
    worker.once('error', (e) => resolve({ type: 'error', message: `executor worker failed: ${e?.stack ?? e}` }));
    worker.once('exit', (code) => resolve(result ?? { type: 'error', message: `executor worker stopped (${code}) without a result` }));
    // What an early worker did before these listeners existed.
    if (early?.ready) booted();
    if (early?.error !== undefined) resolve({ type: 'error', message: `executor worker failed: ${(early.error as Error)?.stack ?? early.error}` });
    else if (early?.exit !== undefined) resolve({ type: 'error', message: `executor worker stopped (${early.exit}) without a result` });
  });
  const io = new IoServer();
  try {
    let loaded;
    const listeners: number[] = [];
    try {
      // The module is read, checked and (with flags that compiling restores) compiled while the
      // worker boots; flags set for good would make the booting thread's code caches unusable, so
      // then the compile waits for the boot (flags.ts).
      const loading = loadModule(spec.module, spec.memoryLimit, () => Promise.race([ready, ended.then(() => undefined)]));
      // Awaited below; this only keeps a failure from counting as unhandled while a listen is awaited.
      loading.catch(() => {});
      for (const address of spec.tcpListen ?? []) {
        try {
          listeners.push(await io.listen(address));
        } catch (e) {
          throw new LaunchError(`cannot listen on ${address}: ${(e as Error).message}`, 125);
        }
      }
      loaded = await loading;
      trace('module compiled');
    } catch (e) {
      void worker.terminate();
      throw e;
    }
    options.onListening?.(listeners.map((h) => io.boundPort(h)));
    const message: StartMessage = {
      module: loaded.module,
      memoryImport: loaded.memoryImport,
      exportNames: loaded.exportNames,
      options: {
        args: spec.args, env: spec.env, preopens: spec.preopens, hiddenPaths: spec.hiddenPaths,
        stdio: options.stdio, listeners,
      },
    };
    const transfer: any[] = [];
    const stdinIsSocket = isSocket(options.stdio?.[0] ?? 0);
    if (stdinIsSocket) io.serveStdin(options.stdio?.[0] ?? 0);
    if (listeners.length > 0 || stdinIsSocket) {
      const { port1, port2 } = new MessageChannel();
      const flag = brokerFlag();
      io.attach(port1, flag);
      message.brokerPort = port2;
      message.brokerFlag = flag;
      transfer.push(port2);
    }
    worker.postMessage(message, transfer);
    const r = await ended;
    trace('guest ended');
    await worker.terminate();
    const errFd = options.stdio?.[2] ?? 2;
    switch (r.type) {
      case 'exit': return r.code;
      case 'trap':
        stderrLine(errFd, r.message);
        return TRAP_EXIT;
      case 'error':
        stderrLine(errFd, r.message);
        return 125;
    }
  } finally {
    io.close();
  }
}

// SIGUSR1 too: without a JS listener node opens its inspector on 127.0.0.1:9229 (arbitrary JS for
// anyone on that loopback, outside the WASI sandbox). A guest cannot handle signals, so SIGUSR1 ends
// it with 138 as it would a native program without a handler.
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'] as const;
let handlersInstalled = false;

/**
 * Makes SIGTERM/SIGINT/SIGHUP/SIGUSR1 end the process at once with 128+signal. Installing handlers also
 * matters when the executor is PID 1 of a PID namespace, where the kernel drops signals that have
 * no handler. Exiting the process ends the worker even inside a tight guest loop.
 */
export function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of SIGNALS) process.on(sig, () => process.exit(128 + osConstants.signals[sig]));
}

/** Runs the module and exits the process with its status; LaunchErrors print one `hyrun:` line. */
export async function executeAndExit(spec: WasmRunSpec, options: RunOptions = {}): Promise<never> {
  installSignalHandlers();
  let code: number;
  try {
    code = await runWasm(spec, options);
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
