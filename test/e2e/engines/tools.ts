// Small building blocks shared by the engine harness: running commands with useful failure
// messages, free ports, polling, and unmounting whatever a daemon left under a temporary directory.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot, run, type Result } from '../../helpers.js';

/** Where the harness keeps its non-TypeScript files (containers.conf, the pty driver). */
export const engineFiles = join(repoRoot, 'test/e2e/engines');

/** Runs a command; throws with the command line, exit status and output when it does not exit 0. */
export function must(cmd: string, args: string[], options: SpawnSyncOptions = {}): Result {
  const r = run(cmd, args, options);
  if (r.status !== 0) throw new Error(`${describe(cmd, args)} failed: ${explain(r)}`);
  return r;
}

export const describe = (cmd: string, args: string[]): string => [cmd, ...args].join(' ');

export const explain = (r: Result): string =>
  `status ${r.status}${r.signal ? ` signal ${r.signal}` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** Elapsed wall time of a synchronous call, in milliseconds. */
export function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { value, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; throws after `timeoutMs` naming what was awaited. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** The tools a test file needs that are not on PATH (so it can say what is missing). */
export function missingTools(tools: string[]): string[] {
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
}

/**
 * Why the engine tests cannot run here, or undefined when they can. They need root (engines
 * create namespaces, mounts and cgroups) and a built hyrun.
 */
export function cannotRun(tools: string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'engine end-to-end tests need root';
  const missing = missingTools(tools);
  if (missing.length) return `missing tools: ${missing.join(', ')} (run scripts/setup.sh --test)`;
  if (!existsSync(join(repoRoot, 'dist/hyrun.cjs'))) return 'hyrun is not built (npm run build)';
  return undefined;
}

/** Mount points at or below `dir` (deepest first), read from /proc/self/mountinfo (or another process's mount namespace). */
export function mountsUnder(dir: string, mountinfo = '/proc/self/mountinfo'): string[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync(mountinfo, 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map(unescape)
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Lazily unmounts everything below `dir`, then removes it. Never throws. */
export function removeTree(dir: string): void {
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) break;
    for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  }
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    process.stderr.write(`harness: could not remove ${dir}: ${String(error)}\n`);
  }
}

/** Pids of processes whose command line contains `needle` (e.g. a daemon's private socket path). */
export function pidsWithArg(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.split('\0').some((arg) => arg.includes(needle))) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** True while the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Blocks the thread for `ms` milliseconds (for polling loops between synchronous engine calls). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Synchronous polling: calls `check` every 100 ms until true; throws after `timeoutMs`. */
export function waitUntil(what: string, check: () => boolean, timeoutMs = 30_000): void {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    sleepSync(100);
  }
}

/** The parent pid of a process (from /proc/PID/stat). */
export function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}
