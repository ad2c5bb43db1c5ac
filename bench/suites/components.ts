// WASI 0.2 command components (issue 16 §5): a cached command component's hello against the same
// C hello as a preview1 module, and the cost of one host call (a 1-byte write: preview1 fd_write,
// as a component the preview1 adapter's blocking-write-and-flush) under hyrun, node:wasi and jco's
// own runner (`jco run`: jco's glue on preview2-shim).
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Section } from '../run.js';
import { fmtMs, fmtRatio, fmtTargetRatio, guestWasm, hyperfine, hyrunBin, median, NODE_WASI, progress, repoRoot, timeOnce } from '../lib.js';

const HELLO_RUNS = 20;
const CALL_RUNS = 5;
const HELLO_TARGET = 1.2;
const CALL_TARGET_US = 3;
const cacheDir = join(repoRoot, 'build/bench/component-cache');
const component = (name: string): string => join(repoRoot, 'build/guests', `${name}.component.wasm`);

/** µs per write: the difference between a run of `big` and one of `small` writes, over the difference (start-up cancels out). */
function perCall(argv: (n: number) => string[], small: number, big: number): number {
  const devNull = openSync('/dev/null', 'w');
  try {
    const times: Record<number, number[]> = { [small]: [], [big]: [] };
    for (let i = 0; i < CALL_RUNS; i++) {
      for (const n of [small, big]) {
        const r = timeOnce(argv(n), { stdio: ['ignore', devNull, 'pipe'] });
        if (r.status !== 0) throw new Error(`${argv(n).join(' ')} exited ${r.status ?? r.signal}`);
        times[n]!.push(r.ms);
      }
    }
    return ((median(times[big]!) - median(times[small]!)) * 1000) / (big - small);
  } finally {
    closeSync(devNull);
  }
}

export async function run(): Promise<Section> {
  // Every command of this suite (timeOnce and hyperfine take the bench environment, benchEnv) uses this cache.
  process.env.HYRUN_CACHE_DIR = cacheDir;
  // The transpile cache filled (and the glue's code cache written) outside every measurement.
  for (const name of ['hello', 'write_bytes']) timeOnce([hyrunBin, 'run', component(name), '1']);
  progress(`hyperfine, ${HELLO_RUNS} runs per command`);
  const [moduleMs, componentMs] = hyperfine([
    { name: 'hyrun run, C hello (preview1 module)', argv: [hyrunBin, 'run', guestWasm('hello')] },
    { name: 'hyrun run, C hello (command component, cached)', argv: [hyrunBin, 'run', component('hello')] },
  ], HELLO_RUNS).map((s) => s * 1000) as [number, number];
  progress('one host call: hyrun (preview1)');
  const p1 = perCall((n) => [hyrunBin, 'run', guestWasm('write_bytes'), String(n)], 30_000, 300_000);
  progress('one host call: node:wasi');
  const nodeWasi = perCall((n) => NODE_WASI.argv(guestWasm('write_bytes'), [String(n)]), 30_000, 300_000);
  progress('one host call: hyrun (component)');
  const p2 = perCall((n) => [hyrunBin, 'run', component('write_bytes'), String(n)], 30_000, 300_000);
  progress('one host call: jco run');
  const jco = perCall((n) => [process.execPath, join(repoRoot, 'node_modules/@bytecodealliance/jco/dist/jco.js'), 'run', component('write_bytes'), String(n)], 10_000, 110_000);
  const helloRatio = componentMs / moduleMs;
  const us = (x: number): string => x.toFixed(2);
  return {
    title: 'WASI 0.2 command components',
    method: `Start-up: hyperfine -N, ${HELLO_RUNS} runs after 3 warm-ups, median, of test/guests/c/hello.c as a preview1 module and as a command component (jco's preview1 command adapter), the component in hyrun's transpile cache. One host call: test/guests/c/write_bytes.c writing 1 byte at a time to /dev/null (stdout), N times; µs per call = (median time of a big run − median time of a small run) / (difference in N), ${CALL_RUNS} interleaved runs each (300,000 and 30,000 writes; jco run 110,000 and 10,000).`,
    columns: ['measure', 'value', 'vs preview1 module'],
    rows: [
      ['hello, preview1 module (ms)', fmtMs(moduleMs), '1.00×'],
      ['hello, command component (ms)', fmtMs(componentMs), fmtRatio(helloRatio)],
      ['one 1-byte write, hyrun preview1 fd_write (µs)', us(p1), '1.00×'],
      ['one 1-byte write, node:wasi fd_write (µs)', us(nodeWasi), fmtRatio(nodeWasi / p1)],
      ['one 1-byte write, hyrun component blocking-write-and-flush (µs)', us(p2), fmtRatio(p2 / p1)],
      ['one 1-byte write, jco run (jco glue + preview2-shim) (µs)', us(jco), fmtRatio(jco / p1)],
    ],
    targets: [
      { description: `a cached command component's hello ≤ ${HELLO_TARGET}× a preview1 module's hello`, measured: fmtTargetRatio(helloRatio), met: helloRatio <= HELLO_TARGET },
      { description: `one host call (a 1-byte blocking-write-and-flush) ≤ ${CALL_TARGET_US} µs`, measured: `${us(p2)} µs`, met: p2 <= CALL_TARGET_US },
    ],
    notes: [
      `A component's call goes through jco's glue: each host call creates the glue's task and subtask objects (promises included, also for synchronous calls) and copies the bytes into a new ArrayBuffer; measured with perf on the write loop, that bookkeeping and its allocation, not the write itself, is most of the ${us(p2)} µs (the preview1 host passes a view of guest memory: ${us(p1)} µs).`,
    ],
  };
}
