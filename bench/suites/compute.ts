// Compute suite: C kernels (bench/kernels/k_*.c) built by clang-14 -O2 natively and for
// wasm32-wasi, timed as whole processes: native vs `hyrun run` vs the minimal node:wasi runner.
import type { Section } from '../run.js';
import { benchNative, benchWasm, fmtMs, fmtRatio, geomean, HYRUN, median, NATIVE, NODE_WASI, progress, timeOnce, type Engine } from '../lib.js';

const RUNS = 5;
const TARGET = 0.7;

// Arguments size each kernel to roughly 1–2 s natively on the 2-core reference machine, so that
// start-up (a few hundred ms, measured by the start-up suite) is a small share of each time.
const KERNELS: { name: string; args: string[]; what: string }[] = [
  { name: 'k_sha256', args: ['48'], what: 'SHA-256, 48 × 8 MiB' },
  { name: 'k_nbody', args: ['150000'], what: 'n-body, 48 bodies × 150k steps' },
  { name: 'k_sort', args: ['16000000'], what: 'quicksort, 16M u32 keys' },
  { name: 'k_matmul', args: ['512', '40'], what: 'matmul f64, 512² × 40' },
];
const ENGINES: Engine[] = [NATIVE, HYRUN, NODE_WASI];

export async function run(): Promise<Section> {
  const rows: string[][] = [];
  const hyrunRatios: number[] = [];
  const nodeRatios: number[] = [];
  for (const k of KERNELS) {
    const times: Record<string, number[]> = {};
    let reference: string | undefined;
    // Interleave engines within each round so drift on the machine hits all of them alike.
    for (let i = 0; i < RUNS; i++) {
      for (const e of ENGINES) {
        const r = timeOnce(e.argv(e.native ? benchNative(k.name) : benchWasm(k.name), k.args));
        if (r.status !== 0) throw new Error(`${k.name} under ${e.name} exited ${r.status}`);
        // The checksum line proves the same work was done; a mismatch is a bug, not noise.
        reference ??= r.stdout;
        if (r.stdout !== reference) throw new Error(`${k.name}: ${e.name} printed ${JSON.stringify(r.stdout)}, native ${JSON.stringify(reference)}`);
        (times[e.name] ??= []).push(r.ms);
      }
    }
    const [n, h, w] = ENGINES.map((e) => median(times[e.name]));
    hyrunRatios.push(n / h);
    nodeRatios.push(n / w);
    progress(`${k.name}: native ${fmtMs(n)} ms, hyrun ${fmtMs(h)} ms, node:wasi ${fmtMs(w)} ms`);
    rows.push([k.name, k.what, fmtMs(n), fmtMs(h), fmtMs(w), fmtRatio(n / h), fmtRatio(n / w)]);
  }
  const gh = geomean(hyrunRatios);
  const gw = geomean(nodeRatios);
  rows.push(['geo-mean', '', '', '', '', fmtRatio(gh), fmtRatio(gw)]);
  return {
    title: 'Compute: speed relative to native',
    method: `Each kernel is one C file (bench/kernels/), compiled by clang-14 -O2 natively and with --target=wasm32-wasi; every process prints a checksum that must equal the native one. Wall time of the whole process (start-up included), median of ${RUNS} interleaved runs. Ratio = native time / engine time (1.00× = as fast as native, higher is better).`,
    columns: ['kernel', 'work', 'native ms', 'hyrun ms', 'node:wasi ms', 'hyrun vs native', 'node:wasi vs native'],
    rows,
    targets: [{ description: `hyrun geo-mean ≥ ${TARGET}× native`, measured: fmtRatio(gh), met: gh >= TARGET }],
    notes: [
      'Native code may use SSE2 vectors (x86-64 baseline); the Wasm builds use no SIMD (clang-14 wasm32 default), which matters most for matmul.',
    ],
  };
}
