// V8 flags for Wasm, set once per executor process before its module is compiled (V8 reads them at
// compile time; they are process-wide, and an executor process runs one module).
//
// Why: V8 has no on-stack replacement for Wasm. With its defaults (lazy compilation, Liftoff
// baseline, dynamic tier-up) a hot loop inside a function entered once — a C kernel inlined into
// main — runs Liftoff code for the whole run. So hyrun skips Liftoff (--no-liftoff): every function
// is compiled by TurboFan, lazily (--wasm-lazy-compilation, already V8 11.3's default), i.e. on its
// first call, so a module with megabytes of code pays only for the functions it runs.
//
// Setting any flag changes V8's flag hash, and V8 then refuses the code caches Node ships for its
// built-in modules: a worker that boots after the change compiles its internals from source
// (measured: worker boot to first message 34 ms with pristine flags, 79–91 ms after --no-liftoff;
// setting --liftoff back does not restore it). So the executor changes flags only once its worker has
// booted, and compiles after that (executor.ts). The first random_get after the change pays ~2 ms
// more for the same reason.
//
// Measured on the 2-core dev machine (other jobs running; min/median of interleaved runs, or user CPU):
//   compute, whole process (bench/kernels, `npm run bench compute`), hyrun vs native:
//     sha256 0.81×, nbody 0.96×, sort 0.79×, matmul 0.35× (native SSE2 vectors; no SIMD in the Wasm
//     build), geo-mean 0.68×; the same kernels under V8's defaults (node:wasi): geo-mean 0.48×.
//   rt_matmul 800 (user CPU): native 0.29 s | V8 defaults 1.02 s | TurboFan 0.45 s
//   rt_sort 3M (user CPU):    native 0.46 s | V8 defaults 1.07 s | TurboFan 0.66 s
//   start-up, `hyrun run` wall min/median ms (node:wasi runner on the same module 72.6/78.6 for C,
//   78.5/84.9 for Rust):
//     C hello:    V8 defaults 123/132 | lazy TurboFan 150/164 | eager TurboFan 156/166
//     Rust hello: V8 defaults 129/132 | lazy TurboFan 145/151 | eager TurboFan 178/186
//   WebAssembly.compile alone, CPU: hello.wasm (24 KiB code) lazy 1.4 ms, eager TurboFan 35 ms;
//   hello_rust.wasm (67 KiB code) lazy 4.5 ms, eager TurboFan 71 ms.
// Lazy TurboFan costs start-up ~20–30 ms over V8's defaults and buys 1.4–2.3× on hot loops; eager
// TurboFan no longer hides behind the worker's boot (see above), so lazy wins everywhere.
//
// HYRUN_V8_FLAGS="…" replaces the flags (benchmarks); HYRUN_V8_DEFAULTS=1 keeps V8's defaults.
import { setFlagsFromString } from 'node:v8';

export const ENGINE_FLAGS = ['--no-liftoff', '--wasm-lazy-compilation'];

let applied = false;

/** Sets the engine flags (once); call right before compiling, after the worker has booted. */
export function applyEngineFlags(_bytes?: Uint8Array): void {
  if (applied || process.env.HYRUN_V8_DEFAULTS === '1') return;
  applied = true;
  const override = process.env.HYRUN_V8_FLAGS;
  for (const f of override !== undefined ? override.split(/\s+/).filter(Boolean) : ENGINE_FLAGS) setFlagsFromString(f);
}
