// Layer tarballs: writing them reproducibly (sorted entries, fixed times and owners, pax headers for
// long names through tar-stream) and reading them (gzip, zstd or plain) entry by entry.
import { gunzipSync, gzipSync, createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { pack as tarPack, extract as tarExtract, type Header as Header_ } from 'tar-stream';
import { decompress as zstdDecompress } from 'fzstd';
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

/** A readable of the decompressed tar (gzip streamed; zstd decompressed in memory: fzstd is one-shot). */
export function decompressedStream(blob: Buffer): Readable {
  if (compressionOf(blob) === 'gzip') return Readable.from([blob]).pipe(createGunzip());
  return Readable.from([decompressLayer(blob)]);
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

