// withStateExports (state-exports.ts) and InstanceImage (instance-reset.ts) on real modules built
// from WAT: what a guest changes in its globals, tables, memory and the glue's handle tables is put
// back; what cannot be (a grown memory or table) is refused; modules whose state JavaScript cannot
// restore are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import wabtInit from 'wabt';
import { STATE_EXPORT_PREFIX, withStateExports } from '../../src/wasm/state-exports.js';
import { InstanceImage, type GlueState } from '../../src/wasm/instance-reset.js';

async function wasm(wat: string, features: Record<string, boolean> = {}): Promise<Uint8Array> {
  const wabt = await (wabtInit as unknown as () => Promise<any>)();
  const parsed = wabt.parseWat('t.wat', wat, features);
  parsed.resolveNames();
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  return buffer as Uint8Array;
}

const GUEST = `(module
  (type $v (func))
  (import "env" "imported" (global $imp (mut i32)))
  (memory 1 4)
  (table $t 3 3 funcref)
  (global $count (mut i32) (i32.const 7))
  (global $wide (mut i64) (i64.const -5))
  (global $fixed i32 (i32.const 3))
  (func $a) (func $b)
  (elem (i32.const 0) $a)
  (elem declare func $a $b)
  (data (i32.const 16) "first")
  (func (export "change")
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (global.set $wide (i64.const 99))
    (i32.store8 (i32.const 16) (i32.const 88))
    (i32.store (i32.const 40000) (i32.const 1234))
    (table.set $t (i32.const 0) (ref.func $b))
    (table.set $t (i32.const 2) (ref.func $a)))
  (func (export "grow") (drop (memory.grow (i32.const 1))))
  (func (export "count") (result i32) (global.get $count))
  (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0))))`;

function instantiate(bytes: Uint8Array): WebAssembly.Instance {
  const imported = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { imported } });
}

test('a module rewritten with its state exported keeps its own exports and adds every memory, table and mutable global it defines', async () => {
  const bytes = await wasm(GUEST);
  const rewritten = withStateExports(bytes);
  assert.ok(rewritten);
  const names = WebAssembly.Module.exports(new WebAssembly.Module(rewritten)).map((e) => `${e.kind} ${e.name}`);
  assert.deepEqual(names.filter((n) => !n.includes(STATE_EXPORT_PREFIX)), ['function change', 'function grow', 'function count', 'function byte']);
  // Global 0 is imported (not ours to restore), global 3 ($fixed) is immutable.
  assert.deepEqual(names.filter((n) => n.includes(STATE_EXPORT_PREFIX)).sort(),
    ['global hyrun:state:global:1', 'global hyrun:state:global:2', 'memory hyrun:state:memory:0', 'table hyrun:state:table:0']);
});

test('an instance put back after changing its globals, memory, table and handle tables reads as newly made', async () => {
  const instance = instantiate(withStateExports(await wasm(GUEST))!);
  const handleTable = Object.assign([1 << 30, 0], { _createdReps: new Set<unknown>() });
  const capture = new Map<unknown, unknown>();
  const glue: GlueState = { handleTables: [handleTable], captures: [capture] };
  const image = InstanceImage.take([instance], glue)!;
  const x = instance.exports as Record<string, any>;
  const table = x[`${STATE_EXPORT_PREFIX}table:0`] as WebAssembly.Table & { get(i: number): unknown };
  const before = [table.get(0), table.get(1), table.get(2)];

  x.change();
  handleTable.push(0, 5 | (1 << 30));
  handleTable._createdReps.add(5);
  capture.set(5, { host: 'object' });
  assert.equal(x.count(), 8);
  assert.equal(x.byte(16), 88);

  assert.equal(image.restore(), true);
  assert.equal(x.count(), 7);
  assert.equal(x[`${STATE_EXPORT_PREFIX}global:2`].value, -5n);
  assert.equal(x.byte(16), 'f'.charCodeAt(0));
  assert.equal(x.byte(40000), 0);
  assert.deepEqual([table.get(0), table.get(1), table.get(2)], before);
  assert.deepEqual([...handleTable], [1 << 30, 0]);
  assert.equal(handleTable._createdReps.size, 0);
  assert.equal(capture.size, 0);
});

test('an instance whose memory grew is not put back (memory cannot shrink), and nothing of it is changed', async () => {
  const instance = instantiate(withStateExports(await wasm(GUEST))!);
  const image = InstanceImage.take([instance], { handleTables: [], captures: [] })!;
  const x = instance.exports as Record<string, any>;
  x.change();
  x.grow();
  assert.equal(image.restore(), false);
  assert.equal(x.count(), 8);
});

test('glue that hands over no handle tables cannot be reset', async () => {
  const instance = instantiate(withStateExports(await wasm(GUEST))!);
  assert.equal(InstanceImage.take([instance], { captures: [] }), undefined);
});

test('modules whose state JavaScript cannot restore are left alone: passive data, shared memory, a v128 global', async () => {
  const passive = await wasm(`(module (memory 1) (data "x")
    (func (export "f") (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 1)) (data.drop 0)))`, { bulk_memory: true });
  assert.equal(withStateExports(passive), undefined);
  const passiveElem = await wasm(`(module (table 1 funcref) (func $f) (elem func $f)
    (func (export "g") (table.init 0 (i32.const 0) (i32.const 0) (i32.const 1))))`, { bulk_memory: true, reference_types: true });
  assert.equal(withStateExports(passiveElem), undefined);
  const shared = await wasm('(module (memory 1 1 shared))', { threads: true });
  assert.equal(withStateExports(shared), undefined);
  const vector = await wasm('(module (global (mut v128) (v128.const i32x4 0 0 0 0)))', { simd: true });
  assert.equal(withStateExports(vector), undefined);
});
