// The guest's thread: instantiates the module the supervisor compiled, runs `_start`, reports how it
// ended. Bundled alone as dist/worker.cjs so it loads fast.
import { parentPort } from 'node:worker_threads';
import { WasiHost } from '../wasi/host.js';
import { IoBroker } from '../wasi/io-broker.js';
import { setupListeners } from '../wasi/socket.js';
import type { ResultMessage, StartMessage } from './protocol.js';
import { formatTrap, isTrap } from './trap.js';

const tracing = process.env.HYRUN_TRACE_STARTUP === '1';
const trace = (what: string): void => {
  if (tracing) process.stderr.write(`[startup] worker ${performance.now().toFixed(1)} ms (worker clock) ${what}\n`);
};
trace('bundle evaluated');

// Enough frames to name the trap's call chain; deep recursion is collapsed by formatTrap.
Error.stackTraceLimit = 24;

function run(msg: StartMessage): ResultMessage {
  const broker = msg.brokerPort && msg.brokerFlag ? new IoBroker(msg.brokerPort, msg.brokerFlag) : undefined;
  const host = new WasiHost({ ...msg.options, broker });
  try {
    setupListeners(host.context);
    const imports = host.importObject();
    let imported: WebAssembly.Memory | undefined;
    if (msg.memoryImport) {
      const m = msg.memoryImport;
      imported = new WebAssembly.Memory({ initial: m.initial, maximum: m.maximum, shared: m.shared });
      imports[m.module] = { ...(imports[m.module] ?? {}), [m.name]: imported };
    }
    trace('host ready');
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(msg.module, imports);
    } catch (e) {
      // Instantiation runs data/element segment initialisation, which can trap.
      if (isTrap(e)) return { type: 'trap', message: formatTrap(e, msg.exportNames) };
      return { type: 'error', message: `cannot instantiate the module: ${(e as Error).message}` };
    }
    const exported = instance.exports.memory;
    const memory = exported instanceof WebAssembly.Memory ? exported : imported;
    if (memory === undefined) return { type: 'error', message: 'the module has no memory' };
    host.context.bindMemory(memory);
    trace('instantiated');
    try {
      return { type: 'exit', code: WasiHost.start(instance) };
    } catch (e) {
      if (isTrap(e)) return { type: 'trap', message: formatTrap(e, msg.exportNames) };
      return { type: 'error', message: `WASI host failure: ${(e as Error)?.stack ?? String(e)}` };
    }
  } finally {
    host.dispose();
  }
}

// Tells the supervisor this thread has booted; only then does it change engine flags (flags.ts).
parentPort!.postMessage({ type: 'ready' });

parentPort!.once('message', (msg: StartMessage) => {
  trace('start message');
  let result: ResultMessage;
  try {
    result = run(msg);
  } catch (e) {
    result = { type: 'error', message: `WASI host failure: ${(e as Error)?.stack ?? String(e)}` };
  }
  parentPort!.postMessage(result);
});
