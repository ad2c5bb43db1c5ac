// V8 flags for Wasm, set once before the first compilation (they are process-wide).
// Measurements and the reasoning are in the comment on ENGINE_FLAGS.
import { setFlagsFromString } from 'node:v8';

/**
 * PLACEHOLDER until measured: skip Liftoff, so a hot loop inside a function entered once (V8 has
 * no on-stack replacement for Wasm) runs TurboFan code, and compile lazily, so big modules do not
 * pay eager TurboFan compilation of every function before `_start`.
 */
export const ENGINE_FLAGS = ['--no-liftoff', '--wasm-lazy-compilation'];

let applied = false;

export function applyEngineFlags(): void {
  if (applied) return;
  applied = true;
  if (process.env.HYRUN_V8_DEFAULTS === '1') return;
  for (const f of ENGINE_FLAGS) setFlagsFromString(f);
}
