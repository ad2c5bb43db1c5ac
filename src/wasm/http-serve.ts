// Serving an HTTP component (`hyrun serve`, `hyrun run` of a component that exports
// wasi:http/incoming-handler, and a Wasm container whose module is one): the serving thread
// (http-serve-worker.ts) listens and runs the guests; this, the main thread, starts it, reports
// where it listens, and owns the signals: SIGTERM or SIGINT stops accepting, lets the requests under
// way finish within the grace period, and exits 0. A guest that does not finish in time (one that
// spins) is stopped with its thread: the main thread never runs guest code, so it always can, and
// as PID 1 of a container too (a JS handler is installed, so the kernel delivers the signal).
import { existsSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Cached } from './component.js';
import { DEFAULT_HTTP_ADDR, LaunchError, networkAllowed, type WasmRunSpec } from './engine.js';
import type { RunOptions } from './executor.js';
import type { ServeOrder, ServeReport, ServeStart } from './http-serve-worker.js';

/** How long in-flight requests may take after SIGTERM; HYRUN_SERVE_GRACE_MS overrides (below engines' own 10 s). */
const DEFAULT_GRACE_MS = 8000;

/** `HOST:PORT` (`[v6]:PORT` for IPv6) split, or a LaunchError saying how to write it. */
export function parseAddr(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new LaunchError(`--addr '${text}' is not HOST:PORT; write e.g. 0.0.0.0:8080 or 127.0.0.1:8080`, 125);
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!), port };
}

/** The serving thread's bundle beside the bundle that imports us, or its per-file build beside this file (tests). */
function workerUrl(): URL {
  const bundled = new URL('./http-worker.cjs', import.meta.url);
  if (existsSync(bundled)) return bundled;
  return new URL('./http-serve-worker.js', import.meta.url);
}

/**
 * The serving thread's young generation, at most (V8 grows it only as allocation asks). A fresh
 * instance per request is ~230 KB of the glue's objects, which the instance's Wasm side keeps alive
 * through a scavenge: a larger young generation scavenges (copies them) less often. Measured on the
 * C handler under load: +25-30% requests/s with 256 MB against V8's default, resident memory alike.
 */
const SERVING_YOUNG_GENERATION_MB = 256;

/**
 * At most this many serving threads unless HYRUN_SERVE_THREADS says more: each is a V8 isolate of
 * its own (~17 MB resident, measured with the C handler), and a node with many CPUs would otherwise
 * give every HTTP pod that many.
 */
const DEFAULT_MAX_THREADS = 4;

/**
 * How many threads serve: one per CPU the process may run on (as wasmtime serve's runtime sizes
 * itself), at most DEFAULT_MAX_THREADS; or HYRUN_SERVE_THREADS. Each listens on the same address;
 * the kernel spreads connections over them.
 */
export function servingThreads(): number {
  const given = Number(process.env.HYRUN_SERVE_THREADS);
  if (process.env.HYRUN_SERVE_THREADS !== undefined && Number.isInteger(given) && given >= 1) return Math.min(given, 64);
  return Math.max(1, Math.min(availableParallelism(), DEFAULT_MAX_THREADS));
}

/** When the other serving threads start if the first one has had no request to answer yet. */
const JOIN_AFTER_MS = 1000;

function graceMs(): number {
  const given = Number(process.env.HYRUN_SERVE_GRACE_MS);
  return Number.isFinite(given) && given >= 0 && process.env.HYRUN_SERVE_GRACE_MS !== '' ? given : DEFAULT_GRACE_MS;
}

/** The serving thread, started ahead of its start order; what it did before anyone listened is kept. */
export interface ServingThread {
  worker: Worker;
  failure?: unknown;
  exited: boolean;
}

/**
 * Starts the serving thread now, before the component is read and its cache looked up: the thread's
 * own start (~50 ms: a node environment and its bundle) then runs beside the main thread's. The
 * caller either serves with it (serveComponent) or ends it (stopServingThread).
 */
export function startServingThread(): ServingThread {
  // trackUnmanagedFds off: the WASI host opens descriptors through the addon and closes them itself.
  const worker = new Worker(workerUrl(), {
    stdin: false, stdout: false, stderr: false, trackUnmanagedFds: false, resourceLimits: { maxYoungGenerationSizeMb: SERVING_YOUNG_GENERATION_MB },
  });
  const thread: ServingThread = { worker, exited: false };
  worker.once('error', (e) => { thread.failure ??= e; });
  worker.once('exit', () => { thread.exited = true; });
  return thread;
}

/** Ends a serving thread that will not serve (the file is no HTTP component, or cannot be read). */
export async function stopServingThread(thread: ServingThread): Promise<void> {
  await thread.worker.terminate();
}

/**
 * Serves until SIGTERM/SIGINT; resolves to the exit status, LaunchError when it cannot start. The
 * first thread (started early by the caller) listens first; the others join it on the port it got.
 */
export function serveComponent(spec: WasmRunSpec, made: Cached, options: RunOptions, trace: (what: string) => void,
  thread: ServingThread = startServingThread()): Promise<number> {
  const { host, port } = parseAddr(spec.httpAddr ?? DEFAULT_HTTP_ADDR);
  const errFd = options.stdio?.[2] ?? 2;
  const say = (text: string): void => {
    const line = Buffer.from(`hyrun: ${text}\n`);
    let off = 0;
    while (off < line.length) off += writeSync(errFd, line, off);
  };
  const count = servingThreads();
  const start: ServeStart = {
    path: spec.module, dir: made.dir, meta: made.meta, memoryLimit: spec.memoryLimit, host, port,
    allowNet: networkAllowed(spec), reuse: spec.instanceReuse === true, reusePort: count > 1,
    options: { args: spec.args, env: spec.env, preopens: spec.preopens, hiddenPaths: spec.hiddenPaths, stdio: options.stdio },
  };
  /** The threads serving (or about to); one that could not join is dropped from it. */
  const threads = new Set<ServingThread>([thread]);
  const drained = new Set<ServingThread>();
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    let stopping = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (code: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(graceTimer);
      clearTimeout(joinTimer);
      for (const sig of ['SIGTERM', 'SIGINT'] as const) process.removeListener(sig, stop);
      void Promise.all([...threads].map((t) => t.worker.terminate())).then(() => resolve(code));
    };
    const allDrained = (): boolean => [...threads].every((t) => drained.has(t));
    const stop = (): void => {
      if (stopping) {
        // A second signal: no more waiting.
        say('stopped at once (second signal)');
        finish(0);
        return;
      }
      stopping = true;
      trace('serve: draining');
      for (const t of threads) t.worker.postMessage({ type: 'drain' } satisfies ServeOrder);
      graceTimer = setTimeout(() => {
        say(`requests still running after the grace period (${graceMs()} ms) were stopped`);
        finish(0);
      }, graceMs());
    };
    let joinTimer: NodeJS.Timeout | undefined;
    let listeningPort = port;
    const startOthers = (s: ServeStart): void => {
      joinTimer = undefined;
      if (settled || stopping) return;
      for (let i = 1; i < count; i++) {
        const extra = startServingThread();
        threads.add(extra);
        follow(extra, { ...s, port: listeningPort }, false);
      }
    };
    /** Starts thread `t` on `s` and follows what it reports; `first`: the thread whose listening starts the others. */
    const follow = (t: ServingThread, s: ServeStart, first: boolean): void => {
      const { worker } = t;
      worker.on('message', (m: ServeReport) => {
        switch (m.type) {
          case 'listening':
            if (!first) {
              trace('serve: another thread listening');
              break;
            }
            trace('serve: listening');
            // Ours replace the C handlers a PID 1 executor installs (they would end the process at once).
            for (const sig of ['SIGTERM', 'SIGINT'] as const) {
              process.removeAllListeners(sig);
              process.on(sig, stop);
            }
            say(`serving HTTP on http://${host.includes(':') ? `[${host}]` : host}:${m.port}/`);
            options.onListening?.([m.port]);
            // The others start once this one has answered (or after a while without requests): their
            // start would otherwise share the CPU with the first response.
            listeningPort = m.port;
            if (count > 1) joinTimer = setTimeout(() => startOthers(s), JOIN_AFTER_MS);
            break;
          case 'answered':
            if (first && joinTimer !== undefined) {
              clearTimeout(joinTimer);
              startOthers(s);
            }
            break;
          case 'refused':
            if (!first) {
              // The first thread serves on alone.
              trace(`serve: another thread could not serve: ${m.message}`);
              threads.delete(t);
              worker.removeAllListeners('exit');
              worker.removeAllListeners('error');
              void worker.terminate();
              if (stopping && allDrained()) finish(0);
              break;
            }
            settled = true;
            for (const other of threads) void other.worker.terminate();
            reject(new LaunchError(m.message, m.code));
            break;
          case 'drained':
            drained.add(t);
            if (allDrained()) finish(0);
            break;
        }
      });
      const failed = (e: unknown): void => {
        if (settled) return;
        say(`the HTTP serving thread failed: ${(e as Error)?.stack ?? e}`.replace(/\n/g, ' '));
        finish(125);
      };
      const exited = (): void => {
        if (settled) return;
        say('the HTTP serving thread stopped unexpectedly');
        finish(125);
      };
      // It may have failed already, before anyone listened.
      if (t.failure !== undefined) failed(t.failure);
      else if (t.exited) exited();
      else {
        worker.once('error', failed);
        worker.once('exit', exited);
        worker.postMessage({ type: 'start', start: s } satisfies ServeOrder);
      }
    };
    follow(thread, start, true);
  });
}
