// Differential tests: the same C source built natively (gcc) and for wasm32-wasi (clang), run
// natively and under `hyrun run`; stdout, stderr and the exit status must be identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrun, native, run, tempDir, type Result } from '../helpers.js';

interface Case {
  args?: string[];
  /** The whole environment of the native run, and the --env list of the Wasm run. */
  env?: Record<string, string>;
  /** Native cwd; the Wasm run gets it preopened as "." */
  dir?: string;
}

function runBoth(name: string, c: Case = {}): { native: Result; wasm: Result } {
  const env = c.env ?? {};
  const args = c.args ?? [];
  const nat = run(native(name), args, { env, cwd: c.dir });
  const flags = [
    ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ...(c.dir ? ['--dir', `${c.dir}::.`] : []),
  ];
  const wasm = hyrun(['run', ...flags, guest(name), ...args]);
  return { native: nat, wasm };
}

function assertSame(name: string, c: Case = {}): Result {
  const { native: n, wasm: w } = runBoth(name, c);
  assert.equal(w.stdout, n.stdout, `${name}: stdout differs`);
  assert.equal(w.stderr, n.stderr, `${name}: stderr differs`);
  assert.equal(w.status, n.status, `${name}: exit status differs`);
  assert.equal(w.signal, null);
  return n;
}

/** Every file and directory under root with its contents, for comparing what two runs left. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${entry}` : entry;
      if (statSync(join(root, p)).isDirectory()) {
        out[`${p}/`] = '';
        walk(p);
      } else {
        out[p] = readFileSync(join(root, p), 'utf8');
      }
    }
  };
  walk('');
  return out;
}

test('argv: arguments after FILE reach the guest untouched', () => {
  const n = assertSame('diff_args', { args: ['plain', 'with space', '--flag', '-x', '--', 'ünïcödé', '', '--env', 'A=B'] });
  assert.match(n.stdout, /^argc=10\n/);
  assert.match(n.stdout, /argv\[5\]=<--> len=2/);
});

test('env: the guest sees exactly the --env variables', () => {
  const n = assertSame('diff_env', {
    env: { DIFF_GREETING: 'hello world', DIFF_EMPTY: '', DIFF_EQ: 'a=b=c' },
    args: ['DIFF_GREETING', 'DIFF_EMPTY', 'DIFF_EQ', 'DIFF_MISSING', 'PATH', 'HOME'],
  });
  assert.match(n.stdout, /environ has 3 entries/);
  assert.match(n.stdout, /getenv\(DIFF_EQ\)=<a=b=c>/);
  assert.match(n.stdout, /getenv\(PATH\) unset/);
  assertSame('diff_env', { args: ['PATH'] });
});

test('file I/O in a preopened directory matches native, and leaves the same files', () => {
  const a = tempDir();
  const b = tempDir();
  try {
    const nat = run(native('diff_files'), [], { cwd: a.path, env: {} });
    const wasm = hyrun(['run', '--dir', `${b.path}::.`, guest('diff_files')]);
    assert.equal(nat.status, 0, nat.stdout);
    assert.match(nat.stdout, /done\n$/);
    assert.equal(wasm.stdout, nat.stdout);
    assert.equal(wasm.stderr, nat.stderr);
    assert.equal(wasm.status, nat.status);
    const left = tree(a.path);
    assert.deepEqual(tree(b.path), left);
    assert.equal(left['work/renamed.txt'], 'line ONE\nlin');
  } finally {
    a.cleanup();
    b.cleanup();
  }
});

test('clocks: monotonic, sane resolution, nanosleep sleeps, realtime agrees with time()', () => {
  const n = assertSame('diff_clock');
  assert.match(n.stdout, /monotonic: never went backwards/);
  assert.match(n.stdout, /nanosleep 20ms: slept at least 20ms/);
});

test('qsort and printf of floats and integers match glibc digit for digit', () => {
  const n = assertSame('diff_format');
  assert.ok(n.stdout.split('\n').length > 30);
});

test('stderr and stdout stay separate, including raw writes and a large volume', () => {
  const n = assertSame('diff_stderr');
  assert.match(n.stderr, /^warning: this goes to stderr\nraw write to fd 2\n/);
  assertSame('diff_stderr', { args: ['200000'] });
});

test('exit status via exit(), return, atexit and _Exit', () => {
  for (const [mode, status] of [['exit', '0'], ['exit', '3'], ['return', '42'], ['return', '255'], ['atexit', '5'], ['_Exit', '9'], ['exit', '256']]) {
    const n = assertSame('diff_exit', { args: [mode, status] });
    assert.equal(n.status, Number(status) & 255);
  }
  const usage = assertSame('diff_exit');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /^usage: /);
});

test('stdin and files read through the same code give the same bytes', () => {
  const t = tempDir();
  try {
    let text = '';
    for (let i = 0; i < 20000; i++) text += `${i} ${(i * 2654435761) >>> 0}\n`;
    writeFileSync(join(t.path, 'data.txt'), text);
    const nat = run(native('diff_cat'), ['-', 'data.txt', 'missing.txt'], { cwd: t.path, input: text, env: {} });
    const wasm = hyrun(['run', '--dir', `${t.path}::.`, guest('diff_cat'), '-', 'data.txt', 'missing.txt'], { input: text });
    assert.equal(nat.stdout.length, 2 * text.length);
    assert.equal(wasm.stdout, nat.stdout);
    assert.equal(wasm.stderr, nat.stderr);
    assert.equal(wasm.status, nat.status);
    assert.equal(nat.status, 1);
  } finally {
    t.cleanup();
  }
});
