// Sockets suite: the cost of one blocking socket read round trip (write a byte, block until the
// echo comes back) for a WASI 0.2 component's wasi:sockets, against plain node, a JSPI prototype
// and a bare worker + Atomics prototype (bench/socket-roundtrip.mjs; docs/architecture.md,
// "Asynchrony", says what the figures decided).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Section } from '../run.js';
import { benchEnv, median, progress, repoRoot } from '../lib.js';

const RUNS = 5;
const ROUND_TRIPS = 20000;
const PATHS: [string, string][] = [
  ['node', 'plain node (write, await data)'],
  ['jspi', 'JSPI prototype (Wasm loop, Suspending read import)'],
  ['worker', 'worker + Atomics prototype (two thread hops)'],
  ['hyrun', 'hyrun run --allow-net comp_sockets tcp-pingpong'],
];

export async function run(): Promise<Section> {
  const samples: Record<string, number[]> = Object.fromEntries(PATHS.map(([k]) => [k, []]));
  for (let i = 0; i < RUNS; i++) {
    progress(`sockets: run ${i + 1}/${RUNS}`);
    const r = spawnSync(process.execPath, [join(repoRoot, 'bench/socket-roundtrip.mjs'), String(ROUND_TRIPS)], { env: benchEnv(), encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`socket-roundtrip failed: ${r.stderr}`);
    const { usPerRoundTrip } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { usPerRoundTrip: Record<string, number> };
    for (const [k] of PATHS) samples[k]!.push(usPerRoundTrip[k]!);
  }
  const jspi = median(samples.jspi!);
  return {
    title: 'Sockets: one blocking read round trip',
    method: `Write one byte to a TCP echo peer (a separate node process) and block until it comes back, ${ROUND_TRIPS} times; µs per round trip, median of ${RUNS} runs; ratio to the JSPI prototype in the same run (lower is faster). hyrun's figure is a ${ROUND_TRIPS}-round-trip run minus a 0-round-trip run.`,
    columns: ['path', 'µs / round trip', 'ratio to JSPI'],
    rows: PATHS.map(([k, name]) => [name, median(samples[k]!).toFixed(1), `${(median(samples[k]!) / jspi).toFixed(2)}×`]),
  };
}
