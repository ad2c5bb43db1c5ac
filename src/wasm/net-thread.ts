// Starts the net thread for a component that imports wasi:sockets (component.ts): a worker whose
// event loop owns the sockets (net-worker.ts, net-server.ts), while the guest keeps the main thread
// and blocks on the io broker for each socket call (docs/architecture.md, "Asynchrony", says why
// this and not JSPI). Loaded only for such components: worker_threads costs start-up.
import { existsSync } from 'node:fs';
import { MessageChannel, Worker } from 'node:worker_threads';
import { brokerFlag, IoBroker } from '../wasi/io-broker.js';

export interface NetThread {
  broker: IoBroker;
  stop(): Promise<void>;
}

/** dist/net-worker.cjs beside the bundle that imports us, else net-worker.js beside this file (the per-file build: tests). */
function netWorkerUrl(): URL {
  const bundled = new URL('./net-worker.cjs', import.meta.url);
  return existsSync(bundled) ? bundled : new URL('./net-worker.js', import.meta.url);
}

export async function startNetThread(): Promise<NetThread> {
  // trackUnmanagedFds off, as for the guest's worker (supervisor.ts); no stdio: it writes nothing.
  const worker = new Worker(netWorkerUrl(), { stdin: false, stdout: false, stderr: false, trackUnmanagedFds: false });
  const { port1, port2 } = new MessageChannel();
  const flag = brokerFlag();
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => {
      worker.off('error', reject);
      resolve();
    });
    worker.postMessage({ port: port2, flag }, [port2]);
  });
  // Neither may keep the process alive once the guest has ended.
  worker.unref();
  port1.unref();
  return { broker: new IoBroker(port1, flag), stop: async () => { port1.close(); await worker.terminate(); } };
}
