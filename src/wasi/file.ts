// Non-directory files opened through path_open: regular files, and the character devices, fifos
// and sockets a path can also name (those cannot seek).
import * as fs from 'node:fs';
import { ADVICE, ERRNO, FDFLAGS, FILETYPE, RIGHTS, WHENCE } from './constants.js';
import { Descriptor, type Filestat } from './descriptor.js';
import { WasiError } from './errors.js';
import { setFdTimes, toFilestat } from './filestat.js';

/** Every right that makes sense on an open file (wasmtime's set for regular files). */
export const FILE_RIGHTS =
  RIGHTS.FD_DATASYNC | RIGHTS.FD_READ | RIGHTS.FD_SEEK | RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.FD_SYNC |
  RIGHTS.FD_TELL | RIGHTS.FD_WRITE | RIGHTS.FD_ADVISE | RIGHTS.FD_ALLOCATE | RIGHTS.FD_FILESTAT_GET |
  RIGHTS.FD_FILESTAT_SET_SIZE | RIGHTS.FD_FILESTAT_SET_TIMES | RIGHTS.POLL_FD_READWRITE;

/** Rights that need the host file opened for writing (wasi-libc asks for them with O_WRONLY/O_RDWR). */
export const WRITE_RIGHTS = RIGHTS.FD_WRITE | RIGHTS.FD_DATASYNC | RIGHTS.FD_ALLOCATE | RIGHTS.FD_FILESTAT_SET_SIZE;

/** Rights that change a file (or a directory): what a descriptor in a read-only preopen never has. */
export const CHANGE_FILE_RIGHTS = WRITE_RIGHTS | RIGHTS.FD_FILESTAT_SET_TIMES;

const SYNC_FLAGS = FDFLAGS.DSYNC | FDFLAGS.RSYNC | FDFLAGS.SYNC;

/**
 * An open non-directory file. Node has no lseek, so the file offset of a seekable file is kept
 * here and every read/write is positional. APPEND and the sync flags are also applied here rather
 * than by host open flags, which is what lets fd_fdstat_set_flags change them (Node has no fcntl).
 * Cost of that choice: an APPEND write is "fstat size, then write there", not atomic against other
 * processes appending to the same file.
 */
export class FileDescriptor extends Descriptor {
  readonly filetype: number;
  /** Regular files and block devices have an offset; fifos, sockets and character devices do not. */
  private readonly seekable: boolean;
  private position = 0;
  private closed = false;

  constructor(readonly hostFd: number, stat: { isFile(): boolean; isBlockDevice(): boolean }, filetype: number, rightsBase: bigint, rightsInheriting: bigint, fdflags: number) {
    super(rightsBase, rightsInheriting);
    this.filetype = filetype;
    this.seekable = stat.isFile() || stat.isBlockDevice();
    this.fdflags = fdflags;
  }

  /** A file in a read-only preopen: no rights that would change it (set before it is handed out). */
  restrictToReading(): this {
    this.readOnly = true;
    this.rightsBase &= ~CHANGE_FILE_RIGHTS;
    this.rightsInheriting &= ~CHANGE_FILE_RIGHTS;
    return this;
  }

  override setFdflags(flags: number): void {
    if ((flags & ~0x1f) !== 0) throw new WasiError(ERRNO.INVAL, 'unknown fdflags');
    this.fdflags = flags;
  }

  override read(iovs: Uint8Array[]): number {
    const pos = this.seekable ? this.position : null;
    const n = iovs.length === 1 ? fs.readSync(this.hostFd, iovs[0], 0, iovs[0].length, pos) : fs.readvSync(this.hostFd, iovs, pos ?? undefined);
    if (this.seekable) this.position += n;
    return n;
  }

  override pread(iovs: Uint8Array[], offset: bigint): number {
    if (!this.seekable) throw new WasiError(ERRNO.SPIPE);
    return fs.readvSync(this.hostFd, iovs, toPosition(offset));
  }

  override write(iovs: Uint8Array[]): number {
    let pos: number | null = null;
    if (this.seekable) pos = this.fdflags & FDFLAGS.APPEND ? Number(fs.fstatSync(this.hostFd, { bigint: true }).size) : this.position;
    const n = iovs.length === 1 ? fs.writeSync(this.hostFd, iovs[0], 0, iovs[0].length, pos) : fs.writevSync(this.hostFd, iovs, pos ?? undefined);
    if (pos !== null) this.position = pos + n;
    this.afterWrite();
    return n;
  }

  override pwrite(iovs: Uint8Array[], offset: bigint): number {
    if (!this.seekable) throw new WasiError(ERRNO.SPIPE);
    const n = fs.writevSync(this.hostFd, iovs, toPosition(offset));
    this.afterWrite();
    return n;
  }

  private afterWrite(): void {
    if ((this.fdflags & SYNC_FLAGS) === 0) return;
    if (this.fdflags & (FDFLAGS.SYNC | FDFLAGS.RSYNC)) fs.fsyncSync(this.hostFd);
    else fs.fdatasyncSync(this.hostFd);
  }

  override seek(offset: bigint, whence: number): bigint {
    if (!this.seekable) throw new WasiError(ERRNO.SPIPE);
    let base: bigint;
    switch (whence) {
      case WHENCE.SET: base = 0n; break;
      case WHENCE.CUR: base = BigInt(this.position); break;
      case WHENCE.END: base = fs.fstatSync(this.hostFd, { bigint: true }).size; break;
      default: throw new WasiError(ERRNO.INVAL, 'bad whence');
    }
    const next = base + offset;
    if (next < 0n) throw new WasiError(ERRNO.INVAL, 'negative offset');
    if (next > BigInt(Number.MAX_SAFE_INTEGER)) throw new WasiError(ERRNO.OVERFLOW);
    this.position = Number(next);
    return next;
  }

  override tell(): bigint {
    if (!this.seekable) throw new WasiError(ERRNO.SPIPE);
    return BigInt(this.position);
  }

  override advise(offset: bigint, len: bigint, advice: number): void {
    // Node has no posix_fadvise; advice is only a hint, so validating it is all there is to do.
    if (advice > ADVICE.NOREUSE) throw new WasiError(ERRNO.INVAL, 'bad advice');
    if (offset < 0n || len < 0n) throw new WasiError(ERRNO.INVAL);
    if (this.filetype === FILETYPE.UNKNOWN) throw new WasiError(ERRNO.SPIPE);
  }

  override allocate(offset: bigint, len: bigint): void {
    // posix_fallocate semantics: make sure [offset, offset+len) is backed; never shrinks.
    if (offset < 0n || len <= 0n) throw new WasiError(ERRNO.INVAL);
    if (!this.seekable) throw new WasiError(ERRNO.SPIPE);
    const end = offset + len;
    if (end > fs.fstatSync(this.hostFd, { bigint: true }).size) fs.ftruncateSync(this.hostFd, toPosition(end));
  }

  override datasync(): void { fs.fdatasyncSync(this.hostFd); }
  override sync(): void { fs.fsyncSync(this.hostFd); }

  override filestat(): Filestat {
    const f = toFilestat(fs.fstatSync(this.hostFd, { bigint: true }));
    f.filetype = this.filetype;
    return f;
  }

  override setSize(size: bigint): void {
    if (this.filetype !== FILETYPE.REGULAR_FILE) throw new WasiError(ERRNO.INVAL);
    fs.ftruncateSync(this.hostFd, toPosition(size));
  }

  override setTimes(atim: bigint, mtim: bigint, fstflags: number): void {
    setFdTimes(this.hostFd, atim, mtim, fstflags);
  }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.hostFd);
  }
}

function toPosition(offset: bigint): number {
  if (offset < 0n) throw new WasiError(ERRNO.INVAL);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new WasiError(ERRNO.FBIG);
  return Number(offset);
}
