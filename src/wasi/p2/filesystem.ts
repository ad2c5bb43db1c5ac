// wasi:filesystem — the `descriptor` resource over preview1's descriptor classes (directory.ts,
// file.ts, preopen.ts) and path operations (path-ops.ts): one file system, two interfaces. A WASI
// 0.2 descriptor's flags (read, write, mutate-directory) become the preview1 rights they stand for,
// so the sandbox rules (resolve.ts, special-files.ts, read-only mounts, hidden paths) and the
// rights checks are the very same code. Errors are wasi:filesystem error-code names (errors.ts).
import { ERRNO, FDFLAGS, FILETYPE, FSTFLAGS, OFLAGS, RIGHTS } from '../constants.js';
import type { WasiContext } from '../context.js';
import type { Descriptor as Inner, Filestat } from '../descriptor.js';
import { CHANGE_DIRECTORY_RIGHTS, DirectoryDescriptor, DIRECTORY_INHERITING_RIGHTS, DIRECTORY_RIGHTS } from '../directory.js';
import { WasiError } from '../errors.js';
import { FILE_RIGHTS, WRITE_RIGHTS } from '../file.js';
import * as ops from '../path-ops.js';
import { PreopenDescriptor } from '../preopen.js';
import { datetime } from './clocks.js';
import { fsResult, IoError } from './errors.js';
import { InputStream, OutputStream, type ByteSink, type ByteSource } from './streams.js';

interface DescriptorFlags {
  read?: boolean; write?: boolean; fileIntegritySync?: boolean; dataIntegritySync?: boolean;
  requestedWriteSync?: boolean; mutateDirectory?: boolean;
}
interface PathFlags { symlinkFollow?: boolean }
interface OpenFlags { create?: boolean; directory?: boolean; exclusive?: boolean; truncate?: boolean }
interface Datetime { seconds: bigint; nanoseconds: number }
type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: Datetime };

const TYPE_NAMES: Record<number, string> = {
  [FILETYPE.UNKNOWN]: 'unknown', [FILETYPE.BLOCK_DEVICE]: 'block-device', [FILETYPE.CHARACTER_DEVICE]: 'character-device',
  [FILETYPE.DIRECTORY]: 'directory', [FILETYPE.REGULAR_FILE]: 'regular-file', [FILETYPE.SOCKET_DGRAM]: 'socket',
  [FILETYPE.SOCKET_STREAM]: 'socket', [FILETYPE.SYMBOLIC_LINK]: 'symbolic-link',
};
const typeName = (filetype: number): string => TYPE_NAMES[filetype] ?? 'unknown';
const ADVICE: Record<string, number> = { normal: 0, sequential: 1, random: 2, 'will-need': 3, 'dont-need': 4, 'no-reuse': 5 };
const NS = 1_000_000_000n;

/** A file's rights other than reading and changing it (seek, tell, stat, advise, flags, poll). */
const FILE_NEUTRAL = FILE_RIGHTS & ~(RIGHTS.FD_READ | WRITE_RIGHTS | RIGHTS.FD_FILESTAT_SET_TIMES);

/**
 * The preview1 rights a WASI 0.2 open-at asks for (masked in path-ops by the parent's and by the
 * kind of object opened). A file gets read and write as its flags say; a directory gets what its
 * parent may hand down whatever the flags (WASI 0.2 has no directory rights to ask for: the
 * preview1 adapter opens them with every flag off, and wasmtime lets them inherit too).
 */
function rightsOf(flags: DescriptorFlags): bigint {
  let r = FILE_NEUTRAL | DIRECTORY_RIGHTS;
  if (flags.read) r |= RIGHTS.FD_READ;
  if (flags.write) r |= WRITE_RIGHTS | RIGHTS.FD_FILESTAT_SET_TIMES;
  return r;
}

const fail = (errno: number): never => {
  throw new WasiError(errno);
};

/** Descriptors the guest opened (not its preopens), per instance: closed when the instance ends if the guest has not dropped them. */
const opened = new WeakMap<WasiContext, Set<Inner>>();

/** Closes what the guest of `ctx` opened and still holds. */
export function closeOpened(ctx: WasiContext): void {
  for (const d of opened.get(ctx) ?? []) d.close();
  opened.delete(ctx);
}

export class Descriptor {
  constructor(readonly inner: Inner, private readonly ctx: WasiContext) {}

  /** The inner descriptor if it has `rights`: else BADF (the object was not opened for it) or ROFS in a read-only place. */
  private with(rights: bigint): Inner {
    const d = this.inner;
    if ((d.rightsBase & rights) !== rights) fail(d.readOnly && (rights & (WRITE_RIGHTS | RIGHTS.FD_FILESTAT_SET_TIMES)) !== 0n ? ERRNO.ROFS : ERRNO.BADF);
    return d;
  }

  private get isDirectory(): boolean { return this.inner instanceof DirectoryDescriptor; }

  readViaStream(offset: bigint): InputStream {
    return fsResult(() => {
      if (this.isDirectory) fail(ERRNO.ISDIR);
      return new InputStream(fileSource(this.with(RIGHTS.FD_READ), offset));
    });
  }

  writeViaStream(offset: bigint): OutputStream {
    return fsResult(() => {
      if (this.isDirectory) fail(ERRNO.ISDIR);
      return new OutputStream(fileSink(this.with(RIGHTS.FD_WRITE), offset));
    });
  }

  appendViaStream(): OutputStream {
    return fsResult(() => {
      if (this.isDirectory) fail(ERRNO.ISDIR);
      return new OutputStream(fileSink(this.with(RIGHTS.FD_WRITE), 'append'));
    });
  }

  advise(offset: bigint, length: bigint, advice: string): void {
    fsResult(() => this.inner.advise(offset, length, ADVICE[advice] ?? fail(ERRNO.INVAL)));
  }

  syncData(): void { fsResult(() => this.inner.datasync()); }
  sync(): void { fsResult(() => this.inner.sync()); }

  getFlags(): DescriptorFlags {
    const r = this.inner.rightsBase;
    const f = this.inner.fdflags;
    return {
      read: (r & (RIGHTS.FD_READ | RIGHTS.FD_READDIR)) !== 0n,
      write: (r & RIGHTS.FD_WRITE) !== 0n,
      fileIntegritySync: (f & FDFLAGS.SYNC) !== 0,
      dataIntegritySync: (f & FDFLAGS.DSYNC) !== 0,
      requestedWriteSync: (f & FDFLAGS.RSYNC) !== 0,
      mutateDirectory: this.isDirectory && (r & CHANGE_DIRECTORY_RIGHTS) !== 0n,
    };
  }

  getType(): string { return typeName(this.inner.filetype); }

  setSize(size: bigint): void {
    fsResult(() => this.with(RIGHTS.FD_FILESTAT_SET_SIZE).setSize(size));
  }

  setTimes(atime: NewTimestamp, mtime: NewTimestamp): void {
    fsResult(() => {
      const [a, m, flags] = timesOf(atime, mtime);
      (this.isDirectory ? this.inner : this.with(RIGHTS.FD_FILESTAT_SET_TIMES)).setTimes(a, m, flags);
    });
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    return fsResult(() => {
      if (this.isDirectory) fail(ERRNO.ISDIR);
      const buf = new Uint8Array(Math.min(Number(length), 1 << 24));
      const n = buf.length === 0 ? 0 : this.with(RIGHTS.FD_READ).pread([buf], offset);
      return [buf.subarray(0, n), n < buf.length];
    });
  }

  write(buffer: Uint8Array, offset: bigint): bigint {
    return fsResult(() => {
      if (this.isDirectory) fail(ERRNO.ISDIR);
      return BigInt(this.with(RIGHTS.FD_WRITE).pwrite([buffer], offset));
    });
  }

  readDirectory(): DirectoryEntryStream {
    return fsResult(() => {
      if (!this.isDirectory) fail(ERRNO.NOTDIR);
      return new DirectoryEntryStream(this.with(RIGHTS.FD_READDIR).readdirBytes(0n));
    });
  }

  stat(): object { return fsResult(() => toStat(this.inner.filestat())); }

  statAt(pathFlags: PathFlags, path: string): object {
    return fsResult(() => toStat(ops.statAt(this.inner, path, pathFlags.symlinkFollow === true)));
  }

  setTimesAt(pathFlags: PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): void {
    fsResult(() => {
      const [a, m, flags] = timesOf(atime, mtime);
      ops.setTimesAt(this.inner, path, pathFlags.symlinkFollow === true, a, m, flags);
    });
  }

  linkAt(oldPathFlags: PathFlags, oldPath: string, newDescriptor: Descriptor, newPath: string): void {
    fsResult(() => ops.linkAt(this.inner, oldPathFlags.symlinkFollow === true, oldPath, newDescriptor.inner, newPath));
  }

  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    return fsResult(() => {
      let oflags = 0;
      if (openFlags.create) oflags |= OFLAGS.CREAT;
      if (openFlags.directory) oflags |= OFLAGS.DIRECTORY;
      if (openFlags.exclusive) oflags |= OFLAGS.EXCL;
      if (openFlags.truncate) oflags |= OFLAGS.TRUNC;
      // Asking a directory that may not change anything for mutate-directory is refused, not quietly dropped.
      if (flags.mutateDirectory && (this.inner.rightsBase & CHANGE_DIRECTORY_RIGHTS) === 0n) fail(this.inner.readOnly ? ERRNO.ROFS : ERRNO.PERM);
      let fdflags = 0;
      if (flags.fileIntegritySync) fdflags |= FDFLAGS.SYNC;
      if (flags.dataIntegritySync) fdflags |= FDFLAGS.DSYNC;
      if (flags.requestedWriteSync) fdflags |= FDFLAGS.RSYNC;
      const d = ops.openAt(this.ctx, this.inner, path, {
        follow: pathFlags.symlinkFollow === true, oflags, rightsBase: rightsOf(flags), rightsInheriting: DIRECTORY_INHERITING_RIGHTS, fdflags,
      });
      let held = opened.get(this.ctx);
      if (held === undefined) opened.set(this.ctx, (held = new Set()));
      held.add(d);
      return new Descriptor(d, this.ctx);
    });
  }

  readlinkAt(path: string): string {
    return fsResult(() => ops.readlinkAt(this.inner, path).toString('utf8'));
  }

  removeDirectoryAt(path: string): void { fsResult(() => ops.removeDirectoryAt(this.inner, path)); }
  renameAt(oldPath: string, newDescriptor: Descriptor, newPath: string): void {
    fsResult(() => ops.renameAt(this.inner, oldPath, newDescriptor.inner, newPath));
  }
  symlinkAt(oldPath: string, newPath: string): void { fsResult(() => ops.symlinkAt(oldPath, this.inner, newPath)); }
  unlinkFileAt(path: string): void { fsResult(() => ops.unlinkFileAt(this.inner, path)); }
  createDirectoryAt(path: string): void { fsResult(() => ops.createDirectoryAt(this.inner, path)); }

  isSameObject(other: Descriptor): boolean {
    const a = this.inner.filestat();
    const b = other.inner.filestat();
    return a.dev === b.dev && a.ino === b.ino;
  }

  metadataHash(): { upper: bigint; lower: bigint } {
    return fsResult(() => hashOf(this.inner.filestat()));
  }

  metadataHashAt(pathFlags: PathFlags, path: string): { upper: bigint; lower: bigint } {
    return fsResult(() => hashOf(ops.statAt(this.inner, path, pathFlags.symlinkFollow === true)));
  }

  [Symbol.dispose](): void {
    // The guest's preopens live as long as the instance (it may ask get-directories again).
    if (this.inner instanceof PreopenDescriptor) return;
    opened.get(this.ctx)?.delete(this.inner);
    this.inner.close();
  }
}

/** A file's identity, which is all WASI asks of the hash: equal for the same object, different otherwise. */
const hashOf = (f: Filestat): { upper: bigint; lower: bigint } => ({ upper: f.dev, lower: f.ino });

function toStat(f: Filestat): object {
  return {
    type: typeName(f.filetype), linkCount: f.nlink, size: f.size,
    dataAccessTimestamp: datetime(f.atim), dataModificationTimestamp: datetime(f.mtim), statusChangeTimestamp: datetime(f.ctim),
  };
}

/** WASI 0.2's two new-timestamps as preview1's (atim, mtim, fstflags). */
function timesOf(atime: NewTimestamp, mtime: NewTimestamp): [bigint, bigint, number] {
  let flags = 0;
  const one = (t: NewTimestamp, set: number, now: number): bigint => {
    if (t.tag === 'now') flags |= now;
    if (t.tag !== 'timestamp') return 0n;
    flags |= set;
    return t.val.seconds * NS + BigInt(t.val.nanoseconds);
  };
  const a = one(atime, FSTFLAGS.ATIM, FSTFLAGS.ATIM_NOW);
  const m = one(mtime, FSTFLAGS.MTIM, FSTFLAGS.MTIM_NOW);
  return [a, m, flags];
}

/** Whether a descriptor reads and writes at offsets (regular files, block devices) or as a stream. */
const positional = (d: Inner): boolean => d.filetype === FILETYPE.REGULAR_FILE || d.filetype === FILETYPE.BLOCK_DEVICE;

function fileSource(d: Inner, offset: bigint): ByteSource {
  let at = offset;
  return {
    read(into) {
      if (!positional(d)) return d.read([into]);
      const n = d.pread([into], at);
      at += BigInt(n);
      return n;
    },
    ready: () => d.pollReadable().ready,
  };
}

function fileSink(d: Inner, offset: bigint | 'append'): ByteSink {
  let at = offset;
  return {
    write(bytes) {
      for (let done = 0; done < bytes.length;) {
        const rest = bytes.subarray(done);
        let n: number;
        if (!positional(d)) n = d.write([rest]);
        else {
          const pos = at === 'append' ? d.filestat().size : at;
          n = d.pwrite([rest], pos);
          if (at !== 'append') at = pos + BigInt(n);
        }
        done += n;
      }
    },
  };
}

/** wasi:filesystem `directory-entry-stream`, over fd_readdir's listing (hidden names and kernel zones already applied). */
export class DirectoryEntryStream {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  readDirectoryEntry(): { type: string; name: string } | undefined {
    // preview1 dirents: next u64, ino u64, namlen u32, type u8 (+3), then the name. `.` and `..` are not WASI 0.2 entries.
    while (this.at + 24 <= this.bytes.length) {
      const namlen = this.view.getUint32(this.at + 16, true);
      const type = this.bytes[this.at + 20]!;
      const name = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.at + 24, namlen).toString('utf8');
      this.at += 24 + namlen;
      if (name !== '.' && name !== '..') return { type: typeName(type), name };
    }
    return undefined;
  }

  [Symbol.dispose](): void {}
}

/** wasi:filesystem/types `filesystem-error-code`: the code of a stream error that came from a file. */
export function filesystemErrorCode(err: IoError): string | undefined {
  return err instanceof IoError ? err.code : undefined;
}

/** wasi:filesystem/preopens `get-directories`: the preopens, in the order given, with the guest's names. */
export function getDirectories(ctx: WasiContext, wrap: (d: Inner) => Descriptor): [Descriptor, string][] {
  const out: [Descriptor, string][] = [];
  for (let fd = 3; ctx.fds.has(fd); fd++) {
    const d = ctx.fds.get(fd);
    if (d instanceof PreopenDescriptor) out.push([wrap(d), d.prestatName()]);
  }
  return out;
}
