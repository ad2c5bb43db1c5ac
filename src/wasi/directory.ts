// Directories opened through path_open (and, via PreopenDescriptor, the preopens themselves).
import * as fs from 'node:fs';
import { ERRNO, FDFLAGS, FILETYPE, RIGHTS } from './constants.js';
import { Descriptor, type Filestat } from './descriptor.js';
import { errnoCode, WasiError } from './errors.js';
import { setFdTimes, toFilestat } from './filestat.js';
import { CHANGE_FILE_RIGHTS, FILE_RIGHTS } from './file.js';
import { AT_SYMLINK_NOFOLLOW, O_DIRECTORY, ST, statBuffer, type Native } from './native.js';
import { addon, hostError, type DirectoryAnchor, type SandboxRoot } from './resolve.js';
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
 * An open directory inside a sandbox root: a held host descriptor (O_RDONLY|O_DIRECTORY), from
 * which every path under it is resolved (resolve.ts), so it stays the directory it was opened on
 * whatever anyone renames. `rel`, its root-relative place, is bookkeeping for mounts and hidden
 * paths: the guest's own renames keep it current (path_rename), and nothing is reached through it.
 */
export class DirectoryDescriptor extends Descriptor implements DirectoryAnchor {
  readonly filetype = FILETYPE.DIRECTORY;
  rel: string[];
  readonly dev: bigint;
  /** `dev` as a number, for comparisons on hot paths without making a BigInt (dev_t fits in 2^53). */
  readonly devNumber: number;
  readonly ino: bigint;
  readonly inoNumber: number;
  /** fd_readdir listing taken at cookie 0 and kept, so cookies stay stable across calls. */
  private listing: Listing | null = null;
  private closed = false;

  constructor(readonly root: SandboxRoot, rel: readonly string[], readonly hostFd: number, rightsBase: bigint, rightsInheriting: bigint,
    readonly zone: Zone = 'data') {
    super(rightsBase, rightsInheriting);
    this.rel = rel.slice();
    const st = fs.fstatSync(hostFd, { bigint: true });
    this.dev = st.dev;
    this.devNumber = Number(st.dev);
    this.ino = st.ino;
    this.inoNumber = Number(st.ino);
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

  override readdirBytes(cookie: bigint): Uint8Array {
    if (cookie === 0n || this.listing === null) this.listing = this.list();
    const { bytes, offsets } = this.listing;
    const index = cookie >= BigInt(offsets.length - 1) ? offsets.length - 1 : Number(cookie);
    return bytes.subarray(offsets[index]);
  }

  /** `.`, `..`, then the host entries minus hidden ones; entry i's `next` cookie is i + 1. */
  private list(): Listing {
    const n = addon();
    // hostFd stays on the inode it was opened on (this.ino).
    const self = this.ino;
    // The preopen's `..` would describe a host directory outside the sandbox: report the root's own inode.
    let parentIno = self;
    if (this.rel.length > 0 && n.fstatat(this.hostFd, '..', AT_SYMLINK_NOFOLLOW, entryStat) === 0) parentIno = new DataView(entryStat.buffer).getBigUint64(ST.ino, true);
    const out = new ListingWriter();
    out.add(self, FILETYPE.DIRECTORY, DOT, 0, 1);
    out.add(parentIno, FILETYPE.DIRECTORY, DOT_DOT, 0, 2);
    // A kernel filesystem's directory lists only what may be reached in it (special-files.ts).
    if (this.zone === 'closed') return out.finish();
    const hidden = this.zone === 'procRoot' ? null : this.root.hiddenNamesIn(this.devNumber, this.inoNumber, this.rel);
    const visible = (name: string): boolean => (this.zone === 'procRoot' ? INFO_FILES.has(name) : hidden === null || !hidden.has(name));
    listFd(n, this.hostFd, out, this.zone === 'procRoot' || hidden !== null ? visible : null, (name) => {
      // d_type unknown (some filesystems): ask for the type, by name in this held directory.
      if (n.fstatat(this.hostFd, name, AT_SYMLINK_NOFOLLOW, entryStat) !== 0) return undefined;
      const v = new DataView(entryStat.buffer);
      return { ino: v.getBigUint64(ST.ino, true), filetype: FILETYPE_OF_MODE.get(v.getUint32(ST.mode, true) & 0o170000) ?? FILETYPE.UNKNOWN };
    });
    return out.finish();
  }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    this.root.untrack(this);
    fs.closeSync(this.hostFd);
  }
}

/** The stat buffer of listings (one per thread: a listing is synchronous). */
const entryStat = statBuffer();
/** st_mode's type -> preview1 filetype. */
const FILETYPE_OF_MODE = new Map<number, number>([
  [0o100000, FILETYPE.REGULAR_FILE], [0o040000, FILETYPE.DIRECTORY], [0o120000, FILETYPE.SYMBOLIC_LINK],
  [0o020000, FILETYPE.CHARACTER_DEVICE], [0o060000, FILETYPE.BLOCK_DEVICE], [0o140000, FILETYPE.SOCKET_STREAM],
]);

const DT_UNKNOWN = -1;
/** linux_dirent64 d_type -> preview1 filetype (DT_UNKNOWN kept as -1 for the caller to stat). */
const FROM_DT: Record<number, number> = {
  0: DT_UNKNOWN, 1: FILETYPE.UNKNOWN /* fifo */, 2: FILETYPE.CHARACTER_DEVICE, 4: FILETYPE.DIRECTORY, 6: FILETYPE.BLOCK_DEVICE,
  8: FILETYPE.REGULAR_FILE, 10: FILETYPE.SYMBOLIC_LINK, 12: FILETYPE.SOCKET_STREAM,
};

/** Size of preview1's `dirent` before the name bytes: next u64, ino u64, namlen u32, type u8, 3 pad. */
const DIRENT_SIZE = 24;
const DOT = new Uint8Array([0x2e]);
const DOT_DOT = new Uint8Array([0x2e, 0x2e]);

/** A directory's fd_readdir answer, built once: the dirents back to back and where entry i starts (offsets[count] = end). */
interface Listing { bytes: Uint8Array; offsets: Uint32Array }

/** Builds a Listing entry by entry, writing preview1's layout as it goes (no object per entry). */
class ListingWriter {
  private bytes = new Uint8Array(8192);
  private view = new DataView(this.bytes.buffer);
  private offsets: number[] = [];
  private used = 0;

  /** Appends an entry named by `source[start, end)` (UTF-8 bytes). */
  add(ino: bigint, filetype: number, source: Uint8Array, start: number, end: number): void {
    this.reserve(DIRENT_SIZE + end - start);
    this.addRaw(filetype, source, start, end);
    this.view.setBigUint64(this.used + 8, ino, true);
    this.used += DIRENT_SIZE + end - start;
  }

  /** Appends an entry whose inode is the 8 little-endian bytes at `source[inoAt]` (getdents' d_ino). */
  addWithInoAt(source: Uint8Array, inoAt: number, filetype: number, start: number, end: number): void {
    this.reserve(DIRENT_SIZE + end - start);
    this.addRaw(filetype, source, start, end);
    const at = this.used + 8;
    for (let i = 0; i < 8; i++) this.bytes[at + i] = source[inoAt + i]!;
    this.used += DIRENT_SIZE + end - start;
  }

  private addRaw(filetype: number, source: Uint8Array, start: number, end: number): void {
    const at = this.used;
    this.offsets.push(at);
    // next = this entry's index + 1 (listings never reach 2^32 entries).
    this.view.setUint32(at, this.offsets.length, true);
    this.view.setUint32(at + 4, 0, true);
    this.view.setUint32(at + 16, end - start, true);
    this.view.setUint32(at + 20, filetype, true); // d_type u8 + 3 zero padding bytes
    const bytes = this.bytes;
    for (let i = start, o = at + DIRENT_SIZE; i < end; i++, o++) bytes[o] = source[i]!;
  }

  private reserve(more: number): void {
    if (this.used + more <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.used + more));
    bigger.set(this.bytes.subarray(0, this.used));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }

  finish(): Listing {
    this.offsets.push(this.used);
    return { bytes: this.bytes.subarray(0, this.used), offsets: Uint32Array.from(this.offsets) };
  }
}

/**
 * Adds the entries of an open directory to `out`, read with getdents64 on a fresh descriptor of it
 * (its own offset): the kernel gives each entry's inode and type, so no lstat per entry is needed.
 * `visible` (when some names must be left out) and `typeOf` (d_type unknown) see the name as text;
 * otherwise names are copied as bytes and never decoded.
 */
function listFd(n: Native, dirFd: number, out: ListingWriter, visible: ((name: string) => boolean) | null,
  typeOf: (name: string) => { ino: bigint; filetype: number } | undefined): void {
  const fd = n.openat(dirFd, '.', fs.constants.O_RDONLY | O_DIRECTORY, 0, entryStat);
  if (fd < 0) throw hostError(fd, 'reopening the directory');
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
        const dots = stop - start <= 2 && buf[start] === 0x2e && (stop - start === 1 || buf[start + 1] === 0x2e);
        if (!dots) {
          const filetype = FROM_DT[buf[off + 18]!] ?? FILETYPE.UNKNOWN;
          const name = visible !== null || filetype === DT_UNKNOWN ? buf.toString('utf8', start, stop) : '';
          if (visible === null || visible(name)) {
            if (filetype !== DT_UNKNOWN) out.addWithInoAt(buf, off, filetype, start, stop);
            else {
              const found = typeOf(name);
              if (found !== undefined) out.add(found.ino, found.filetype, buf, start, stop);
            }
          }
        }
        off += reclen;
      }
    }
  } finally {
    n.close(fd);
  }
}

/** getdents64's buffer, one per thread: a directory read is synchronous, so it is never shared. */
const direntBuffer = Buffer.allocUnsafeSlow(64 * 1024);
