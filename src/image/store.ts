// The local image store: an OCI image layout (oci-layout, index.json, blobs/sha256/…) under one
// root directory, plus hyrun's own working directories beside it:
//   tmp/          blobs being written (named <pid>-<random>); never read as blobs
//   snapshots/    one unpacked rootfs per image manifest (unpack.ts)
//   containers/   containers made by `hyrun run IMAGE`
//   index.lock    held (O_EXCL, holding the owner's pid) while index.json is rewritten
// Blobs are written to tmp/, hashed while written, verified, then renamed into blobs/: a reader never
// sees a half-written blob. index.json is replaced by rename under the lock. A process killed half
// way leaves only tmp/ files with its pid, which the next store user removes.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync,
  unlinkSync, utimesSync, writeFileSync, writeSync, createWriteStream, createReadStream,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageError } from './errors.js';
import {
  ANNOTATION_REF_NAME, isIndex, MT, type Descriptor, type ImageConfig, type ImageIndex, type Manifest,
} from './media.js';

export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** The store root: --storage, else HYRUN_STORAGE, else /var/lib/hyrun/storage (root) or ~/.local/share/hyrun/storage. */
export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HYRUN_STORAGE) return env.HYRUN_STORAGE;
  if (process.getuid?.() === 0) return '/var/lib/hyrun/storage';
  const data = env.XDG_DATA_HOME || join(homedir(), '.local/share');
  return join(data, 'hyrun/storage');
}

export const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Canonical JSON bytes for a manifest/config/index we write (stable key order as given, no spaces). */
export const jsonBytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

export interface StoredImage {
  /** Full reference, e.g. docker.io/library/alpine:latest, or undefined for an untagged entry. */
  name?: string;
  descriptor: Descriptor;
}

const sleepSync = (ms: number): void => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); };

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lease files of this process (one per store it wrote to), removed when it exits. */
const leases = new Set<string>();

export class Store {
  readonly root: string;
  readonly blobDir: string;
  readonly tmpDir: string;

  constructor(root: string = defaultStoreRoot()) {
    this.root = root;
    this.blobDir = join(root, 'blobs/sha256');
    this.tmpDir = join(root, 'tmp');
    try {
      mkdirSync(this.blobDir, { recursive: true });
      mkdirSync(this.tmpDir, { recursive: true });
    } catch (e) {
      throw new ImageError(`cannot create the image store at ${root}: ${(e as Error).message}; pass --storage DIR or set HYRUN_STORAGE`);
    }
    if (!existsSync(join(root, 'oci-layout'))) writeFileSync(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    if (!existsSync(join(root, 'index.json'))) this.withLock(() => {
      if (!existsSync(join(root, 'index.json'))) this.writeIndexUnlocked({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] });
    });
    this.cleanTmp();
  }

  /** Removes temporary files left by processes that no longer exist (killed pulls and builds). */
  cleanTmp(): void {
    for (const name of readdirSync(this.tmpDir)) {
      const pid = Number(name.split('-', 1)[0]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) continue;
      if (pid === process.pid) continue;
      rmSync(join(this.tmpDir, name), { recursive: true, force: true });
    }
  }

  /**
   * Marks this process as writing blobs (tmp/<pid>-lease, removed at exit or by cleanTmp once the
   * process is gone). prune keeps every blob written or reused since the oldest live lease, so it
   * never removes what a concurrent build or pull has stored but not yet tagged.
   */
  private lease(): void {
    const file = join(this.tmpDir, `${process.pid}-lease`);
    if (leases.has(file)) return;
    leases.add(file);
    writeFileSync(file, '');
    if (leases.size === 1) process.once('exit', () => { for (const f of leases) rmSync(f, { force: true }); });
  }

  /** A fresh temporary path owned by this process (removed by cleanTmp once we are gone). */
  tempPath(label = 'tmp'): string {
    return join(this.tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}-${label}`);
  }

  blobPath(digest: string): string {
    if (!DIGEST_RE.test(digest)) throw new ImageError(`unsupported or malformed digest ${JSON.stringify(digest)}; hyrun stores sha256 digests only`);
    return join(this.blobDir, digest.slice(7));
  }

  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  readBlob(digest: string): Buffer {
    try {
      return readFileSync(this.blobPath(digest));
    } catch {
      throw new ImageError(`blob ${digest} is missing from the store ${this.root}; pull the image again`);
    }
  }

  readJson<T>(digest: string): T {
    return JSON.parse(this.readBlob(digest).toString('utf8')) as T;
  }

  blobStream(digest: string): Readable {
    return createReadStream(this.blobPath(digest));
  }

  /** Stores bytes as a blob (verified against `expected` when given); returns its digest and size. */
  putBlob(data: Buffer, expected?: string): { digest: string; size: number } {
    const digest = sha256(data);
    if (expected !== undefined && expected !== digest) throw new ImageError(`digest mismatch: expected ${expected}, content is ${digest}; nothing was stored`);
    const target = this.blobPath(digest);
    this.lease();
    if (existsSync(target)) {
      // Reused by this writer: fresh again, so a concurrent prune (which spares recent blobs) keeps it.
      const now = new Date();
      utimesSync(target, now, now);
      return { digest, size: data.length };
    }
    const tmp = this.tempPath('blob');
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
    return { digest, size: data.length };
  }

  /**
   * Streams a blob into the store: written to tmp/, hashed on the way, checked against the expected
   * digest and size, then renamed. On any mismatch or error the temporary file is removed.
   */
  async putBlobStream(source: AsyncIterable<Uint8Array> | Readable, expected: { digest?: string; size?: number } = {}, onBytes?: (n: number) => void): Promise<{ digest: string; size: number }> {
    this.lease();
    const tmp = this.tempPath('blob');
    const hash = createHash('sha256');
    let size = 0;
    try {
      const out = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
      await pipeline(Readable.from(source as AsyncIterable<Uint8Array>), async function* (chunks) {
        for await (const chunk of chunks) {
          const buf = chunk as Buffer;
          hash.update(buf);
          size += buf.length;
          onBytes?.(buf.length);
          if (expected.size !== undefined && size > expected.size) {
            throw new ImageError(`blob ${expected.digest ?? ''} is larger than its descriptor says (${expected.size} bytes); nothing was stored`);
          }
          yield buf;
        }
      }, out);
      const digest = `sha256:${hash.digest('hex')}`;
      if (expected.digest !== undefined && digest !== expected.digest) {
        throw new ImageError(`digest mismatch: expected ${expected.digest}, received ${digest}; the blob was rejected and nothing was stored`);
      }
      if (expected.size !== undefined && size !== expected.size) {
        throw new ImageError(`size mismatch for ${digest}: expected ${expected.size} bytes, received ${size}; nothing was stored`);
      }
      renameSync(tmp, this.blobPath(digest));
      return { digest, size };
    } catch (e) {
      rmSync(tmp, { force: true });
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new ImageError(`no space left on the device holding ${this.root}; free some space (hyrun prune) and retry; nothing was stored`);
      throw e;
    }
  }

  // ---- the index

  /** Runs fn while holding index.lock (a pid file created with O_EXCL; a dead owner's lock is broken). */
  withLock<T>(fn: () => T): T {
    const lock = join(this.root, 'index.lock');
    const deadline = Date.now() + 60_000;
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(lock, 'wx', 0o644);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        let owner = NaN;
        try { owner = Number(readFileSync(lock, 'utf8')); } catch { /* released meanwhile */ }
        if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
          // The owner died holding it: break the lock by renaming (only one breaker wins the rename).
          try { renameSync(lock, `${lock}.stale-${process.pid}`); unlinkSync(`${lock}.stale-${process.pid}`); } catch { /* someone else broke it */ }
          continue;
        }
        if (Date.now() > deadline) throw new ImageError(`the image store ${this.root} is locked by process ${owner}; wait for it or remove ${lock} if it is gone`);
        sleepSync(Math.min(5 + attempt * 5, 50));
      }
    }
    try {
      return fn();
    } finally {
      rmSync(lock, { force: true });
    }
  }

  readIndex(): ImageIndex {
    try {
      return JSON.parse(readFileSync(join(this.root, 'index.json'), 'utf8')) as ImageIndex;
    } catch (e) {
      throw new ImageError(`cannot read ${join(this.root, 'index.json')}: ${(e as Error).message}`);
    }
  }

  private writeIndexUnlocked(index: ImageIndex): void {
    const tmp = this.tempPath('index');
    writeFileSync(tmp, JSON.stringify(index, null, 2));
    renameSync(tmp, join(this.root, 'index.json'));
  }

  /** Applies `change` to index.json under the lock. */
  updateIndex(change: (index: ImageIndex) => void): void {
    this.withLock(() => {
      const index = this.readIndex();
      change(index);
      this.writeIndexUnlocked(index);
    });
  }

  images(): StoredImage[] {
    return this.readIndex().manifests.map((d) => ({ name: d.annotations?.[ANNOTATION_REF_NAME], descriptor: d }));
  }

  /** Points `name` at the manifest (or index) `descriptor`; the name moves away from any other image. */
  tag(name: string, descriptor: Descriptor): void {
    if (!this.hasBlob(descriptor.digest)) throw new ImageError(`cannot tag ${name}: manifest ${descriptor.digest} is not in the store`);
    this.updateIndex((index) => {
      index.manifests = index.manifests.filter((d) => d.annotations?.[ANNOTATION_REF_NAME] !== name);
      const { annotations: _old, ...rest } = descriptor;
      index.manifests.push({ ...rest, annotations: { [ANNOTATION_REF_NAME]: name } });
    });
  }

  /** Removes a name; returns false when no image had it. */
  untag(name: string): boolean {
    let found = false;
    this.updateIndex((index) => {
      const before = index.manifests.length;
      index.manifests = index.manifests.filter((d) => d.annotations?.[ANNOTATION_REF_NAME] !== name);
      found = index.manifests.length !== before;
    });
    return found;
  }

  /** Removes every entry for this digest. */
  removeDigest(digest: string): number {
    let n = 0;
    this.updateIndex((index) => {
      const before = index.manifests.length;
      index.manifests = index.manifests.filter((d) => d.digest !== digest);
      n = before - index.manifests.length;
    });
    return n;
  }

  /** The descriptor named `name` (a full reference) or whose digest is/starts with `idOrDigest`. */
  find(nameOrId: string): StoredImage | undefined {
    const images = this.images();
    const byName = images.find((i) => i.name === nameOrId);
    if (byName) return byName;
    const hex = nameOrId.replace(/^sha256:/, '');
    if (/^[a-f0-9]{6,64}$/.test(hex)) {
      const matches = images.filter((i) => i.descriptor.digest.slice(7).startsWith(hex) || (this.configDigestOf(i.descriptor) ?? '').slice(7).startsWith(hex));
      const digests = new Set(matches.map((m) => m.descriptor.digest));
      if (digests.size === 1) return matches[0];
      if (digests.size > 1) throw new ImageError(`${nameOrId} is ambiguous: it matches ${digests.size} images; give more digits`);
    }
    return undefined;
  }

  /** The config digest of a manifest descriptor (the image ID), or undefined for an index. */
  configDigestOf(descriptor: Descriptor): string | undefined {
    if (isIndex(descriptor.mediaType)) return undefined;
    try {
      return this.readJson<Manifest>(descriptor.digest).config.digest;
    } catch {
      return undefined;
    }
  }

  listBlobs(): string[] {
    return readdirSync(this.blobDir).map((hex) => `sha256:${hex}`);
  }

  removeBlob(digest: string): void {
    rmSync(this.blobPath(digest), { force: true });
  }

  /** Every blob reachable from the index (manifests, nested manifests, configs, layers). */
  reachableBlobs(): Set<string> {
    const seen = new Set<string>();
    const visit = (d: Descriptor): void => {
      if (seen.has(d.digest)) return;
      seen.add(d.digest);
      if (!this.hasBlob(d.digest)) return; // partial indexes (one platform pulled) are allowed
      if (isIndex(d.mediaType)) {
        for (const m of this.readJson<ImageIndex>(d.digest).manifests) visit(m);
      } else if (d.mediaType === MT.ociManifest || d.mediaType === MT.dockerManifest || d.mediaType === undefined) {
        const m = this.readJson<Manifest>(d.digest);
        if (m.config) seen.add(m.config.digest);
        for (const l of m.layers ?? []) seen.add(l.digest);
      }
    };
    for (const d of this.readIndex().manifests) visit(d);
    return seen;
  }

  /** Deletes unreferenced blobs and snapshots (under the lock); returns what was freed. */
  prune(): { blobs: number; bytes: number; snapshots: number } {
    let blobs = 0;
    let bytes = 0;
    let snapshots = 0;
    this.withLock(() => {
      const keep = this.reachableBlobs();
      const since = this.oldestOtherLease();
      for (const hex of readdirSync(this.blobDir)) {
        if (keep.has(`sha256:${hex}`)) continue;
        const path = join(this.blobDir, hex);
        const st = statSync(path);
        if (since !== undefined && st.mtimeMs >= since - 1000) continue; // maybe a live writer's, not tagged yet
        bytes += st.size;
        rmSync(path, { force: true });
        blobs++;
      }
      const snapDir = join(this.root, 'snapshots');
      if (existsSync(snapDir)) {
        for (const hex of readdirSync(snapDir)) {
          if (keep.has(`sha256:${hex.replace(/-setid$/, '')}`)) continue;
          rmSync(join(snapDir, hex), { recursive: true, force: true });
          snapshots++;
        }
      }
    });
    this.cleanTmp();
    return { blobs, bytes, snapshots };
  }

  /** mtime (ms) of the oldest lease of another live process, if any. */
  private oldestOtherLease(): number | undefined {
    let oldest: number | undefined;
    for (const name of readdirSync(this.tmpDir)) {
      const m = /^(\d+)-lease$/.exec(name);
      if (!m || Number(m[1]) === process.pid || !processAlive(Number(m[1]))) continue;
      try {
        const t = statSync(join(this.tmpDir, name)).mtimeMs;
        oldest = oldest === undefined ? t : Math.min(oldest, t);
      } catch {
        // gone meanwhile
      }
    }
    return oldest;
  }

  /** Reads the config of an image manifest. */
  config(manifest: Manifest): ImageConfig {
    return this.readJson<ImageConfig>(manifest.config.digest);
  }
}
