// WASI I/O suite: bulk fd_read/fd_write (1 GiB through stdin -> stdout), a directory walk over
// 10,000 files (path_open, fd_readdir, path_filestat_get) and path-heavy changes (io_fsops: create,
// rename, stat, symlink, readlink, unlink, mkdir, rmdir); hyrun vs node:wasi vs native.
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Section } from '../run.js';
import { benchEnv, benchNative, benchWasm, findWasmtime, fmtMs, fmtRatio, fmtTargetRatio, HYRUN, HYRUN_WALK, median, NATIVE, NODE_WASI, progress, timeOnce, WASMTIME_ABSENT, wasmtimeNote, type Engine } from '../lib.js';

const RUNS = 5;
const GIB = 2 ** 30;
const DIRS = 100;
const FILES_PER_DIR = 100;
const WALK_PASSES = 4;
/** io_fsops rounds: each makes a directory and 100 files in it with 7 path calls per file. */
const FSOPS_ROUNDS = 20;
// wasmtime is a peer column where it is installed.
const WASMTIME = findWasmtime();
const ENGINES: Engine[] = [NATIVE, HYRUN, NODE_WASI, ...(WASMTIME ? [WASMTIME] : [])];
/** The path workloads also run hyrun without openat2 (src/wasi/resolve.ts's walk on held descriptors alone). */
const WALK_ENGINES: Engine[] = [...ENGINES, HYRUN_WALK];

function makeInput(path: string, gib: number): void {
  const block = Buffer.alloc(16 << 20);
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < gib * GIB; written += block.length) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

function makeTree(root: string): void {
  for (let d = 0; d < DIRS; d++) {
    const dir = join(root, `d${d}`);
    mkdirSync(dir);
    for (let f = 0; f < FILES_PER_DIR; f++) {
      const fd = openSync(join(dir, `f${f}.txt`), 'w');
      writeSync(fd, 'x'.repeat((d * FILES_PER_DIR + f) % 257));
      closeSync(fd);
    }
  }
}

type Times = Record<string, number>;

function measure(label: string, once: (e: Engine) => { ms: number; check: string }, engines: Engine[] = ENGINES): Times {
  const times: Record<string, number[]> = {};
  let reference: string | undefined;
  for (let i = 0; i < RUNS; i++) {
    for (const e of engines) {
      const r = once(e);
      reference ??= r.check;
      if (r.check !== reference) throw new Error(`${label}: ${e.name} gave ${JSON.stringify(r.check)}, native ${JSON.stringify(reference)}`);
      (times[e.name] ??= []).push(r.ms);
    }
  }
  const med = Object.fromEntries(engines.map((e) => [e.name, median(times[e.name])]));
  progress(`${label}: ${engines.map((e) => `${e.name} ${fmtMs(med[e.name])} ms`).join(', ')}`);
  return med;
}

export async function run(): Promise<Section> {
  const work = mkdtempSync(join(tmpdir(), 'hyrun-bench-io-'));
  try {
    progress('writing the 1 GiB and 4 GiB inputs and the 10,000-file tree');
    const input1 = join(work, 'input-1g.bin');
    const input4 = join(work, 'input-4g.bin');
    makeInput(input1, 1);
    makeInput(input4, 4);
    const tree = join(work, 'tree');
    mkdirSync(tree);
    makeTree(tree);

    const cat = (input: string, label: string): Times => measure(label, (e) => {
      const inFd = openSync(input, 'r');
      const outFd = openSync('/dev/null', 'w');
      try {
        const r = timeOnce(e.argv(e.native ? benchNative('io_cat') : benchWasm('io_cat'), []), { stdio: [inFd, outFd, 'pipe'] });
        if (r.status !== 0) throw new Error(`io_cat under ${e.name} exited ${r.status}`);
        return { ms: r.ms, check: String(r.status) };
      } finally {
        closeSync(inFd);
        closeSync(outFd);
      }
    });
    const walk = (passes: number): Times => measure(`walk 10,000 files × ${passes}`, (e) => {
      const argv = e.native
        ? e.argv(benchNative('io_walk'), [tree, String(passes)])
        : e.argv(benchWasm('io_walk'), ['/tree', String(passes)], [[tree, '/tree']]);
      const r = timeOnce(argv, { env: benchEnv(e.env) });
      if (r.status !== 0) throw new Error(`io_walk under ${e.name} exited ${r.status}`);
      return { ms: r.ms, check: r.stdout };
    }, WALK_ENGINES);
    const fsopsDir = join(work, 'fsops');
    mkdirSync(fsopsDir);
    const fsops = measure(`fsops ${FSOPS_ROUNDS} rounds`, (e) => {
      rmSync(fsopsDir, { recursive: true, force: true });
      mkdirSync(fsopsDir);
      const argv = e.native
        ? e.argv(benchNative('io_fsops'), [fsopsDir, String(FSOPS_ROUNDS)])
        : e.argv(benchWasm('io_fsops'), ['/work', String(FSOPS_ROUNDS)], [[fsopsDir, '/work']]);
      const r = timeOnce(argv, { env: benchEnv(e.env) });
      if (r.status !== 0) throw new Error(`io_fsops under ${e.name} exited ${r.status}`);
      return { ms: r.ms, check: r.stdout };
    }, WALK_ENGINES);
    const cat1 = cat(input1, '1 GiB stdin -> stdout');
    const cat4 = cat(input4, '4 GiB stdin -> stdout');
    const walk1 = walk(1);
    const walkN = walk(WALK_PASSES);

    // The marginal cost (bigger run minus smaller run) leaves start-up out without measuring it
    // separately, so it is the I/O path alone.
    const slope = (big: Times, small: Times, div: number): Times => Object.fromEntries(
      Object.keys(big).map((k) => [k, Math.max((big[k] - small[k]) / div, 0.01)]),
    );
    const catGiB = slope(cat4, cat1, 3);
    const walkPass = slope(walkN, walk1, WALK_PASSES - 1);
    const row = (name: string, what: string, t: Times): string[] => [
      name, what, fmtMs(t.native), fmtMs(t.hyrun), fmtMs(t['node:wasi']), ...(WASMTIME ? [fmtMs(t.wasmtime)] : []),
      fmtRatio(t['node:wasi'] / t.hyrun), fmtRatio(t.native / t.hyrun), ...(WASMTIME ? [fmtRatio(t.wasmtime / t.hyrun)] : []),
    ];
    const copyRatio = cat1['node:wasi'] / cat1.hyrun;
    const walkRatio = walk1['node:wasi'] / walk1.hyrun;
    const noAddon = HYRUN_WALK.name;
    const noAddonRow = (what: string, t: Times, name = 'io_walk'): string[] => [`${name} (${noAddon})`, what, fmtMs(t.native), fmtMs(t[noAddon]), fmtMs(t['node:wasi']),
      ...(WASMTIME ? [fmtMs(t.wasmtime)] : []), fmtRatio(t['node:wasi'] / t[noAddon]), fmtRatio(t.native / t[noAddon]), ...(WASMTIME ? [fmtRatio(t.wasmtime / t[noAddon])] : [])];
    const walkVsWasmtime = WASMTIME ? walk1.wasmtime / walk1.hyrun : undefined;
    return {
      title: 'WASI I/O: hyrun relative to node:wasi',
      method: `Same C source (bench/kernels/io_*.c, clang-14 -O2) natively and as Wasm. io_cat copies a file on stdin to /dev/null on stdout with read()/write() and a 64 KiB buffer (one fd_read + one fd_write per block); io_walk walks ${DIRS} directories × ${FILES_PER_DIR} files with opendir/readdir/stat, the tree preopened with --dir; io_fsops makes ${FSOPS_ROUNDS} directories of 100 files each with open(O_CREAT), write, rename, stat, symlink, readlink, unlink and rmdir (paths of 3-4 components). Wall time of the whole process, median of ${RUNS} interleaved runs. "Whole process" rows include start-up; "each further" rows are the difference between a bigger and a smaller run ((4 GiB − 1 GiB) / 3; (${WALK_PASSES} passes − 1 pass) / ${WALK_PASSES - 1}), i.e. the I/O path without start-up. "vs node:wasi" = node:wasi time / hyrun time (above 1.00× = hyrun faster); "vs native" = native time / hyrun time.`,
      columns: ['workload', 'what is timed', 'native ms', 'hyrun ms', 'node:wasi ms', ...(WASMTIME ? ['wasmtime ms'] : []), 'hyrun vs node:wasi', 'hyrun vs native',
        ...(WASMTIME ? ['hyrun vs wasmtime'] : [])],
      rows: [
        row('io_cat', '1 GiB, whole process', cat1),
        row('io_cat', 'each further GiB', catGiB),
        row('io_walk', `${DIRS * FILES_PER_DIR} files, whole process`, walk1),
        row('io_walk', `each further pass over ${DIRS * FILES_PER_DIR} files`, walkPass),
        noAddonRow(`${DIRS * FILES_PER_DIR} files, whole process`, walk1),
        noAddonRow(`each further pass over ${DIRS * FILES_PER_DIR} files`, walkPass),
        row('io_fsops', `${FSOPS_ROUNDS * 100} files made and removed, whole process`, fsops),
        noAddonRow(`${FSOPS_ROUNDS * 100} files made and removed, whole process`, fsops, 'io_fsops'),
      ],
      targets: [
        { description: '1 GiB read/write (whole process) ≥ 1.0× node:wasi', measured: fmtTargetRatio(copyRatio), met: copyRatio >= 1 },
        { description: '10,000-file walk (whole process), with the addon, ≥ 0.8× node:wasi (issue 7)', measured: fmtTargetRatio(walkRatio), met: walkRatio >= 0.8 },
        {
          description: '10,000-file walk (whole process) ≥ 1.0× wasmtime (issue 7)',
          measured: walkVsWasmtime === undefined ? 'not measured: wasmtime is not installed here' : fmtTargetRatio(walkVsWasmtime),
          met: walkVsWasmtime !== undefined && walkVsWasmtime >= 1,
        },
      ],
      notes: [
        `I/O path alone (the "each further" rows): hyrun vs node:wasi ${fmtRatio(catGiB['node:wasi'] / catGiB.hyrun)} for read/write, ${fmtRatio(walkPass['node:wasi'] / walkPass.hyrun)} for the walk.`,
        WASMTIME ? `${wasmtimeNote(WASMTIME)} "hyrun vs wasmtime" = wasmtime time / hyrun time.` : WASMTIME_ABSENT,
        `Without openat2 (${noAddon}, HYRUN_NO_OPENAT2=1: every lookup walks its components on held descriptors in src/wasi/resolve.ts) the walk takes ${fmtRatio(walk1[noAddon] / walk1.hyrun)} and io_fsops ${fmtRatio(fsops[noAddon] / fsops.hyrun)} the time of hyrun with it. Without the addon a guest with preopens is refused.`,
      ],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
