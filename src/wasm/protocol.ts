// Messages between the supervising thread (executor.ts) and the guest's worker (worker.ts).
import type { MessagePort } from 'node:worker_threads';
import type { WasiOptions } from '../wasi/context.js';
import type { MemoryImportPlan } from './load.js';

export interface StartMessage {
  module: WebAssembly.Module;
  options: Omit<WasiOptions, 'broker'>;
  memoryImport?: MemoryImportPlan;
  /** Function index -> export name, for naming trap frames the name section does not cover. */
  exportNames: Record<number, string>;
  /** The broker channel, present when the guest has sockets. */
  brokerPort?: MessagePort;
  brokerFlag?: Int32Array;
}

export type ResultMessage =
  | { type: 'exit'; code: number }
  | { type: 'trap'; message: string }
  | { type: 'error'; message: string };
