import { test } from 'node:test';
import assert from 'node:assert/strict';
import wabtInit from 'wabt';
import { formatTrap, isTrap, wasmFrames } from '../../src/wasm/trap.js';

/** Runs `_start` of a WAT module and returns what it threw. */
async function trapOf(wat: string): Promise<unknown> {
  const wabt = await (wabtInit as unknown as () => Promise<any>)();
  const parsed = wabt.parseWat('t.wat', wat);
  parsed.resolveNames();
  const { buffer } = parsed.toBinary({ write_debug_names: true });
  parsed.destroy();
  const instance = new WebAssembly.Instance(new WebAssembly.Module(buffer));
  try {
    (instance.exports._start as () => void)();
  } catch (e) {
    return e;
  }
  assert.fail('did not trap');
}

test('unreachable names the chain of functions from the name section', async () => {
  const e = await trapOf(`(module
    (func $crash_now unreachable)
    (func $main call $crash_now)
    (func $_start (export "_start") call $main))`);
  assert.ok(isTrap(e));
  assert.equal(formatTrap(e), 'wasm trap: unreachable executed at crash_now <- main <- _start');
});

test('functions without names fall back to export names, then to indices', async () => {
  const e = await trapOf(`(module
    (func unreachable)
    (func (export "_start") call 0))`);
  assert.equal(formatTrap(e, { 1: '_start' }), 'wasm trap: unreachable executed at wasm-function[0] <- _start');
});

test('arithmetic and memory traps get their own wording', async () => {
  const div = await trapOf(`(module (func $d (param i32) (result i32) i32.const 1 local.get 0 i32.div_s)
    (func $_start (export "_start") i32.const 0 call $d drop))`);
  assert.match(formatTrap(div), /^wasm trap: integer divide by zero at d <- _start$/);
  const oob = await trapOf(`(module (memory 1) (func $_start (export "_start") i32.const 70000 i32.load drop))`);
  assert.match(formatTrap(oob), /^wasm trap: out of bounds memory access at _start$/);
  const ovf = await trapOf(`(module (func $_start (export "_start") i32.const 0x80000000 i32.const -1 i32.div_s drop))`);
  assert.match(formatTrap(ovf), /^wasm trap: integer overflow/);
});

test('stack overflow is a trap and deep recursion is collapsed', async () => {
  const e = await trapOf(`(module (func $r (param i32) (result i32) local.get 0 i32.const 1 i32.add call $r)
    (func $_start (export "_start") i32.const 0 call $r drop))`);
  assert.ok(isTrap(e));
  assert.match(formatTrap(e), /^wasm trap: call stack exhausted at r ×\d+$/);
});

test('host errors are not traps', () => {
  assert.ok(!isTrap(new TypeError('x')));
  assert.ok(!isTrap('string'));
  assert.deepEqual(wasmFrames('Error\n    at foo (file:///x.js:1:2)'), []);
});
