// The tier policy's flags (src/wasm/flags.ts): given at node's start by bin/hyrun and by the
// executor's command in containers, never set at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cachedDataVersionTag } from 'node:v8';
import { compileForEngine, engineStartFlags, HYRUN_ENGINE_FLAGS } from '../../src/wasm/flags.js';
import { executorCommand } from '../../src/handlers/runtime-dir.js';
import { repoRoot } from '../helpers.js';

const module = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  1, 5, 1, 0x60, 0, 1, 0x7f, // type () -> i32
  3, 2, 1, 0, // one function
  7, 5, 1, 1, 0x66, 0x00, 0, // export "f"
  10, 6, 1, 4, 0, 0x41, 42, 0x0b, // i32.const 42
]);

test('engineStartFlags: the policy, HYRUN_V8_FLAGS in its place, none with HYRUN_V8_DEFAULTS=1', () => {
  assert.deepEqual(engineStartFlags({}), [...HYRUN_ENGINE_FLAGS]);
  assert.deepEqual(engineStartFlags({ HYRUN_V8_FLAGS: ' --a  --b=1 ' }), ['--a', '--b=1']);
  assert.deepEqual(engineStartFlags({ HYRUN_V8_FLAGS: '' }), []);
  assert.deepEqual(engineStartFlags({ HYRUN_V8_DEFAULTS: '1', HYRUN_V8_FLAGS: '--a' }), []);
});

test('bin/hyrun starts node with the same default flags as flags.ts says', () => {
  const front = readFileSync(join(repoRoot, 'bin/hyrun'), 'utf8');
  const line = /^ {2}flags=(.*)$/m.exec(front);
  assert.ok(line, 'bin/hyrun sets flags=');
  assert.equal(line[1].replace(/^'(.*)'$/, '$1'), HYRUN_ENGINE_FLAGS.join(' '));
});

test('the executor in containers starts with the flags (between node and the entry)', () => {
  const argv = executorCommand({ loader: 'ld-linux-x86-64.so.2' }, engineStartFlags({}));
  const node = argv.indexOf('/.hyrun/node');
  assert.deepEqual(argv.slice(argv.length - 1 - HYRUN_ENGINE_FLAGS.length, -1), [...HYRUN_ENGINE_FLAGS]);
  assert.ok(node > 0 && node < argv.length - 1 - HYRUN_ENGINE_FLAGS.length);
});

test('compiling leaves V8\'s flags (and so node\'s code caches) as they were', () => {
  const before = cachedDataVersionTag();
  const compiled = compileForEngine(module);
  assert.equal(cachedDataVersionTag(), before);
  assert.equal((new WebAssembly.Instance(compiled).exports.f as () => number)(), 42);
});
