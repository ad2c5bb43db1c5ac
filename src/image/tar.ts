// Layer tarballs: writing them reproducibly (sorted entries, fixed times and owners, pax headers for
// long names through tar-stream) and reading them (gzip, zstd or plain) entry by entry.
import { gunzipSync, gzipSync, createGunzip, createZstdDecompress, zstdDecompressSync } from 'node:zlib';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { Readable, type Transform } from 'node:stream';
import { pack as tarPack, extract as tarExtract, type Header as Header_ } from 'tar-stream';
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
  if (blob.length >= 4 && blob.readUInt32LE(0) === 0xfd2fb528) return zstdDecompressSync(blob);
  return blob;
}

export function compressionOf(blob: Buffer): 'gzip' | 'zstd' | 'none' {
  if (blob.length >= 2 && blob[0] === 0x1f && blob[1] === 0x8b) return 'gzip';
  if (blob.length >= 4 && blob.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** A readable of the decompressed tar, streamed through node's zlib (gzip or zstd). */
export function decompressedStream(blob: Buffer): Readable {
  const kind = compressionOf(blob);
  const source = Readable.from([blob]);
  return kind === 'gzip' ? pipeWithErrors(source, createGunzip()) : kind === 'zstd' ? zstdDecoded(source) : source;
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
  return kind === 'gzip' ? pipeWithErrors(source, createGunzip()) : kind === 'zstd' ? zstdDecoded(source) : source;
}

/** `from.pipe(to)`, with an error of `from` passed on to `to` (pipe alone drops it). */
function pipeWithErrors(from: Readable, to: Transform): Transform {
  from.on('error', (e) => to.destroy(e));
  return from.pipe(to);
}

/**
 * `source` through node's zstd decoder (zlib's streams: pulled under backpressure, memory bounded
 * by the window), its errors made ImageErrors that say what is wrong with the stream.
 */
function zstdDecoded(source: Readable): Readable {
  const decoder = pipeWithErrors(source, createZstdDecompress());
  return Readable.from((async function* () {
    try {
      yield* decoder;
    } catch (e) {
      if (e instanceof ImageError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new ImageError(`not a valid zstd stream (${code === 'Z_BUF_ERROR' ? 'cut short' : (e as Error).message.toLowerCase()})`);
    }
  })());
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

