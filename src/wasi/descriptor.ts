import { ERRNO, FILETYPE } from './constants.js';
import { WasiError } from './errors.js';

/** `filestat` as preview1 defines it (api.h `__wasi_filestat_t`, 64 bytes). */
export interface Filestat {
  dev: bigint;
  ino: bigint;
  filetype: number;
  nlink: bigint;
  size: bigint;
  atim: bigint; // nanoseconds since the epoch
  mtim: bigint;
  ctim: bigint;
}

/** `fdstat` (api.h `__wasi_fdstat_t`, 24 bytes). */
export interface Fdstat {
  filetype: number;
  flags: number;
  rightsBase: bigint;
  rightsInheriting: bigint;
}

/** What a descriptor reports to poll_oneoff: ready now, or a way to wait for readiness. */
export interface Readiness {
  ready: boolean;
  /** Bytes available to read (fd_read events), 0 if unknown. */
  nbytes: bigint;
  hangup: boolean;
}

const unsupported = (op: string): never => {
  throw new WasiError(ERRNO.NOTSUP, `${op} not supported on this descriptor`);
};
const notDir = (): never => {
  throw new WasiError(ERRNO.NOTDIR);
};

/**
 * Every open guest descriptor extends this class. The base answers each operation with the
 * errno a descriptor of no particular kind gives; subclasses (stdio, file, directory, preopen,
 * socket) override only what they support, so the import table dispatches on objects.
 *
 * Rights are checked before the method is called, against `rightsBase`: by preview1's import
 * layer (src/wasi/fd.ts, path-ops.ts) and WASI 0.2's descriptor (p2/filesystem.ts), so methods
 * here need not re-check them.
 */
export abstract class Descriptor {
  abstract readonly filetype: number;
  rightsBase: bigint;
  rightsInheriting: bigint;
  fdflags = 0;
  /** In a read-only preopen or mount: its changing rights are gone, and asking for one is ROFS (fd.ts, path-ops.ts). */
  readOnly = false;

  constructor(rightsBase: bigint, rightsInheriting: bigint) {
    this.rightsBase = rightsBase;
    this.rightsInheriting = rightsInheriting;
  }

  fdstat(): Fdstat {
    return { filetype: this.filetype, flags: this.fdflags, rightsBase: this.rightsBase, rightsInheriting: this.rightsInheriting };
  }
  setFdflags(_flags: number): void { unsupported('fd_fdstat_set_flags'); }

  // Byte streams.
  read(_iovs: Uint8Array[]): number { return unsupported('fd_read'); }
  pread(_iovs: Uint8Array[], _offset: bigint): number { return unsupported('fd_pread'); }
  write(_iovs: Uint8Array[]): number { return unsupported('fd_write'); }
  pwrite(_iovs: Uint8Array[], _offset: bigint): number { return unsupported('fd_pwrite'); }
  seek(_offset: bigint, _whence: number): bigint { throw new WasiError(ERRNO.SPIPE); }
  tell(): bigint { throw new WasiError(ERRNO.SPIPE); }
  advise(_offset: bigint, _len: bigint, _advice: number): void { unsupported('fd_advise'); }
  allocate(_offset: bigint, _len: bigint): void { unsupported('fd_allocate'); }
  datasync(): void { throw new WasiError(ERRNO.INVAL); }
  sync(): void { throw new WasiError(ERRNO.INVAL); }

  // Metadata.
  filestat(): Filestat { return unsupported('fd_filestat_get'); }
  setSize(_size: bigint): void { unsupported('fd_filestat_set_size'); }
  setTimes(_atim: bigint, _mtim: bigint, _fstflags: number): void { unsupported('fd_filestat_set_times'); }

  // Directories (only directories and preopens override these).
  /** fd_readdir's bytes (preview1 dirents back to back) from the entry `cookie` names to the end. */
  readdirBytes(_cookie: bigint): Uint8Array { return notDir(); }
  prestatName(): string { throw new WasiError(ERRNO.BADF); }

  // Sockets.
  sockAccept(_fdflags: number): Descriptor { throw new WasiError(ERRNO.NOTSOCK); }
  sockRecv(_iovs: Uint8Array[], _riflags: number): { size: number; roflags: number } { throw new WasiError(ERRNO.NOTSOCK); }
  sockSend(_iovs: Uint8Array[], _siflags: number): number { throw new WasiError(ERRNO.NOTSOCK); }
  sockShutdown(_how: number): void { throw new WasiError(ERRNO.NOTSOCK); }

  /** Readiness for poll_oneoff FD_READ / FD_WRITE subscriptions. Regular files are always ready. */
  pollReadable(): Readiness { return { ready: true, nbytes: 0n, hangup: false }; }
  pollWritable(): Readiness { return { ready: true, nbytes: 0n, hangup: false }; }

  /** Releases host resources. Called once, by fd_close or when the instance ends. */
  close(): void {}
}

export const isDirectoryType = (filetype: number): boolean => filetype === FILETYPE.DIRECTORY;
