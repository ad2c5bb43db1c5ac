// A worker thread bin/hyrun started before it loaded the CLI bundle, so that the worker's boot
// (~25 ms) overlaps loading the CLI and reading the module instead of following them. bin/hyrun
// (plain CommonJS) leaves it on globalThis; the executor adopts it at most once.
import type { Worker } from 'node:worker_threads';

export interface EarlyWorker {
  worker: Worker;
  /** The worker's 'ready' message arrived before the executor listened. */
  ready: boolean;
  /** It failed or ended before the executor listened. */
  error?: unknown;
  exit?: number;
}

const KEY = Symbol.for('hyrun.earlyWorker');

/** The early worker, if bin/hyrun started one and nobody took it yet. */
export function takeEarlyWorker(): EarlyWorker | undefined {
  const slot = globalThis as unknown as Record<symbol, EarlyWorker | undefined>;
  const early = slot[KEY];
  delete slot[KEY];
  return early;
}
