// The streaming zstd decoder of layers (src/image/tar.ts): real `zstd` output of every shape — raw,
// RLE and compressed blocks, with and without checksum and content size, several frames, a
// skippable frame, big windows — decodes to the same bytes as the one-shot decoder; a cut or
// damaged stream is an ImageError; the single-pass whiteout rule matches whiteouts-first.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { decompressedStream, layerFileStream } from '../../src/image/tar.js';
import { applyLayerStream } from '../../src/image/unpack.js';
import { ImageError } from '../../src/image/errors.js';
import { tempDir } from '../helpers.js';

const t = tempDir('hyrun-zstd-');
after(t.cleanup);
const hasZstd = (() => { try { execFileSync('zstd', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

const collect = async (r: Readable): Promise<Buffer> => {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
};
const zstd = (data: Buffer, args: string[]): Buffer => execFileSync('zstd', ['-q', '-c', ...args], { input: data, maxBuffer: 1 << 28 });

test('streamed zstd equals the input for every kind of frame zstd writes', { skip: !hasZstd && 'zstd missing' }, async () => {
  // Compressible text, random bytes (raw blocks), long zero runs (RLE blocks).
  const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `line ${i} of a layer\n`).join(''));
  const data = Buffer.concat([text, randomBytes(300_000), Buffer.alloc(2_000_000), text.subarray(0, 1234)]);
  for (const args of [[], ['--no-check'], ['--check', '-19'], ['--no-content-size'], ['--long=27'], ['-1', '-B4096']]) {
    const blob = zstd(data, args);
    assert.ok((await collect(decompressedStream(blob))).equals(data), args.join(' '));
    // The same from a file, read in 256 KiB pieces that cut frames anywhere.
    const file = join(t.path, 'layer.zst');
    writeFileSync(file, blob);
    assert.ok((await collect(await layerFileStream(file))).equals(data), `${args.join(' ')} from a file`);
  }
  // Two frames back to back, with a skippable frame between them.
  const skippable = Buffer.alloc(8 + 5);
  skippable.writeUInt32LE(0x184d2a53, 0);
  skippable.writeUInt32LE(5, 4);
  const two = Buffer.concat([zstd(text, []), skippable, zstd(data, ['--no-check'])]);
  assert.ok((await collect(decompressedStream(two))).equals(Buffer.concat([text, data])));
});

test('a damaged or cut zstd stream is an ImageError', { skip: !hasZstd && 'zstd missing' }, async () => {
  const blob = zstd(randomBytes(100_000), []);
  await assert.rejects(collect(decompressedStream(blob.subarray(0, blob.length - 10))), (e: unknown) => e instanceof ImageError && /cut short/.test((e as Error).message));
  // A frame whose first block has the reserved type.
  const reserved = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x10, 0x07, 0x00, 0x00]);
  await assert.rejects(collect(decompressedStream(reserved)), (e: unknown) => e instanceof ImageError && /not a valid zstd stream \(.+\)/.test((e as Error).message));
  // A damaged checksum: zstd's own check, which node's decoder verifies.
  const damaged = Buffer.from(blob);
  damaged[damaged.length - 1]! ^= 0xff;
  await assert.rejects(collect(decompressedStream(damaged)), (e: unknown) => e instanceof ImageError && /not a valid zstd stream/.test((e as Error).message));
});

test('a layer streamed in one pass: whiteouts after this layer\'s own entries still hide only the layers below', async () => {
  const root = join(t.path, 'root');
  mkdirSync(join(root, 'D'), { recursive: true });
  mkdirSync(join(root, 'X'), { recursive: true });
  mkdirSync(join(root, 'A/old'), { recursive: true });
  for (const f of ['D/a', 'D/b', 'X/y', 'A/old/f', 'gone']) writeFileSync(join(root, f), 'lower');
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => { for await (const c of p) chunks.push(c as Buffer); })();
  p.entry({ name: 'D/c' }, 'upper');
  p.entry({ name: 'D/.wh..wh..opq' }, '');
  p.entry({ name: 'X', type: 'directory' });
  p.entry({ name: 'X/z' }, 'upper');
  p.entry({ name: '.wh.X' }, '');
  p.entry({ name: 'A/new/g' }, 'upper');
  p.entry({ name: '.wh.A' }, '');
  p.entry({ name: '.wh.gone' }, '');
  p.finalize();
  await done;
  await applyLayerStream(root, Readable.from([Buffer.concat(chunks)]), 'sha256:0123456789abcdef');
  const list = (d: string): string[] => readdirSync(join(root, d)).sort();
  assert.deepEqual(list('.'), ['A', 'D', 'X']);
  assert.deepEqual(list('D'), ['c']);
  assert.deepEqual(list('X'), ['z']);
  assert.deepEqual(list('A'), ['new']);
  assert.equal(readFileSync(join(root, 'A/new/g'), 'utf8'), 'upper');
});
