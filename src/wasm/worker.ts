// The guest's thread when the executor is PID 1 of a container (executor.ts says why): runs the
// module the supervisor compiled (guest.ts) and reports how it ended. Bundled alone as
// dist/worker.cjs so it loads fast.
import { parentPort } from 'node:worker_threads';
import { IoBroker } from '../wasi/io-broker.js';
import { codeCacheStatus, writeCodeCacheForTraining } from './code-cache.js';
import { runGuest } from './guest.js';
import type { StartMessage } from './protocol.js';

const tracing = process.env.HYRUN_TRACE_STARTUP === '1';
const trace = (what: string): void => {
  if (tracing) process.stderr.write(`[startup] worker ${performance.now().toFixed(1)} ms (worker clock) ${what}\n`);
};
trace(`bundle evaluated (code cache: ${codeCacheStatus()})`);

// Enough frames to name the trap's call chain; deep recursion is collapsed by formatTrap.
Error.stackTraceLimit = 24;

// Tells the supervisor this thread has booted (its trace shows the boot time).
parentPort!.postMessage({ type: 'ready' });

parentPort!.once('message', (msg: StartMessage) => {
  trace('start message');
  const broker = msg.brokerPort && msg.brokerFlag ? new IoBroker(msg.brokerPort, msg.brokerFlag) : undefined;
  const result = runGuest(msg, broker, trace);
  writeCodeCacheForTraining(); // the build's training run only (code-cache.ts)
  parentPort!.postMessage(result);
});
