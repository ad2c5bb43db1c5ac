// V8 flags for Wasm, chosen per module before it is compiled (V8 reads them at compile time; they
// are process-wide, and an executor process runs one module).
//
// Why: V8 has no on-stack replacement for Wasm. With its defaults (lazy compilation, Liftoff
// baseline, dynamic tier-up) a hot loop inside a function entered once — a C kernel inlined into
// main — runs Liftoff code for the whole run. So hyrun skips Liftoff (--no-liftoff): every function
// is compiled by TurboFan.
//  - Small modules (code section ≤ EAGER_LIMIT) are compiled eagerly (--no-wasm-lazy-compilation):
//    WebAssembly.compile runs TurboFan on V8's background threads while the worker thread boots, so
//    most of that cost hides behind the worker's start-up.
//  - Larger modules stay lazy (V8's default): TurboFan compiles each function on its first call, so a
//    module with megabytes of code pays only for the functions it runs.
//
// Measured on the 2-core dev machine (loaded by other jobs; `user` CPU time is the steadier number):
//   rt_matmul 800 (matrix multiply in main)   native 0.29 s user | V8 defaults 1.02 s | no-liftoff 0.45 s
//   rt_sort 3M (shell sort in main)           native 0.46 s user | V8 defaults 1.07 s | no-liftoff 0.66 s
//   WebAssembly.compile CPU, hello.wasm (24 KiB code):      lazy 1.4 ms | eager TurboFan 35 ms
//   WebAssembly.compile CPU, hello_rust.wasm (67 KiB code): lazy 4.5 ms | eager TurboFan 71 ms
//   hyrun run hello.wasm, user CPU: defaults ~120 ms | lazy TurboFan ~170 ms | eager TurboFan ~158 ms
//   hyrun run hello_rust.wasm, user CPU: defaults ~117 ms | lazy TurboFan ~173 ms | eager TurboFan ~159 ms
// TurboFan compiles roughly 0.7 KiB of code per CPU-ms here, so EAGER_LIMIT (128 KiB) bounds the
// eager cost to about 180 ms of CPU spread over the compile threads.
// Setting any of these flags changes V8's flag hash, and V8 then refuses the code caches Node ships
// for its built-in modules: a worker that boots after the change compiles its internals from source
// (measured: worker boot to first message 34 ms with pristine flags, 79–91 ms after --no-liftoff,
// and setting --liftoff back does not restore it). So the executor changes flags only once its worker
// has booted, and compiles after that (executor.ts).
// HYRUN_V8_FLAGS="…" replaces the choice (benchmarks); HYRUN_V8_DEFAULTS=1 keeps V8's defaults.
import { setFlagsFromString } from 'node:v8';
import { sections } from './binary.js';

/** Above this much code, eager TurboFan compilation would cost more than it hides. */
export const EAGER_LIMIT = 128 * 1024;

/** The flags for a module whose code section has codeBytes bytes. */
export function engineFlags(codeBytes: number): string[] {
  return codeBytes <= EAGER_LIMIT ? ['--no-liftoff', '--no-wasm-lazy-compilation'] : ['--no-liftoff', '--wasm-lazy-compilation'];
}

/** Size of the code section (id 10), 0 when absent or unreadable (the compiler reports real errors). */
export function codeSectionSize(bytes: Uint8Array): number {
  try {
    const code = sections(bytes).find((s) => s.id === 10);
    return code === undefined ? 0 : code.end - code.start;
  } catch {
    return 0;
  }
}

/** Sets the flags for this module; call right before compiling it. */
export function applyEngineFlags(bytes: Uint8Array): void {
  if (process.env.HYRUN_V8_DEFAULTS === '1') return;
  const override = process.env.HYRUN_V8_FLAGS;
  const flags = override !== undefined ? override.split(/\s+/).filter(Boolean) : engineFlags(codeSectionSize(bytes));
  for (const f of flags) setFlagsFromString(f);
}
