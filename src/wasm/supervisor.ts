// The guest on a worker thread, supervised from the main thread (executor.ts says when): the main
// thread compiles the module while the worker boots, owns the sockets (io-server.ts, through the io
// broker) and waits for the guest's result. Loaded only when a worker is needed.
import { existsSync, fstatSync } from 'node:fs';
import { MessageChannel, Worker } from 'node:worker_threads';
import { brokerFlag } from '../wasi/io-broker.js';
import { IoServer } from './io-server.js';
import { LaunchError, type WasmRunSpec } from './engine.js';
import type { RunOptions } from './executor.js';
import { loadModule } from './load.js';
import type { ResultMessage, StartMessage } from './protocol.js';

/**
 * The worker bundle sits next to the bundle that imports us (dist/hyrun.cjs, dist/executor.cjs, both
 * siblings of dist/worker.cjs); when running the per-file transpiled tree, it is worker.js beside us.
 */
function workerUrl(): URL {
  const bundled = new URL('./worker.cjs', import.meta.url);
  if (existsSync(bundled)) return bundled;
  return new URL('./worker.js', import.meta.url);
}

const isSocket = (fd: number): boolean => {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
};

interface Helpers {
  trace: (what: string) => void;
  statusOf: (r: ResultMessage, errFd: number) => number;
}

export async function runOnWorker(spec: WasmRunSpec, options: RunOptions, { trace, statusOf }: Helpers): Promise<number> {
  // Boot the worker first: its start-up overlaps reading and checking the module (and opening sockets).
  // trackUnmanagedFds off: the WASI host opens some descriptors through the addon (openat2), which
  // node never saw, and closes them itself; node's tracking would warn on each.
  const worker = new Worker(workerUrl(), { stdin: false, stdout: false, stderr: false, trackUnmanagedFds: false });
  worker.once('online', () => trace('worker online'));
  let result: ResultMessage | null = null;
  const ended = new Promise<ResultMessage>((resolve) => {
    worker.on('message', (m: ResultMessage | { type: 'ready' }) => {
      if (m.type === 'ready') trace('worker ready');
      else resolve((result = m));
    });
    worker.once('error', (e) => resolve({ type: 'error', message: `executor worker failed: ${e?.stack ?? e}` }));
    worker.once('exit', (code) => resolve(result ?? { type: 'error', message: `executor worker stopped (${code}) without a result` }));
  });
  const io = new IoServer();
  try {
    let loaded;
    const listeners: number[] = [];
    try {
      // The module is read, checked and compiled while the worker boots (V8's flags were given at
      // process start and never change, so the booting thread's code caches stay valid: flags.ts).
      const loading = loadModule(spec.module, spec.memoryLimit);
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
    return statusOf(r, options.stdio?.[2] ?? 2);
  } finally {
    io.close();
  }
}
