// The examples the README lists, built and run the way the README says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hyrun, repoRoot, run, tempDir } from '../helpers.js';

function build(src: string, out: string): void {
  const r = run('clang-14', ['--target=wasm32-wasi', '-O2', '-o', out, join(repoRoot, src)]);
  assert.equal(r.status, 0, r.stderr);
}

test('examples/greet.c: arguments and --env', () => {
  const t = tempDir();
  try {
    const wasm = join(t.path, 'greet.wasm');
    build('examples/greet.c', wasm);
    assert.equal(hyrun(['run', '--env', 'GREETING=Hi', wasm, 'Ada', 'Linus']).stdout, 'Hi, Ada!\nHi, Linus!\n');
    assert.equal(hyrun(['run', wasm, 'Ada']).stdout, 'Hello, Ada!\n', 'no GREETING: the host environment is not inherited');
    const usage = hyrun(['run', wasm]);
    assert.equal(usage.status, 2);
    assert.equal(usage.stderr, `usage: ${wasm} NAME...\n`);
  } finally {
    t.cleanup();
  }
});

test('examples/wc.c: counts a file reached through --dir, like wc', () => {
  const t = tempDir();
  try {
    const wasm = join(t.path, 'wc.wasm');
    build('examples/wc.c', wasm);
    const r = hyrun(['run', '--dir', '.::/src', wasm, '/src/README.md'], { cwd: repoRoot });
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const lines = (text.match(/\n/g) ?? []).length;
    const words = text.split(/\s+/).filter(Boolean).length;
    const bytes = Buffer.byteLength(text);
    assert.deepEqual(r.stdout.trim().split(/\s+/), [String(lines), String(words), String(bytes), '/src/README.md']);
    const outside = hyrun(['run', wasm, '/src/README.md'], { cwd: repoRoot });
    assert.equal(outside.status, 1, 'without --dir the file is out of reach');
  } finally {
    t.cleanup();
  }
});
