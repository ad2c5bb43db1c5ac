// Directories opened through path_open (and, via PreopenDescriptor, the preopens themselves).
import * as fs from 'node:fs';
import { ERRNO, FDFLAGS, FILETYPE, RIGHTS } from './constants.js';
import { Descriptor, type DirEntry, type Filestat } from './descriptor.js';
import { errnoCode, WasiError } from './errors.js';
import { filetypeOf, setFdTimes, toFilestat } from './filestat.js';
import { CHANGE_FILE_RIGHTS, FILE_RIGHTS } from './file.js';
import { native } from './native.js';
import { anchoredHostPath, type DirectoryAnchor, type SandboxRoot } from './resolve.js';
import { INFO_FILES, type Zone } from './special-files.js';

/** Rights of a directory descriptor itself (wasmtime's set for directories). */
export const DIRECTORY_RIGHTS =
  RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.FD_SYNC | RIGHTS.FD_ADVISE | RIGHTS.PATH_CREATE_DIRECTORY |
  RIGHTS.PATH_CREATE_FILE | RIGHTS.PATH_LINK_SOURCE | RIGHTS.PATH_LINK_TARGET | RIGHTS.PATH_OPEN |
  RIGHTS.FD_READDIR | RIGHTS.PATH_READLINK | RIGHTS.PATH_RENAME_SOURCE | RIGHTS.PATH_RENAME_TARGET |
  RIGHTS.PATH_FILESTAT_GET | RIGHTS.PATH_FILESTAT_SET_SIZE | RIGHTS.PATH_FILESTAT_SET_TIMES |
  RIGHTS.FD_FILESTAT_GET | RIGHTS.FD_FILESTAT_SET_TIMES | RIGHTS.PATH_SYMLINK | RIGHTS.PATH_REMOVE_DIRECTORY |
  RIGHTS.PATH_UNLINK_FILE | RIGHTS.POLL_FD_READWRITE;

/** What descriptors opened beneath a directory may get: directory rights for subdirectories, file rights for files. */
export const DIRECTORY_INHERITING_RIGHTS = DIRECTORY_RIGHTS | FILE_RIGHTS;

/** Directory rights that change something (create, remove, rename, link, re-time, truncate). */
export const CHANGE_DIRECTORY_RIGHTS =
  RIGHTS.PATH_CREATE_DIRECTORY | RIGHTS.PATH_CREATE_FILE | RIGHTS.PATH_LINK_SOURCE | RIGHTS.PATH_LINK_TARGET |
  RIGHTS.PATH_RENAME_SOURCE | RIGHTS.PATH_RENAME_TARGET | RIGHTS.PATH_FILESTAT_SET_SIZE | RIGHTS.PATH_FILESTAT_SET_TIMES |
  RIGHTS.FD_FILESTAT_SET_TIMES | RIGHTS.PATH_SYMLINK | RIGHTS.PATH_REMOVE_DIRECTORY | RIGHTS.PATH_UNLINK_FILE;

/** Every right a descriptor in a read-only preopen lacks; a guest asking for one gets ROFS rather than NOTCAPABLE. */
export const CHANGE_RIGHTS = CHANGE_DIRECTORY_RIGHTS | CHANGE_FILE_RIGHTS;

/**
 * An open directory inside a sandbox root. Node has no openat, so it is named by its root-relative
 * components `rel`, and every path under it is resolved from there by resolve.ts — after checking
 * that `rel` still leads to the inode (dev/ino) it was opened on (anchoredHostPath). When the guest
 * renames it (or a directory above it), path_rename updates `rel`; when someone else moves or
 * replaces it, lookups through it are NOENT rather than landing on whatever has the old name now.
 * It also holds a host fd (O_DIRECTORY|O_NOFOLLOW) for fstat/futimes/fsync.
 */
export class DirectoryDescriptor extends Descriptor implements DirectoryAnchor {
  readonly filetype = FILETYPE.DIRECTORY;
  rel: string[];
  readonly dev: bigint;
  readonly ino: bigint;
  /** fd_readdir listing taken at cookie 0 and kept, so cookies stay stable across calls. */
  private listing: DirEntry[] | null = null;
  private closed = false;

  constructor(readonly root: SandboxRoot, rel: readonly string[], readonly hostFd: number, rightsBase: bigint, rightsInheriting: bigint,
    readonly zone: Zone = 'data') {
    super(rightsBase, rightsInheriting);
    this.rel = rel.slice();
    const st = fs.fstatSync(hostFd, { bigint: true });
    this.dev = st.dev;
    this.ino = st.ino;
    root.track(this);
  }

  /**
   * A directory in a read-only preopen or mount: nothing that changes it or what is opened below
   * it. Unless a writable mount lies below it: then it keeps its rights (paths through it may
   * lead there) and each change is judged where it lands (assertMutable).
   */
  restrictToReading(): this {
    this.readOnly = true;
    if (this.root.writableBelow(this.rel)) return this;
    this.rightsBase &= ~CHANGE_RIGHTS;
    this.rightsInheriting &= ~CHANGE_RIGHTS;
    return this;
  }

  override setFdflags(flags: number): void {
    // Only the flags meaningful to a directory; APPEND and friends make no sense here.
    if ((flags & ~(FDFLAGS.NONBLOCK)) !== 0) throw new WasiError(ERRNO.INVAL, 'flag not valid on a directory');
    this.fdflags = flags;
  }

  override advise(): void {}
  override sync(): void { fs.fsyncSync(this.hostFd); }
  override datasync(): void { fs.fdatasyncSync(this.hostFd); }

  override filestat(): Filestat {
    return toFilestat(fs.fstatSync(this.hostFd, { bigint: true }));
  }

  override setTimes(atim: bigint, mtim: bigint, fstflags: number): void {
    if (this.zone !== 'data') throw new WasiError(ERRNO.ACCES, 'kernel filesystems are read-only to guests');
    if (this.readOnly) throw new WasiError(ERRNO.ROFS, 'read-only directory');
    setFdTimes(this.hostFd, atim, mtim, fstflags);
  }

  override readdir(cookie: bigint): DirEntry[] {
    const { entries, start } = this.listingFrom(cookie);
    return entries.slice(start);
  }

  /** The whole snapshot and where `cookie` starts in it, so fd_readdir can walk it without copying. */
  listingFrom(cookie: bigint): { entries: readonly DirEntry[]; start: number } {
    if (cookie === 0n || this.listing === null) this.listing = this.list();
    const start = cookie >= BigInt(this.listing.length) ? this.listing.length : Number(cookie);
    return { entries: this.listing, start };
  }

  /** `.`, `..`, then the host entries minus hidden ones; `next` cookies are positions in this list. */
  private list(): DirEntry[] {
    const self = fs.fstatSync(this.hostFd, { bigint: true });
    // The preopen's `..` would describe a host directory outside the sandbox: report the root's own inode.
    const parentIno = this.rel.length === 0 ? self.ino : statIno(this.root.hostOf(this.rel.slice(0, -1))) ?? self.ino;
    const entries: DirEntry[] = [
      { next: 1n, ino: self.ino, name: '.', filetype: FILETYPE.DIRECTORY },
      { next: 2n, ino: parentIno, name: '..', filetype: FILETYPE.DIRECTORY },
    ];
    // A kernel filesystem's directory lists only what may be reached in it (special-files.ts).
    if (this.zone === 'closed') return entries;
    const visible = (name: string): boolean => (this.zone === 'procRoot' ? INFO_FILES.has(name) : !this.root.isHidden([...this.rel, name]));
    const n = native();
    if (n !== null && this.root.fastLookups) {
      for (const e of listFd(n, this.hostFd)) {
        if (!visible(e.name)) continue;
        // d_type unknown (some filesystems): ask for the type the slow way.
        let { ino, filetype } = e;
        if (filetype === DT_UNKNOWN) {
          const st = fs.lstatSync(anchoredHostPath(this.root, this) + '/' + e.name, { bigint: true, throwIfNoEntry: false });
          if (st === undefined) continue;
          ino = st.ino;
          filetype = filetypeOf(st);
        }
        entries.push({ next: BigInt(entries.length + 1), ino, name: e.name, filetype, nameBytes: e.nameBytes });
      }
      return entries;
    }
    const host = anchoredHostPath(this.root, this);
    for (const name of fs.readdirSync(host)) {
      if (!visible(name)) continue;
      const st = fs.lstatSync(host + '/' + name, { bigint: true, throwIfNoEntry: false });
      if (st === undefined) continue; // removed since the listing began
      entries.push({ next: BigInt(entries.length + 1), ino: st.ino, name, filetype: filetypeOf(st) });
    }
    return entries;
  }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    this.root.untrack(this);
    fs.closeSync(this.hostFd);
  }
}

function statIno(host: string): bigint | null {
  return fs.lstatSync(host, { bigint: true, throwIfNoEntry: false })?.ino ?? null;
}

const DT_UNKNOWN = -1;
/** linux_dirent64 d_type -> preview1 filetype (DT_UNKNOWN kept as -1 for the caller to stat). */
const FROM_DT: Record<number, number> = {
  0: DT_UNKNOWN, 1: FILETYPE.UNKNOWN /* fifo */, 2: FILETYPE.CHARACTER_DEVICE, 4: FILETYPE.DIRECTORY, 6: FILETYPE.BLOCK_DEVICE,
  8: FILETYPE.REGULAR_FILE, 10: FILETYPE.SYMBOLIC_LINK, 12: FILETYPE.SOCKET_STREAM,
};

/**
 * The entries of an open directory, read with getdents64 on a fresh descriptor of it (its own
 * offset): the kernel gives each entry's inode and type, so no lstat per entry is needed.
 */
/** getdents64's buffer, one per thread: a directory read is synchronous, so it is never shared. */
const direntBuffer = Buffer.allocUnsafeSlow(64 * 1024);
const direntView = new DataView(direntBuffer.buffer, direntBuffer.byteOffset, direntBuffer.byteLength);

function listFd(n: NonNullable<ReturnType<typeof native>>, dirFd: number): { name: string; nameBytes: Uint8Array; ino: bigint; filetype: number }[] {
  const fd = n.openat2(dirFd, '.', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY, 0, 0);
  if (fd < 0) throw Object.assign(new Error('cannot reopen directory'), { code: errnoCode(-fd) });
  const out: { name: string; nameBytes: Uint8Array; ino: bigint; filetype: number }[] = [];
  const buf = direntBuffer;
  try {
    for (;;) {
      const len = n.getdents(fd, buf);
      if (len < 0) throw Object.assign(new Error('getdents failed'), { code: errnoCode(-len) });
      if (len === 0) break;
      for (let off = 0; off < len;) {
        const reclen = buf[off + 16]! | (buf[off + 17]! << 8);
        // d_name: NUL-terminated within the record.
        const start = off + 19;
        let stop = start;
        while (stop < off + reclen && buf[stop] !== 0) stop++;
        const nameBytes = buf.slice(start, stop);
        const name = nameBytes.toString('utf8');
        if (name !== '.' && name !== '..') out.push({ name, nameBytes: Uint8Array.from(nameBytes), ino: direntView.getBigUint64(off, true), filetype: FROM_DT[buf[off + 18]!] ?? FILETYPE.UNKNOWN });
        off += reclen;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}
