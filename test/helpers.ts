// Shared by all tests: where things are, and how to run hyrun as a user would.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const hyrunBin = join(repoRoot, 'bin/hyrun');
/** The CLI bundle bin/hyrun (sh) hands calls to: for running it under node with node's own options. */
export const hyrunBundle = join(repoRoot, 'dist/hyrun.cjs');
export const guestsDir = join(repoRoot, 'build/guests');
export const nativeDir = join(repoRoot, 'build/guests/native');
export const guest = (name: string): string => join(guestsDir, `${name}.wasm`);
export const native = (name: string): string => join(nativeDir, name);

export interface Result { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export function run(cmd: string, args: string[], options: SpawnSyncOptions = {}): Result {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 << 20, ...options });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

export const hyrun = (args: string[], options: SpawnSyncOptions = {}): Result => run(hyrunBin, args, options);

/** A bad-input failure: nothing on stdout, exactly one `hyrun: …` line on stderr. */
export function assertOneLineError(r: Result, status: number, pattern: RegExp): void {
  assert.equal(r.status, status, `exit status (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^hyrun: [^\n]+\n$/, `one line: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, pattern);
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix = 'hyrun-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** What test/guests/c/eng_readonly.c prints for a read-only directory holding in.txt = "hello" and sub/keep.txt = "kept". */
export const READONLY_REPORT = ['read: hello', 'write on a read-only open', 'pwrite', 'ftruncate', 'posix_fallocate', 'futimens', 'open O_WRONLY then write',
  'open O_TRUNC', 'open O_CREAT', 'mkdir', 'unlink', 'rmdir', 'rename inside', 'rename out', 'rename in', 'symlink', 'link inside', 'link in', 'utimensat', 'truncate']
  .map((l) => (l.startsWith('read:') ? l : `${l}: EROFS`));

/**
 * Runs a command where this machine's node cannot be reached: in a private mount namespace whose
 * node binaries (/usr/bin/node, /usr/local/bin/node, …) are covered by an empty file, with a PATH of
 * the system directories (the script checks that no node runs from it). Proves that hyrun runs on the node it carries. Needs root (unshare -m).
 */
export function runWithoutNode(cmd: string, args: string[], options: SpawnSyncOptions = {}): Result {
  const nodes = ['/usr/bin/node', '/usr/bin/nodejs', '/usr/local/bin/node', '/usr/local/bin/nodejs'].filter((p) => existsSync(p));
  const empty = join(tmpdir(), `hyrun-no-node-${process.pid}`);
  writeFileSync(empty, '');
  const script = 'while [ "$1" != -- ]; do mount --bind "$EMPTY" "$1" || exit 99; shift; done; shift; ' +
    'if command -v node >/dev/null && node --version >/dev/null 2>&1; then echo "node still runs" >&2; exit 98; fi; exec "$@"';
  try {
    return run('unshare', ['-m', 'sh', '-c', script, 'sh', ...nodes, '--', cmd, ...args], {
      ...options,
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(options.env ?? {}), EMPTY: empty },
    });
  } finally {
    rmSync(empty, { force: true });
  }
}
