// Start-up suite: how long `hyrun run hello.wasm` takes end to end, next to bare Node and the
// minimal node:wasi runner, plus the 5.7 MB Rust hello (compile time dominates there), and
// wasmtime where it is installed.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Section } from '../run.js';
import { findWasmtime, fmtMs, fmtRatio, fmtTargetRatio, guestWasm, HYRUN, hyperfine, NODE_WASI, progress, repoRoot, WASMTIME_ABSENT, wasmtimeNote } from '../lib.js';

const RUNS = 20;
const TARGET = 1.3;

export async function run(): Promise<Section> {
  const hello = guestWasm('hello');
  const rust = guestWasm('hello_rust');
  const wasmtime = findWasmtime();
  const commands = [
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    { name: 'node:wasi runner, C hello', argv: NODE_WASI.argv(hello, []) },
    { name: 'hyrun run, C hello', argv: HYRUN.argv(hello, []) },
    { name: 'node:wasi runner, Rust hello', argv: NODE_WASI.argv(rust, []) },
    { name: 'hyrun run, Rust hello', argv: HYRUN.argv(rust, []) },
    // hyrun's WASI host and tier policy on the main thread without the CLI (what hyrun run now does
    // inside the CLI): the difference to hyrun run is the CLI's own cost.
    { name: 'main-thread prototype, C hello', argv: [process.execPath, join(repoRoot, 'dist/bench/main-thread-run.cjs'), hello] },
    ...(wasmtime ? [
      { name: 'wasmtime, C hello', argv: wasmtime.argv(hello, []) },
      { name: 'wasmtime, Rust hello', argv: wasmtime.argv(rust, []) },
    ] : []),
  ];
  progress(`hyperfine, ${RUNS} runs per command`);
  const secs = hyperfine(commands, RUNS);
  const ms = secs.map((s) => s * 1000);
  const [bare, nodeC, hyrunC, nodeRust, hyrunRust, mainC, wasmtimeC, wasmtimeRust] = ms as [number, number, number, number, number, number, number?, number?];
  const vsNodeWasi: Record<number, string> = { 2: fmtRatio(hyrunC / nodeC), 4: fmtRatio(hyrunRust / nodeRust), 5: fmtRatio(mainC / nodeC) };
  if (wasmtimeC !== undefined) vsNodeWasi[6] = fmtRatio(wasmtimeC / nodeC);
  if (wasmtimeRust !== undefined) vsNodeWasi[7] = fmtRatio(wasmtimeRust / nodeRust);
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
      `hyrun run runs the guest on the main thread (it is not PID 1 here; inside containers the executor keeps the worker thread). "main-thread prototype" (bench/main-thread-run.ts) is the same WASI host and tier policy without hyrun's CLI (bin/hyrun, argument parsing, checks): ${fmtMs(mainC)} ms (${fmtRatio(mainC / nodeC)} node:wasi) against hyrun run's ${fmtMs(hyrunC)} ms.`,
      wasmtime ? wasmtimeNote(wasmtime) : WASMTIME_ABSENT,
    ],
  };
}
