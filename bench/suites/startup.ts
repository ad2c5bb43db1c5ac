// Start-up suite: how long `hyrun run hello.wasm` takes end to end, next to bare Node and the
// minimal node:wasi runner, plus the 5.7 MB Rust hello (compile time dominates there), and
// wasmtime where it is installed.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Section } from '../run.js';
import { HYRUN_ENGINE_FLAGS } from '../../src/wasm/flags.js';
import { findWasmtime, fmtMs, fmtRatio, fmtTargetRatio, guestWasm, HYRUN, hyperfine, NODE_WASI, progress, repoRoot, WASMTIME_ABSENT, wasmtimeNote } from '../lib.js';

const RUNS = 20;
const TARGET = 1.3;

export async function run(): Promise<Section> {
  const hello = guestWasm('hello');
  const rust = guestWasm('hello_rust');
  const wasmtime = findWasmtime();
  // node:wasi with hyrun's V8 flags (--no-liftoff …, the tier policy: src/wasm/flags.ts): the floor
  // any runner pays for TurboFan-only code, so the policy's share of the gap shows apart from hyrun's own.
  const withPolicy = (argv: string[]): string[] => [argv[0]!, ...HYRUN_ENGINE_FLAGS, ...argv.slice(1)];
  const commands = [
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    { name: 'node:wasi runner, C hello', argv: NODE_WASI.argv(hello, []) },
    { name: 'hyrun run, C hello', argv: HYRUN.argv(hello, []) },
    { name: 'node:wasi runner, Rust hello', argv: NODE_WASI.argv(rust, []) },
    { name: 'hyrun run, Rust hello', argv: HYRUN.argv(rust, []) },
    // hyrun's WASI host and tier policy on the main thread without the CLI (what hyrun run does
    // inside the CLI): the difference to hyrun run is the CLI's own cost.
    { name: 'main-thread prototype, C hello', argv: withPolicy([process.execPath, join(repoRoot, 'dist/bench/main-thread-run.cjs'), hello]) },
    { name: 'node:wasi runner with hyrun\'s V8 flags, C hello', argv: withPolicy(NODE_WASI.argv(hello, [])) },
    { name: 'node:wasi runner with hyrun\'s V8 flags, Rust hello', argv: withPolicy(NODE_WASI.argv(rust, [])) },
    ...(wasmtime ? [
      { name: 'wasmtime, C hello', argv: wasmtime.argv(hello, []) },
      { name: 'wasmtime, Rust hello', argv: wasmtime.argv(rust, []) },
    ] : []),
  ];
  progress(`hyperfine, ${RUNS} runs per command`);
  const secs = hyperfine(commands, RUNS);
  const ms = secs.map((s) => s * 1000);
  const [bare, nodeC, hyrunC, nodeRust, hyrunRust, mainC, policyC, policyRust, wasmtimeC, wasmtimeRust] = ms as [number, number, number, number, number, number, number, number, number?, number?];
  const vsNodeWasi: Record<number, string> = { 2: fmtRatio(hyrunC / nodeC), 4: fmtRatio(hyrunRust / nodeRust), 5: fmtRatio(mainC / nodeC), 6: fmtRatio(policyC / nodeC), 7: fmtRatio(policyRust / nodeRust) };
  if (wasmtimeC !== undefined) vsNodeWasi[8] = fmtRatio(wasmtimeC / nodeC);
  if (wasmtimeRust !== undefined) vsNodeWasi[9] = fmtRatio(wasmtimeRust / nodeRust);
  const rows = commands.map((c, i) => [c.name, fmtMs(ms[i]!), fmtRatio(ms[i]! / bare), vsNodeWasi[i] ?? '']);
  const ratio = hyrunC / nodeC;
  const ratioRust = hyrunRust / nodeRust;
  const kb = (p: string): string => `${(statSync(p).size / 1024).toFixed(0)} KiB`;
  return {
    title: 'Start-up: time to run a hello world',
    method: `hyperfine -N (no shell), ${RUNS} runs after 3 warm-ups, median. Ratios here are times (lower is better): "× node -e 0" against bare Node, "× node:wasi" against the minimal node:wasi runner (bench/node-wasi-run.ts) on the same module. C hello: build/guests/hello.wasm (${kb(hello)}); Rust hello: build/guests/hello_rust.wasm (${kb(rust)}).`,
    columns: ['command', 'median ms', '× node -e 0', '× node:wasi'],
    rows,
    targets: [
      { description: `hyrun run (C hello) ≤ ${TARGET}× the node:wasi runner`, measured: fmtTargetRatio(ratio), met: ratio <= TARGET },
      { description: `hyrun run (Rust hello) ≤ ${TARGET}× the node:wasi runner`, measured: fmtTargetRatio(ratioRust), met: ratioRust <= TARGET },
    ],
    notes: [
      `Rust hello under hyrun: ${fmtMs(hyrunRust)} ms (node:wasi runner: ${fmtMs(nodeRust)} ms).`,
      `hyrun run runs the guest on the main thread (it is not PID 1 here). "main-thread prototype" (bench/main-thread-run.ts) is the same WASI host and V8 flags without hyrun's CLI (bin/hyrun, argument parsing, checks): ${fmtMs(mainC)} ms against hyrun run's ${fmtMs(hyrunC)} ms.`,
      `The tier policy's share: the node:wasi runner itself, given hyrun's V8 flags (${HYRUN_ENGINE_FLAGS.join(' ')}), takes ${fmtMs(policyC)} ms for the C hello (${fmtRatio(policyC / nodeC)} itself with V8's defaults) and ${fmtMs(policyRust)} ms for Rust (${fmtRatio(policyRust / nodeRust)}); hyrun run against that floor: C ${fmtRatio(hyrunC / policyC)}, Rust ${fmtRatio(hyrunRust / policyRust)}. While the floor is above ${TARGET}×, the target contradicts the policy: V8 has no on-stack replacement for Wasm, so compute needs TurboFan from the first call (docs/v8-tiers.md).`,
      wasmtime ? wasmtimeNote(wasmtime) : WASMTIME_ABSENT,
    ],
  };
}
