// Which V8 tier compiles which guest function. V8's flags decide it; they are process-wide, and an
// executor process compiles one module.
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
// Those Liftoff functions tier up only after 100 times V8's default budget of work. With the default,
// a short program that runs a big function briefly at its end (printf_core formatting a result) sets
// off a ~40 ms TurboFan job in the background, and the process waits for that job when it exits
// (V8's platform threads are joined): the sha256 kernel's exit took ~30 ms instead of ~13 ms. Big
// functions that stay hot still get TurboFan, later.
//
// Setting any flag changes V8's flag hash, and V8 then refuses the code caches Node ships for its
// built-in modules: a thread that loads a built-in module after the change compiles it from source
// (measured: worker boot to first message 27–34 ms with pristine flags, 54–91 ms after a change).
// Setting the flags back restores the hash. So on V8 11 hyrun's flags are on only while the module
// is compiled (synchronously; the hints and the tiering budget are read then and kept by the
// module), and that compile need not wait for the worker's boot. The --no-liftoff fallback must stay set while functions are
// compiled lazily, so there the executor compiles only once its worker has booted (executor.ts),
// and built-ins loaded later pay the cost.
//
// Measured on the 2-core dev machine (hyperfine medians, `hyrun run`): C hello 89 ms with TurboFan
// for every function, 69 ms with this policy, 62 ms with V8's defaults; Rust hello 82 / 77 ms;
// sha256 and sort kernels unchanged (2.06 s, 1.36 s). Compute ratios: `npm run bench compute`.
//
// HYRUN_V8_FLAGS="…" replaces the flags, set for good (benchmarks; hints are added whenever they
// include --experimental-wasm-compilation-hints); HYRUN_V8_DEFAULTS=1 keeps V8's defaults.
import { setFlagsFromString } from 'node:v8';
import { moduleForEngine } from './binary.js';

const HINTS_FLAG = '--experimental-wasm-compilation-hints';

/** Functions with more bytes of code than this start in Liftoff (see above). */
export const LIFTOFF_ABOVE = 4096;

/**
 * At most this much code (bytes, smallest functions first) starts in TurboFan; bigger functions
 * beyond it start in Liftoff. Every TurboFan-first function is compiled by TurboFan on its first
 * call, and a program whose first calls reach hundreds of small functions (Rust's std: hello
 * calls ~300) would pay for all of them: hello_rust spent ~53 ms of CPU with 4096 for all, ~38 ms
 * with only functions under 256 bytes in TurboFan (node:wasi, V8's defaults: ~32 ms). The C
 * kernels and hellos have 7–16 KiB of functions under LIFTOFF_ABOVE, so the budget leaves them as
 * they were; hello_rust (60 KiB of them) gets TurboFan for functions up to ~380 bytes. The cost:
 * in such a big program, a mid-sized function entered once with a hot loop runs Liftoff code.
 */
export const TURBOFAN_FIRST_BUDGET = 24 * 1024;

/** A flag hyrun sets, and (when known) the flag that puts V8's default back. */
interface EngineFlag { set: string; restore?: string }

const HINTS: EngineFlag = { set: HINTS_FLAG, restore: '--no-experimental-wasm-compilation-hints' };
// 100 × V8 11.3's default (1,800,000), which restore must name exactly to give back the same hash.
const BUDGET: EngineFlag = { set: '--wasm-tiering-budget=180000000', restore: '--wasm-tiering-budget=1800000' };

/** V8 11 reads the 2019 compilation-hints format hyrun writes (and compiles lazily by default). */
const hintsUnderstood = (): boolean => process.versions.v8.split('.')[0] === '11';

function policy(): EngineFlag[] {
  if (!hintsUnderstood()) return [{ set: '--no-liftoff' }, { set: '--wasm-lazy-compilation' }];
  return process.versions.v8.startsWith('11.3.') ? [HINTS, BUDGET] : [HINTS];
}

/** The flags hyrun compiles with on this V8. */
export const engineFlags = (): string[] => policy().map((f) => f.set);

function plan(): EngineFlag[] {
  if (process.env.HYRUN_V8_DEFAULTS === '1') return [];
  const override = process.env.HYRUN_V8_FLAGS;
  if (override !== undefined) return override.split(/\s+/).filter(Boolean).map((set) => ({ set }));
  return policy();
}

/** Whether compiling changes V8's flags for good, so the worker must have booted before (see above). */
export const compileNeedsBootedWorker = (): boolean => plan().some((f) => f.restore === undefined);

let setForGood = false;

/**
 * Compiles the guest module under hyrun's tier policy: the engine's copy of the module
 * (binary.ts moduleForEngine, with tiering hints when the flags read them), with the flags set for
 * the compile and restored after it where that is possible.
 */
export function compileForEngine(bytes: Uint8Array, liftoffAbove = LIFTOFF_ABOVE): WebAssembly.Module {
  const flags = plan();
  const engineBytes = moduleForEngine(bytes, flags.some((f) => f.set === HINTS_FLAG) ? liftoffAbove : undefined, TURBOFAN_FIRST_BUDGET);
  if (flags.every((f) => f.restore !== undefined)) {
    for (const f of flags) setFlagsFromString(f.set);
    try {
      return new WebAssembly.Module(engineBytes);
    } finally {
      for (const f of flags) setFlagsFromString(f.restore!);
    }
  }
  if (!setForGood) {
    for (const f of flags) setFlagsFromString(f.set);
    setForGood = true;
  }
  return new WebAssembly.Module(engineBytes);
}
