// Compute suite: C kernels (bench/kernels/k_*.c) built by clang-14 -O2 natively and for
// wasm32-wasi, timed as whole processes: native vs `hyrun run` vs the minimal node:wasi runner.
import type { Section } from '../run.js';
import { benchNative, benchWasm, findWasmtime, fmtMs, fmtRatio, fmtTargetRatio, geomean, HYRUN, median, NATIVE, NODE_WASI, progress, timeOnce, WASMTIME_ABSENT, wasmtimeNote, type Engine } from '../lib.js';

const RUNS = 7;
const TARGET = 0.75; // issue 15 §4


// Arguments size each kernel to roughly 1–2 s natively on the 2-core reference machine, so that
// start-up (a few hundred ms, measured by the start-up suite) is a small share of each time.
const KERNELS: { name: string; args: string[]; what: string }[] = [
  { name: 'k_sha256', args: ['48'], what: 'SHA-256, 48 × 8 MiB' },
  { name: 'k_nbody', args: ['150000'], what: 'n-body, 48 bodies × 150k steps' },
  { name: 'k_sort', args: ['16000000'], what: 'quicksort, 16M u32 keys' },
  { name: 'k_matmul', args: ['512', '40'], what: 'matmul f64, 512² × 40' },
];

export async function run(): Promise<Section> {
  // wasmtime is a peer column where it is installed.
  const wasmtime = findWasmtime();
  const ENGINES: Engine[] = [NATIVE, HYRUN, NODE_WASI, ...(wasmtime ? [wasmtime] : [])];
  const rows: string[][] = [];
  const hyrunRatios: number[] = [];
  const nodeRatios: number[] = [];
  const wasmtimeRatios: number[] = [];
  const crashes: string[] = [];
  for (const k of KERNELS) {
    const times: Record<string, number[]> = {};
    let reference: string | undefined;
    // Interleave engines within each round so drift on the machine hits all of them alike.
    for (let i = 0; i < RUNS; i++) {
      for (const e of ENGINES) {
        const r = timeOnce(e.argv(e.native ? benchNative(k.name) : benchWasm(k.name), k.args));
        times[e.name] ??= [];
        if (r.status !== 0) {
          // An engine that crashes is a result worth reporting, not a reason to drop the suite.
          crashes.push(`${k.name} under ${e.name}: run ${i + 1} ended with ${r.signal ?? `status ${r.status}`}`);
          continue;
        }
        // The checksum line proves the same work was done; a mismatch is a bug, not noise.
        reference ??= r.stdout;
        if (r.stdout !== reference) throw new Error(`${k.name}: ${e.name} printed ${JSON.stringify(r.stdout)}, native ${JSON.stringify(reference)}`);
        times[e.name].push(r.ms);
      }
    }
    const [n, h, w, wt] = ENGINES.map((e) => (times[e.name].length > 0 ? median(times[e.name]) : NaN));
    if (Number.isNaN(n)) throw new Error(`${k.name} failed natively in every run`);
    if (!Number.isNaN(h)) hyrunRatios.push(n / h);
    if (!Number.isNaN(w)) nodeRatios.push(n / w);
    if (wasmtime && !Number.isNaN(wt!)) wasmtimeRatios.push(n / wt!);
    const cell = (x: number): string => (Number.isNaN(x) ? 'crashed' : fmtMs(x));
    const ratio = (x: number): string => (Number.isNaN(x) ? '–' : fmtRatio(n / x));
    progress(`${k.name}: native ${cell(n)} ms, hyrun ${cell(h)} ms, node:wasi ${cell(w)} ms${wasmtime ? `, wasmtime ${cell(wt!)} ms` : ''}`);
    rows.push([k.name, k.what, cell(n), cell(h), cell(w), ...(wasmtime ? [cell(wt!)] : []), ratio(h), ratio(w), ...(wasmtime ? [ratio(wt!)] : [])]);
  }
  const gh = geomean(hyrunRatios);
  const gw = geomean(nodeRatios);
  const partial = (xs: number[]): string => (xs.length < KERNELS.length ? ` (${xs.length} kernels)` : '');
  rows.push(['geo-mean', '', '', '', '', ...(wasmtime ? [''] : []), fmtRatio(gh), `${fmtRatio(gw)}${partial(nodeRatios)}`,
    ...(wasmtime ? [`${fmtRatio(geomean(wasmtimeRatios))}${partial(wasmtimeRatios)}`] : [])]);
  return {
    title: 'Compute: speed relative to native',
    method: `Each kernel is one C file (bench/kernels/), compiled by clang-14 -O2 natively and with --target=wasm32-wasi; every process prints a checksum that must equal the native one. Wall time of the whole process (start-up included), median of ${RUNS} interleaved runs. Ratio = native time / engine time (1.00× = as fast as native, higher is better).`,
    columns: ['kernel', 'work', 'native ms', 'hyrun ms', 'node:wasi ms', ...(wasmtime ? ['wasmtime ms'] : []), 'hyrun vs native', 'node:wasi vs native',
      ...(wasmtime ? ['wasmtime vs native'] : [])],
    rows,
    // A kernel hyrun could not finish counts as a miss, whatever the other kernels did.
    targets: [{ description: `hyrun geo-mean ≥ ${TARGET}× native`, measured: fmtTargetRatio(gh), met: gh >= TARGET && hyrunRatios.length === KERNELS.length }],
    notes: [
      ...(crashes.length ? [`Runs that did not exit 0 (left out of the medians): ${crashes.join('; ')}.`] : []),
      'Native code may use SSE2 vectors (x86-64 baseline); the Wasm builds use Wasm SIMD (clang-14 -msimd128), the same 128-bit width, so both sides may vectorise (it matters for matmul only: without SIMD the Wasm matmul ran at 0.47× native on 2026-12-07).',
      wasmtime ? wasmtimeNote(wasmtime) : WASMTIME_ABSENT,
    ],
  };
}
