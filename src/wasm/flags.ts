// Which V8 tier compiles which guest function, set once per executor process before its module is
// compiled (V8 reads the flags at compile time; they are process-wide, and an executor process runs
// one module).
//
// Why: V8 has no on-stack replacement for Wasm. With its defaults (lazy compilation, Liftoff
// baseline, dynamic tier-up) a hot loop inside a function entered once — a C kernel inlined into
// main — runs Liftoff code for the whole run (~0.5× TurboFan speed). Compiling every function with
// TurboFan fixes that but costs start-up: a C hello spends ~20 ms of its ~30 ms of compilation on
// two libc functions, printf_core (9 KiB of code, 17 ms) and dlmalloc (7 KiB, 5 ms).
//
// The policy (V8 11, i.e. node 20): every function is compiled lazily, on its first call; functions
// up to LIFTOFF_ABOVE bytes of code start in TurboFan, bigger ones in Liftoff with V8's dynamic
// tier-up, which re-compiles them with TurboFan once they have run enough (later calls get it).
// The tier is chosen per function through V8's compilation-hints section, which hyrun adds to the
// module (binary.ts moduleForEngine) and which V8 reads only with
// --experimental-wasm-compilation-hints. Bench kernels' main functions are 0.9–1.9 KiB and the big
// ones are libc's, so kernels keep TurboFan speed while hello skips 20 ms of compilation. The cost:
// a function above the threshold whose single call runs a long hot loop stays in Liftoff, as every
// function does under V8's defaults. On other V8 versions (whose hints section, if any, may mean
// something else), hyrun compiles every function with TurboFan (--no-liftoff).
//
// Setting any flag changes V8's flag hash, and V8 then refuses the code caches Node ships for its
// built-in modules: a worker that boots after the change compiles its internals from source
// (measured: worker boot to first message 34 ms with pristine flags, 79–91 ms after a change;
// setting a flag back does not restore it). So the executor changes flags only once its worker has
// booted, and compiles after that (executor.ts). The first random_get after the change pays ~2 ms
// more for the same reason.
//
// Measured on the 2-core dev machine (hyperfine medians, `hyrun run`): C hello 89 ms with TurboFan
// for every function, 69 ms with this policy, 62 ms with V8's defaults; Rust hello 82 / 77 ms;
// sha256 and sort kernels unchanged (2.06 s, 1.36 s). Compute ratios: `npm run bench compute`.
//
// HYRUN_V8_FLAGS="…" replaces the flags (benchmarks; hints are added whenever the flags include
// --experimental-wasm-compilation-hints); HYRUN_V8_DEFAULTS=1 keeps V8's defaults.
import { setFlagsFromString } from 'node:v8';
import { moduleForEngine } from './binary.js';

const HINTS_FLAG = '--experimental-wasm-compilation-hints';

/** Functions with more bytes of code than this start in Liftoff (see above). */
export const LIFTOFF_ABOVE = 4096;

/** V8 11 reads the 2019 compilation-hints format hyrun writes. */
const hintsUnderstood = (): boolean => process.versions.v8.split('.')[0] === '11';

/** The flags hyrun sets for this V8. */
export function engineFlags(): string[] {
  return hintsUnderstood() ? ['--wasm-lazy-compilation', HINTS_FLAG] : ['--no-liftoff', '--wasm-lazy-compilation'];
}

let applied: string[] | null = null;

/**
 * Sets the engine flags (once) and returns the module bytes to compile (binary.ts moduleForEngine):
 * with tiering hints when the flags in force read them. Call right before compiling, after the
 * worker has booted.
 */
export function applyEngineFlags(bytes: Uint8Array): Uint8Array {
  if (process.env.HYRUN_V8_DEFAULTS === '1') return moduleForEngine(bytes);
  if (applied === null) {
    const override = process.env.HYRUN_V8_FLAGS;
    applied = override !== undefined ? override.split(/\s+/).filter(Boolean) : engineFlags();
    for (const f of applied) setFlagsFromString(f);
  }
  return moduleForEngine(bytes, applied.includes(HINTS_FLAG) ? LIFTOFF_ABOVE : undefined);
}
