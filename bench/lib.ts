// Helpers shared by the benchmark suites: where things are, timing whole processes, statistics.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const hyrunBin = join(repoRoot, 'bin/hyrun');
/** The minimal node:wasi runner (bench/node-wasi-run.ts) every Wasm result is compared with. */
export const nodeWasiRunner = join(repoRoot, 'dist/bench/node-wasi-run.js');
export const benchWasm = (name: string): string => join(repoRoot, 'build/bench', `${name}.wasm`);
export const benchNative = (name: string): string => join(repoRoot, 'build/bench/native', name);
export const guestWasm = (name: string): string => join(repoRoot, 'build/guests', `${name}.wasm`);
export const guestNative = (name: string): string => join(repoRoot, 'build/guests/native', name);

/** One way of running a workload: the argv to spawn (Wasm engines put their own flags first). */
export interface Engine {
  name: string;
  argv: (wasmOrNative: string, args: string[], dirs?: [string, string][]) => string[];
  native?: boolean;
  /** Variables added to the bench environment for this engine. */
  env?: Record<string, string>;
}

export const NATIVE: Engine = {
  name: 'native', native: true,
  argv: (bin, args) => [bin, ...args],
};
export const HYRUN: Engine = {
  name: 'hyrun',
  argv: (wasm, args, dirs = []) => [hyrunBin, 'run', ...dirs.flatMap(([h, g]) => ['--dir', `${h}::${g}`]), wasm, ...args],
};
/** hyrun without openat2 (a kernel before 5.6, or a seccomp profile refusing it): every lookup walks its components on held descriptors. */
export const HYRUN_WALK: Engine = { ...HYRUN, name: 'hyrun (no openat2)', env: { HYRUN_NO_OPENAT2: '1' } };
export const NODE_WASI: Engine = {
  name: 'node:wasi',
  argv: (wasm, args, dirs = []) => [process.execPath, '--no-warnings', nodeWasiRunner, ...dirs.flatMap(([h, g]) => ['--dir', `${h}::${g}`]), wasm, ...args],
};

/**
 * Node variables from the caller's environment that change every node start (this machine sets
 * NODE_EXTRA_CA_CERTS: each start parses a CA bundle); benchmarks run without them, like the
 * containers suite does.
 */
export const STRIPPED_NODE_VARS = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];
export const benchEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !STRIPPED_NODE_VARS.includes(k))),
  ...extra,
});

export interface Timed { ms: number; stdout: string; status: number | null; signal: NodeJS.Signals | null }

/** Runs argv once and measures its wall-clock time (spawn to exit). */
export function timeOnce(argv: string[], options: SpawnSyncOptions = {}): Timed {
  const start = process.hrtime.bigint();
  // stdin from /dev/null unless a suite gives one, as hyperfine does: hyrun puts the guest on a
  // worker when stdin is a socket (Node's pipes), which a command typed in a shell does not get.
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, env: benchEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw r.error;
  return { ms, stdout: String(r.stdout ?? ''), status: r.status, signal: r.signal };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
export const geomean = (xs: number[]): number => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
export const fmtMs = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
export const fmtRatio = (r: number): string => `${r.toFixed(2)}×`;
/** For a target's measured value: three decimals, so a value just under the target never prints as the target. */
export const fmtTargetRatio = (r: number): string => `${r.toFixed(3)}×`;

/** Runs hyperfine (no shell, so only the commands are timed) and returns median seconds per command. */
export function hyperfine(commands: { name: string; argv: string[] }[], runs: number, warmup = 3): number[] {
  const out = join(repoRoot, 'build/bench', `hyperfine-${process.pid}.json`);
  const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const args = ['-N', '--runs', String(runs), '--warmup', String(warmup), '--style', 'none', '--export-json', out];
  for (const c of commands) args.push('-n', c.name, c.argv.map(quote).join(' '));
  const r = spawnSync('hyperfine', args, { stdio: ['ignore', 'ignore', 'inherit'], env: benchEnv() });
  if (r.error || r.status !== 0 || !existsSync(out)) throw new Error(`hyperfine failed (${r.error?.message ?? `status ${r.status}`})`);
  const data = JSON.parse(readFileSync(out, 'utf8')) as { results: { median: number; exit_codes: number[] }[] };
  spawnSync('rm', ['-f', out]);
  return data.results.map((x, i) => {
    if (x.exit_codes.some((c) => c !== 0)) throw new Error(`${commands[i].name} exited non-zero under hyperfine`);
    return x.median;
  });
}

/** Progress on stderr so stdout keeps only the result tables. */
export const progress = (text: string): void => {
  process.stderr.write(`bench: ${text}\n`);
};

/**
 * wasmtime as a peer engine, where it is installed: its CLI on PATH, else the Python package
 * (`import wasmtime`) through bench/wasmtime-run.py. Undefined when neither is there; suites then
 * leave the column out and say so (WASMTIME_ABSENT).
 */
export function findWasmtime(): Engine | undefined {
  const cli = spawnSync('sh', ['-c', 'command -v wasmtime'], { encoding: 'utf8' });
  if (cli.status === 0 && cli.stdout.trim()) {
    const bin = cli.stdout.trim();
    return {
      name: 'wasmtime',
      argv: (wasm, args, dirs = []) => [bin, 'run', ...dirs.flatMap(([h, g]) => ['--dir', `${h}::${g}`]), wasm, ...args],
    };
  }
  const py = spawnSync('python3', ['-c', 'import wasmtime'], { stdio: 'ignore' });
  if (py.status === 0) {
    const runner = join(repoRoot, 'bench/wasmtime-run.py');
    return {
      name: 'wasmtime',
      argv: (wasm, args, dirs = []) => ['python3', runner, ...dirs.flatMap(([h, g]) => ['--dir', `${h}::${g}`]), wasm, ...args],
    };
  }
  return undefined;
}

export const WASMTIME_ABSENT = 'wasmtime: not installed on this machine (no `wasmtime` on PATH, no Python `wasmtime` module), so the table has no wasmtime column; where it is installed the suite adds one.';

/** How a wasmtime column was run, for the notes. */
export const wasmtimeNote = (e: Engine): string =>
  `wasmtime: ${e.argv('MODULE', ['ARGS…'])[0] === 'python3' ? 'the Python package through bench/wasmtime-run.py' : 'its CLI (`wasmtime run`)'}, same modules and arguments.`;
