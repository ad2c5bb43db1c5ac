// The tier policy's flag handling (src/wasm/flags.ts). V8's cachedDataVersionTag() hashes the flags
// its code caches are checked against, so it shows whether compiling left the flags as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedDataVersionTag, setFlagsFromString } from 'node:v8';
import { writeULeb } from '../../src/wasm/binary.js';
import { compileForEngine, compileNeedsBootedWorker, engineFlags } from '../../src/wasm/flags.js';

const module = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  1, ...writeULeb(5), 1, 0x60, 0, 1, 0x7f, // type () -> i32
  3, 2, 1, 0, // one function
  7, 5, 1, 1, 0x66, 0x00, 0, // export "f"
  10, 6, 1, 4, 0, 0x41, 42, 0x0b, // i32.const 42
]);

test('on V8 11 compiling leaves the engine flags (and so node\'s code caches) as they were', { skip: !engineFlags().includes('--experimental-wasm-compilation-hints') }, () => {
  assert.equal(compileNeedsBootedWorker(), false);
  const before = cachedDataVersionTag();
  const compiled = compileForEngine(module);
  assert.equal(cachedDataVersionTag(), before);
  assert.equal((new WebAssembly.Instance(compiled).exports.f as () => number)(), 42);
  // The check can fail: the flag it restores does change the tag while set.
  setFlagsFromString('--experimental-wasm-compilation-hints');
  assert.notEqual(cachedDataVersionTag(), before);
  setFlagsFromString('--no-experimental-wasm-compilation-hints');
  assert.equal(cachedDataVersionTag(), before);
});
