import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  capMemory, describeNonModule, functionBodySizes, functionExportNames, hasWasmMagic,
  looksLikeWat, moduleForEngine, readFileHead, memoryImports, MemoryCapError, readULeb, sections, writeULeb,
} from '../../src/wasm/binary.js';

// Hand-assembled modules, so the tests do not depend on the code under test to build their input.
const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const section = (id: number, payload: number[]): number[] => [id, ...writeULeb(payload.length), ...payload];
const name = (s: string): number[] => [s.length, ...Buffer.from(s)];

/** (memory min max?) exported as "memory", plus a custom section after it that must survive intact. */
function moduleWithMemory(min: number, max?: number): Uint8Array {
  const limits = max === undefined ? [0x00, ...writeULeb(min)] : [0x01, ...writeULeb(min), ...writeULeb(max)];
  return new Uint8Array([
    ...header,
    ...section(5, [1, ...limits]),
    ...section(7, [1, ...name('memory'), 0x02, 0]),
    ...section(0, [...name('keep'), 1, 2, 3]),
  ]);
}

const maxPages = (bytes: Uint8Array): number | undefined => {
  // Instantiating and growing is the ground truth for what the engine will allow.
  const mod = new WebAssembly.Module(bytes);
  const mem = new WebAssembly.Instance(mod).exports.memory as WebAssembly.Memory;
  let pages = mem.buffer.byteLength / 65536;
  try {
    for (;;) { mem.grow(1); pages++; if (pages > 2048) return undefined; }
  } catch {
    return pages;
  }
};

test('LEB128 round-trips, including multi-byte and large values', () => {
  for (const v of [0, 1, 63, 64, 127, 128, 255, 16384, 65536, 2 ** 32 - 1, 2 ** 40 + 5]) {
    const enc = writeULeb(v);
    const dec = readULeb(new Uint8Array(enc), 0);
    assert.equal(dec.value, v);
    assert.equal(dec.next, enc.length);
  }
  assert.deepEqual(writeULeb(624485), [0xe5, 0x8e, 0x26]);
  // Non-minimal encodings are valid input.
  assert.equal(readULeb(new Uint8Array([0x81, 0x80, 0x00]), 0).value, 1);
  assert.throws(() => readULeb(new Uint8Array([0x80]), 0), /truncated/);
});

test('capMemory adds a maximum to a memory without one', () => {
  const capped = capMemory(moduleWithMemory(2), 5 * 65536 + 100);
  assert.ok(WebAssembly.validate(capped));
  assert.equal(maxPages(capped), 5);
  assert.equal(maxPages(moduleWithMemory(2, 7)), 7);
  // The sections after the rewritten one are byte-identical.
  const custom = WebAssembly.Module.customSections(new WebAssembly.Module(capped), 'keep');
  assert.deepEqual([...new Uint8Array(custom[0])], [1, 2, 3]);
});

test('capMemory lowers a larger maximum and keeps a smaller one', () => {
  assert.equal(maxPages(capMemory(moduleWithMemory(1, 100), 3 * 65536)), 3);
  assert.equal(maxPages(capMemory(moduleWithMemory(1, 2), 300 * 65536)), 2);
  // A maximum needing a multi-byte LEB shrinking to one byte changes the section size.
  const big = moduleWithMemory(1, 1000);
  const capped = capMemory(big, 10 * 65536);
  assert.equal(capped.length, big.length - 1);
  assert.equal(maxPages(capped), 10);
});

test('capMemory refuses a module whose initial memory exceeds the cap', () => {
  assert.throws(() => capMemory(moduleWithMemory(17), 16 * 65536), (e: unknown) => e instanceof MemoryCapError && e.initialBytes === 17 * 65536);
  // Exactly at the cap is fine.
  assert.equal(maxPages(capMemory(moduleWithMemory(16), 16 * 65536)), 16);
});

test('capMemory leaves modules without a memory section unchanged', () => {
  const bytes = new Uint8Array([...header, ...section(0, [...name('x')])]);
  assert.equal(capMemory(bytes, 65536), bytes);
});

test('memory imports are found with their limits, and checked against the cap', () => {
  const imp = [1, ...name('env'), ...name('memory'), 0x02, 0x01, 3, 9];
  const bytes = new Uint8Array([...header, ...section(2, imp)]);
  assert.deepEqual(memoryImports(bytes), [{ module: 'env', name: 'memory', limits: { flags: 1, min: 3, max: 9 } }]);
  assert.throws(() => capMemory(bytes, 2 * 65536), MemoryCapError);
  assert.deepEqual(sections(bytes).map((s) => s.id), [2]);
});

test('function export names are mapped by function index', () => {
  const exp = [2, ...name('_start'), 0x00, 3, ...name('memory'), 0x02, 0];
  assert.deepEqual(functionExportNames(new Uint8Array([...header, ...section(7, exp)])), { 3: '_start' });
});

test('describeNonModule names what a file is', () => {
  const b = (...xs: (number | string)[]): Uint8Array =>
    new Uint8Array(xs.flatMap((x) => (typeof x === 'string' ? [...Buffer.from(x)] : [x])));
  assert.equal(describeNonModule(new Uint8Array(header)), null);
  assert.match(describeNonModule(new Uint8Array(0))!, /empty/);
  assert.match(describeNonModule(b(0x7f, 'ELF', 2, 1, 1, 0))!, /ELF executable/);
  assert.match(describeNonModule(b('#!/bin/sh\necho hi\n'))!, /script \(#!\/bin\/sh\)/);
  assert.match(describeNonModule(b(0x1f, 0x8b, 8, 0, 0, 0))!, /gzip/);
  assert.match(describeNonModule(b('PK', 3, 4, 20, 0))!, /zip/);
  assert.match(describeNonModule(b('hello world\n'))!, /text/);
  assert.match(describeNonModule(b(0, 'asm', 0x0d, 0, 1, 0))!, /component/);
  assert.match(describeNonModule(b(0, 'asm', 1))!, /truncated/);
  assert.match(describeNonModule(b(0xde, 0xad, 0xbe, 0xef, 0, 1))!, /unknown kind \(starts with de ad be ef\)/);
});

test('looksLikeWat recognises module text, with leading comments', () => {
  assert.ok(looksLikeWat(Buffer.from('(module (func))')));
  assert.ok(looksLikeWat(Buffer.from(';; a comment\n  (; block ;)\n(module)')));
  assert.ok(!looksLikeWat(Buffer.from('hello (module)')));
  assert.ok(!looksLikeWat(new Uint8Array([0, 0x61, 0x73, 0x6d])));
});

test('readFileHead: the first bytes of a regular file; undefined (without blocking) for a FIFO, a directory or nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hyrun-head-'));
  try {
    writeFileSync(join(dir, 'm.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    writeFileSync(join(dir, 'short'), 'ab');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const head = readFileHead(join(dir, 'm.wasm'), 4)!;
    assert.deepEqual([...head], [0, 0x61, 0x73, 0x6d]);
    assert.equal(hasWasmMagic(head), true);
    assert.equal(readFileHead(join(dir, 'short'), 4)!.length, 2);
    assert.equal(hasWasmMagic(readFileHead(join(dir, 'short'), 4)!), false);
    assert.equal(readFileHead(join(dir, 'fifo'), 4), undefined);
    assert.equal(readFileHead(dir, 4), undefined);
    assert.equal(readFileHead(join(dir, 'missing'), 4), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Two functions of type () -> i32: #0 a small body, #1 a body padded with `nop`s to `bigBody` bytes;
 * #1 is exported as "big". Custom sections: a DWARF-like one, a name section, an old hints section.
 */
function twoFunctionModule(bigBody: number): Uint8Array {
  const small = [0, 0x41, 7, 0x0b]; // no locals, i32.const 7, end
  const big = [0, ...new Array(bigBody - 4).fill(0x01), 0x41, 9, 0x0b]; // nops, i32.const 9, end
  const body = (b: number[]): number[] => [...writeULeb(b.length), ...b];
  return new Uint8Array([
    ...header,
    ...section(1, [1, 0x60, 0, 1, 0x7f]),
    ...section(3, [2, 0, 0]),
    ...section(7, [1, ...name('big'), 0x00, 1]),
    ...section(0, [...name('compilationHints'), 2, 0xff, 0xff]),
    ...section(10, [2, ...body(small), ...body(big)]),
    ...section(0, [...name('.debug_info'), ...new Array(1000).fill(0xaa)]),
    ...section(0, [...name('name'), 1, 3, 2, 0, ...name('s'), 1, ...name('b')]),
  ]);
}

const customNames = (bytes: Uint8Array): string[] =>
  sections(bytes).filter((s) => s.id === 0).map((s) => {
    const len = readULeb(bytes, s.start);
    return Buffer.from(bytes.subarray(len.next, len.next + len.value)).toString();
  });

test('moduleForEngine: only the name section stays among custom sections (old hints and DWARF dropped)', () => {
  const bytes = twoFunctionModule(5000);
  assert.deepEqual(functionBodySizes(bytes), [4, 5000]);
  const out = moduleForEngine(bytes);
  assert.deepEqual(sections(out).map((s) => s.id), [1, 3, 7, 10, 0]);
  assert.deepEqual(customNames(out), ['name']);
  // Same behaviour as the original: the engine accepts it and the functions run.
  const run = (m: Uint8Array): number => (new WebAssembly.Instance(new WebAssembly.Module(m)).exports.big as () => number)();
  assert.equal(run(out), 9);
  assert.equal(run(bytes), 9);
});
