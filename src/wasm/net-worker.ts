// The net thread of a component with wasi:sockets (net-thread.ts starts it): its event loop owns
// the component's sockets (net-server.ts) and answers the guest's thread, which blocks on the io
// broker meanwhile. Bundled alone as dist/net-worker.cjs: it loads no WASI host.
import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { NetServer } from './net-server.js';

parentPort!.once('message', (msg: { port: MessagePort; flag: Int32Array }) => {
  const server = new NetServer();
  server.attach(msg.port, msg.flag);
  // A failure of this thread's own (a bug in an event handler) must not leave the guest blocked on
  // its request for good: it gets EIO (an `unknown` error code or a failed stream) instead.
  process.on('uncaughtException', () => server.failPending());
  parentPort!.postMessage('ready');
});
