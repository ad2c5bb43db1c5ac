// Instantiating the compiled guest and running its `_start`, on whichever thread runs the guest:
// the worker (worker.ts, when the executor is PID 1 of a container) or the executor's main thread
// (everywhere else, executor.ts). One place maps the ways a guest ends to a ResultMessage.
import { WasiHost } from '../wasi/host.js';
import { AddonRequiredError } from '../wasi/preopen.js';
import type { IoBroker } from '../wasi/io-broker.js';
import { setupListeners } from '../wasi/socket.js';
import type { ResultMessage, StartMessage } from './protocol.js';
import { formatTrap, isTrap } from './trap.js';

export type GuestStart = Pick<StartMessage, 'module' | 'options' | 'memoryImport' | 'exportNames'>;

/** Instantiates and runs the guest to its end (or a trap); never throws. */
export function runGuest(msg: GuestStart, broker?: IoBroker, trace?: (what: string) => void): ResultMessage {
  let host: WasiHost | undefined;
  try {
    host = new WasiHost({ ...msg.options, broker });
    setupListeners(host.context);
    const imports = host.importObject();
    let imported: WebAssembly.Memory | undefined;
    if (msg.memoryImport) {
      const m = msg.memoryImport;
      imported = new WebAssembly.Memory({ initial: m.initial, maximum: m.maximum, shared: m.shared });
      imports[m.module] = { ...(imports[m.module] ?? {}), [m.name]: imported };
    }
    trace?.('host ready');
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
    trace?.('instantiated');
    try {
      return { type: 'exit', code: WasiHost.start(instance) };
    } catch (e) {
      if (isTrap(e)) return { type: 'trap', message: formatTrap(e, msg.exportNames) };
      return { type: 'error', message: `WASI host failure: ${(e as Error)?.stack ?? String(e)}` };
    }
  } catch (e) {
    // A setup refusal the user can act on is one line, not a stack.
    if (e instanceof AddonRequiredError) return { type: 'error', message: e.message };
    return { type: 'error', message: `WASI host failure: ${(e as Error)?.stack ?? String(e)}` };
  } finally {
    host?.dispose();
  }
}
