// Byte-exact buffer semantics (test/guests/wat/fs_buffers.wat run by `hyrun run`): fd_readdir's
// packed dirents with the last one cut to fill the buffer, cookies, path_readlink truncation,
// fd_prestat_dir_name without a NUL, and FAULT for buffers outside guest memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, symlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrunBin, tempDir } from '../helpers.js';

const RECORD = 136;
const FILL = 0xee;

interface Rec { errno: number; used: number; buf: Buffer }

function dirent(next: bigint, ino: bigint, name: string, type: number): Buffer {
  const b = Buffer.alloc(24 + name.length);
  b.writeBigUInt64LE(next, 0);
  b.writeBigUInt64LE(ino, 8);
  b.writeUInt32LE(name.length, 16);
  b.writeUInt8(type, 20); // then 3 zero padding bytes
  b.write(name, 24, 'latin1');
  return b;
}

/** The 128-byte buffer the guest should see: `written` bytes from the host, the rest untouched. */
const expectBuf = (written: Buffer): Buffer => Buffer.concat([written, Buffer.alloc(128 - written.length, FILL)]);

test('fs_buffers: readdir/readlink/prestat buffers are filled exactly', () => {
  const dir = tempDir('hyrun-fs-buf-');
  try {
    mkdirSync(join(dir.path, 'd'));
    writeFileSync(join(dir.path, 'd/abc'), 'x');
    symlinkSync('d/abc', join(dir.path, 'lnk'));
    const r = spawnSync(hyrunBin, ['run', '--dir', `${dir.path}::/sandbox`, guest('fs_buffers')], { timeout: 60_000 });
    assert.equal(r.status, 0, String(r.stderr));
    const out = r.stdout as Buffer;
    assert.equal(out.length, RECORD * 14);
    const recs: Rec[] = [];
    for (let i = 0; i < 14; i++) {
      const rec = out.subarray(i * RECORD, (i + 1) * RECORD);
      recs.push({ errno: rec.readUInt32LE(0), used: rec.readUInt32LE(4), buf: rec.subarray(8) });
    }
    const ino = (p: string): bigint => statSync(join(dir.path, p), { bigint: true }).ino;
    const all = Buffer.concat([dirent(1n, ino('d'), '.', 3), dirent(2n, ino('.'), '..', 3), dirent(3n, ino('d/abc'), 'abc', 4)]);
    assert.equal(all.length, 78);
    const untouched = 0xeeeeeeee;

    assert.equal(recs[0].errno, 0, 'path_open d');
    const readdirCases: [number, number, Buffer][] = [
      [1, 78, all], [2, 78, all], [3, 60, all.subarray(0, 60)], [4, 76, all.subarray(0, 76)],
      [5, 10, all.subarray(0, 10)], [6, 0, Buffer.alloc(0)], [7, 27, all.subarray(51)], [8, 0, Buffer.alloc(0)],
    ];
    for (const [i, used, bytes] of readdirCases) {
      assert.equal(recs[i].errno, 0, `readdir case ${i}`);
      assert.equal(recs[i].used, used, `bufused case ${i}`);
      assert.deepEqual(recs[i].buf, expectBuf(bytes), `buffer case ${i}`);
    }
    assert.deepEqual([recs[9].errno, recs[9].used], [21, untouched], 'readdir buffer outside memory: FAULT, nothing written');
    assert.deepEqual(recs[9].buf, expectBuf(Buffer.alloc(0)));
    assert.deepEqual([recs[10].errno, recs[10].used], [0, 3]);
    assert.deepEqual(recs[10].buf, expectBuf(Buffer.from('d/a')), 'readlink truncated to the buffer');
    assert.deepEqual([recs[11].errno, recs[11].used], [0, 5]);
    assert.deepEqual(recs[11].buf, expectBuf(Buffer.from('d/abc')));
    assert.deepEqual([recs[12].errno, recs[12].used], [0, untouched]);
    assert.deepEqual(recs[12].buf, expectBuf(Buffer.from('/sandbox')), 'prestat name, no NUL');
    assert.deepEqual([recs[13].errno, recs[13].used], [21, untouched], 'iovec outside memory: FAULT');
  } finally {
    dir.cleanup();
  }
});
