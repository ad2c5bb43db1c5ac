// Layer tarballs: writing them reproducibly (sorted entries, fixed times and owners, pax headers for
// long names through tar-stream) and reading them (gzip, zstd or plain) entry by entry.
import { gunzipSync, gzipSync, createGunzip } from 'node:zlib';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { Readable, type Transform } from 'node:stream';
import { pack as tarPack, extract as tarExtract, type Header as Header_ } from 'tar-stream';
import { decompress as zstdDecompress, Decompress as ZstdStream } from 'fzstd';
import { ImageError } from './errors.js';
import { sha256 } from './store.js';

export interface LayerEntry {
  /** Path inside the layer, without a leading slash; directories without a trailing one. */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link';
  mode: number;
  uid: number;
  gid: number;
  content?: Buffer;
  linkname?: string;
}

/** Builds an uncompressed tar from entries in the given order, every mtime = `mtime` seconds. */
export async function writeTar(entries: LayerEntry[], mtime: number): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const done = (async () => { for await (const c of pack) chunks.push(c as Buffer); })();
  for (const e of entries) {
    const header = {
      name: e.type === 'directory' ? `${e.name}/` : e.name,
      type: e.type,
      mode: e.mode & 0o7777,
      uid: e.uid,
      gid: e.gid,
      mtime: new Date(mtime * 1000),
      uname: '',
      gname: '',
      linkname: e.type === 'symlink' || e.type === 'link' ? e.linkname : undefined,
    } as Header_;
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, e.type === 'file' ? e.content ?? Buffer.alloc(0) : Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A layer blob ready for the store: gzip bytes plus the diff ID (digest of the uncompressed tar). */
export interface BuiltLayer {
  blob: Buffer;
  diffId: string;
}

/** gzip from node's zlib has a fixed header (mtime 0, OS unix), so equal tars give equal blobs. */
export function compressLayer(tar: Buffer): BuiltLayer {
  return { blob: gzipSync(tar, { level: 6 }), diffId: sha256(tar) };
}

/** Decompresses a layer by looking at its magic bytes (gzip, zstd, or plain tar). */
export function decompressLayer(blob: Buffer): Buffer {
  if (blob.length >= 2 && blob[0] === 0x1f && blob[1] === 0x8b) return gunzipSync(blob);
  if (blob.length >= 4 && blob.readUInt32LE(0) === 0xfd2fb528) return Buffer.from(zstdDecompress(blob));
  return blob;
}

export function compressionOf(blob: Buffer): 'gzip' | 'zstd' | 'none' {
  if (blob.length >= 2 && blob[0] === 0x1f && blob[1] === 0x8b) return 'gzip';
  if (blob.length >= 4 && blob.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** A readable of the decompressed tar, streamed (gzip through zlib, zstd through fzstd's streaming decoder). */
export function decompressedStream(blob: Buffer): Readable {
  const kind = compressionOf(blob);
  const source = Readable.from([blob]);
  return kind === 'gzip' ? pipeWithErrors(source, createGunzip()) : kind === 'zstd' ? Readable.from(zstdUnits(source)) : source;
}

/**
 * A layer file (a blob in the store) as its decompressed tar, streamed: memory stays bounded by
 * the read buffers and the decoder's window, whatever the layer's size.
 */
export async function layerFileStream(path: string): Promise<Readable> {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(4);
  let n: number;
  try {
    n = readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  const kind = compressionOf(head.subarray(0, n));
  const source = createReadStream(path, { highWaterMark: 256 * 1024 });
  return kind === 'gzip' ? pipeWithErrors(source, createGunzip()) : kind === 'zstd' ? Readable.from(zstdUnits(source)) : source;
}

/** `from.pipe(to)`, with an error of `from` passed on to `to` (pipe alone drops it). */
function pipeWithErrors(from: Readable, to: Transform): Transform {
  from.on('error', (e) => to.destroy(e));
  return from.pipe(to);
}

/**
 * zstd frames decoded as they stream in, with bounded memory even for a layer built to expand
 * enormously (a block of zeros is 4 bytes that decode to 128 KiB). fzstd's Decompress emits
 * everything a pushed chunk decodes to at once, so the input is cut at zstd's own unit boundaries
 * (a frame header, then each block: at most 128 KiB of output) and each unit's output is handed
 * on, under backpressure, before the next unit is pushed.
 */
async function* zstdUnits(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const out: Buffer[] = [];
  const decoder = new ZstdStream((data) => { out.push(Buffer.from(data)); });
  let pending: Buffer = Buffer.alloc(0);
  /** Bytes of the current unit still to pass through, once its size is known. */
  let need = -1;
  /** Where the splitter is: a frame's magic, its header, a block header, a block's body, the checksum. */
  let state: 'magic' | 'header' | 'block' | 'body' | 'checksum' | 'skip' = 'magic';
  let checksum = false;
  let lastBlock = false;
  const take = (n: number): Buffer | null => {
    if (pending.length < n) return null;
    const unit = pending.subarray(0, n);
    pending = pending.subarray(n);
    return unit;
  };
  for await (const chunk of source) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      let unit: Buffer | null = null;
      if (state === 'magic') {
        if (pending.length < 8) break;
        const magic = pending.readUInt32LE(0);
        if ((magic & 0xfffffff0) === 0x184d2a50) {
          // A skippable frame: not zstd data, passed over.
          need = 8 + pending.readUInt32LE(4);
          state = 'skip';
          continue;
        }
        if (magic !== 0xfd2fb528) throw new ImageError('not a valid zstd stream (bad frame magic)');
        const fhd = pending[4];
        const single = (fhd >> 5) & 1;
        const fcsFlag = fhd >> 6;
        const didFlag = fhd & 3;
        checksum = ((fhd >> 2) & 1) === 1;
        const size = 5 + (single ? 0 : 1) + [0, 1, 2, 4][didFlag] + [single ? 1 : 0, 2, 4, 8][fcsFlag];
        unit = take(size);
        if (unit === null) break;
        state = 'block';
      } else if (state === 'block') {
        if (pending.length < 3) break;
        const header = pending[0] | (pending[1] << 8) | (pending[2] << 16);
        lastBlock = (header & 1) === 1;
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        if (type === 3) throw new ImageError('not a valid zstd stream (reserved block type)');
        need = 3 + (type === 1 ? 1 : size);
        state = 'body';
        continue;
      } else if (state === 'body') {
        unit = take(need);
        if (unit === null) break;
        state = lastBlock ? (checksum ? 'checksum' : 'magic') : 'block';
      } else if (state === 'checksum') {
        unit = take(4);
        if (unit === null) break;
        state = 'magic';
      } else {
        const skipped = take(Math.min(need, pending.length));
        need -= skipped!.length;
        if (need === 0) state = 'magic';
        if (pending.length === 0) break;
        continue;
      }
      decoder.push(unit);
      while (out.length > 0) yield out.shift()!;
    }
  }
  if (state !== 'magic' || pending.length > 0) throw new ImageError('not a valid zstd stream (cut short)');
  decoder.push(new Uint8Array(0), true);
  while (out.length > 0) yield out.shift()!;
}

/**
 * Calls `onEntry` for each entry of a decompressed tar stream in order, with the entry's content
 * as a stream (which onEntry must consume or drain). Nothing is held beyond one entry's chunks.
 */
export async function eachTarEntry(source: Readable, onEntry: (header: TarEntry['header'], content: Readable) => Promise<void>): Promise<void> {
  const extract = tarExtract();
  source.on('error', (e) => extract.destroy(e));
  source.pipe(extract);
  try {
    for await (const entry of extract) {
      await onEntry(entry.header as TarEntry['header'], entry as unknown as Readable);
      entry.resume();
    }
  } catch (e) {
    if (e instanceof ImageError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOSPC' || err.code === 'EDQUOT') throw e;
    throw new ImageError(`not a valid layer (tar, gzip or zstd): ${err.message}`);
  }
}

export interface TarEntry {
  header: Header_ & { pax?: Record<string, string> };
  content: Buffer;
}

/** Every entry of a (decompressed) tar, with its content. For image layers, which hyrun keeps small. */
export async function readTar(tar: Buffer | Readable): Promise<TarEntry[]> {
  const extract = tarExtract();
  const entries: TarEntry[] = [];
  const source = Buffer.isBuffer(tar) ? Readable.from([tar]) : tar;
  source.on('error', (e) => extract.destroy(e));
  source.pipe(extract);
  try {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const c of entry) parts.push(c as Buffer);
      entries.push({ header: entry.header as TarEntry['header'], content: Buffer.concat(parts) });
    }
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(`not a valid tar archive: ${(e as Error).message}`);
  }
  return entries;
}

export const isTarball = (data: Buffer): boolean => {
  try {
    const tar = decompressLayer(data);
    return tar.length >= 512 && tar.toString('latin1', 257, 262) === 'ustar';
  } catch {
    return false;
  }
};

