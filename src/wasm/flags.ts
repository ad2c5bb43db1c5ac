// Which V8 tier compiles the guest. V8's flags decide it, and hyrun gives them when node starts
// (bin/hyrun for the CLI, executorCommand() in runtime-dir.ts for the executor in containers), never
// by v8.setFlagsFromString at run time.
//
// Why at start: V8 derives state from its flags when it initialises (flag implications, what
// Liftoff records for TurboFan's inlining). V8 14 (node 26) aborts the whole process
// ("Check failed: function_feedback != feedback.feedback_for_function.end()", exit 133) when
// `--no-liftoff` is set at run time and TurboFan later compiles a function whose feedback Liftoff
// never collected: a guest could then kill its runtime at will. Flags on the command line are
// consistent from the first instruction; nothing in hyrun touches V8's flags afterwards.
//
// Why --no-liftoff: V8 has no on-stack replacement for Wasm: a function stays in the tier it was
// entered in for that call. Under V8's defaults (Liftoff first, TurboFan for functions called often)
// a hot loop in a function entered once (a C kernel inlined into main) runs Liftoff code for the
// whole run: matmul 9.6 s instead of 5.2 s. With --no-liftoff every function is compiled by
// TurboFan lazily, on its first call. The cost is start-up: a C hello spends ~45 ms more, mostly
// compiling libc's printf_core with TurboFan. V8 14's per-function tiers (the compilation-hints
// proposal's `metadata.code.compilation_priority`, read with --experimental-wasm-compilation-hints)
// were measured and rejected: they make V8 compile hinted functions eagerly (Liftoff, then TurboFan
// in the background, so whether a hot main runs TurboFan code is a race), and an asynchronous
// compile with them never settled in ~30% of runs (node 26.12). docs/v8-tiers.md has the numbers.
//
// Why --no-wasm-inlining: with every function going to TurboFan, inlining Wasm callees is most of
// what TurboFan spends on a C hello's libc (user time of a node:wasi hello under --no-liftoff: 92 ms
// with inlining, 66 ms without; `node -e 0` is 27 ms), and the compute kernels ran no slower without
// it (clang already inlined what matters): docs/v8-tiers.md.
//
// HYRUN_V8_FLAGS="…" replaces the flags (benchmarks); HYRUN_V8_DEFAULTS=1 starts node with none.
// bin/hyrun reads the same variables: the two must agree (test/unit/wasm-flags.test.ts checks).
import { moduleForEngine } from './binary.js';

/** The V8 flags every hyrun node process starts with (bin/hyrun says the same). */
export const HYRUN_ENGINE_FLAGS: readonly string[] = ['--no-liftoff', '--no-wasm-inlining'];

/** The flags a node process of hyrun is started with, given its environment. */
export function engineStartFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.HYRUN_V8_DEFAULTS === '1') return [];
  if (env.HYRUN_V8_FLAGS !== undefined) return env.HYRUN_V8_FLAGS.split(/\s+/).filter(Boolean);
  return [...HYRUN_ENGINE_FLAGS];
}

/**
 * Compiles the guest module: the engine's copy of it (binary.ts moduleForEngine: custom sections
 * other than `name` dropped), under whatever flags node started with.
 */
export function compileForEngine(bytes: Uint8Array): WebAssembly.Module {
  return new WebAssembly.Module(moduleForEngine(bytes));
}

/** compileForEngine on V8's background threads: the caller's thread goes on meanwhile. */
export function compileForEngineAsync(bytes: Uint8Array): Promise<WebAssembly.Module> {
  return WebAssembly.compile(moduleForEngine(bytes));
}
