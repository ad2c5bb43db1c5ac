// The guest's fds 0, 1, 2: host file descriptors (options.stdio, default the process's own 0, 1, 2)
// used directly with synchronous fs calls. The guest runs on a worker thread, so blocking here blocks
// only the guest, as a native program's read(2) would.
import { fstatSync, readvSync, writevSync } from 'node:fs';
import { ERRNO, FDFLAGS, FILETYPE, RIGHTS } from './constants.js';
import type { WasiContext } from './context.js';
import { Descriptor, type Filestat } from './descriptor.js';
import { WasiError } from './errors.js';
import { sleepMs } from './io-broker.js';

const COMMON = RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.POLL_FD_READWRITE | RIGHTS.FD_FILESTAT_GET;
export const STDIN_RIGHTS = RIGHTS.FD_READ | COMMON;
export const STDOUT_RIGHTS = RIGHTS.FD_WRITE | COMMON;

/**
 * The preview1 filetype of a host fd. Preview1 has no FIFO type: pipes are UNKNOWN (as wasmtime
 * reports non-terminal stdio); TTYs and other character devices are CHARACTER_DEVICE; a redirected
 * regular file is REGULAR_FILE.
 */
export function hostFiletype(fd: number): number {
  let st;
  try {
    st = fstatSync(fd);
  } catch {
    return FILETYPE.UNKNOWN;
  }
  if (st.isCharacterDevice()) return FILETYPE.CHARACTER_DEVICE;
  if (st.isFile()) return FILETYPE.REGULAR_FILE;
  if (st.isDirectory()) return FILETYPE.DIRECTORY;
  if (st.isBlockDevice()) return FILETYPE.BLOCK_DEVICE;
  // Sockets (e.g. the socketpairs Node uses for a child's 'pipe' stdio) are streams like pipes here:
  // the stdio descriptor does not offer sock_* calls, so claiming SOCKET_STREAM would mislead.
  return FILETYPE.UNKNOWN;
}

const isAgain = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
};

/** One of the guest's standard streams, backed by a host fd the instance does not own (never closed). */
export class StdioDescriptor extends Descriptor {
  readonly filetype: number;

  constructor(readonly hostFd: number, readonly readable: boolean) {
    super(readable ? STDIN_RIGHTS : STDOUT_RIGHTS, 0n);
    this.filetype = hostFiletype(hostFd);
  }

  override setFdflags(flags: number): void {
    // Only the flags that change how we behave are kept; the host fd itself is shared with the
    // supervisor and other processes, so its own O_NONBLOCK is never touched.
    this.fdflags = flags & (FDFLAGS.NONBLOCK | FDFLAGS.APPEND);
  }

  override read(iovs: Uint8Array[]): number {
    if (!this.readable) throw new WasiError(ERRNO.BADF);
    const bufs = iovs.filter((b) => b.length > 0);
    if (bufs.length === 0) return 0;
    for (;;) {
      try {
        return readvSync(this.hostFd, bufs);
      } catch (e) {
        // A non-blocking host fd (e.g. a terminal or pipe someone set O_NONBLOCK on) must still
        // block for a guest that did not ask for NONBLOCK: wait a little and retry.
        if (!isAgain(e) || (this.fdflags & FDFLAGS.NONBLOCK) !== 0) throw e;
        sleepMs(2);
      }
    }
  }

  override write(iovs: Uint8Array[]): number {
    if (this.readable) throw new WasiError(ERRNO.BADF);
    let bufs = iovs.filter((b) => b.length > 0);
    let total = 0;
    for (const b of bufs) total += b.length;
    let done = 0;
    // Writes are complete: a pipe or terminal may take part of a large buffer, or refuse with
    // EAGAIN when its O_NONBLOCK is set; keep going until every byte is out.
    while (done < total) {
      let n: number;
      try {
        n = writevSync(this.hostFd, bufs);
      } catch (e) {
        if (!isAgain(e)) {
          if (done > 0) return done;
          throw e;
        }
        if ((this.fdflags & FDFLAGS.NONBLOCK) !== 0 && done === 0) throw e;
        sleepMs(1);
        continue;
      }
      done += n;
      while (n > 0 && bufs.length > 0) {
        if (n >= bufs[0].length) {
          n -= bufs[0].length;
          bufs = bufs.slice(1);
        } else {
          bufs = [bufs[0].subarray(n), ...bufs.slice(1)];
          n = 0;
        }
      }
    }
    return done;
  }

  override filestat(): Filestat {
    const st = fstatSync(this.hostFd, { bigint: true });
    return {
      dev: st.dev, ino: st.ino, filetype: this.filetype, nlink: st.nlink, size: st.size,
      atim: st.atimeNs, mtim: st.mtimeNs, ctim: st.ctimeNs,
    };
  }

  override close(): void {
    // The host fds belong to the process (or the caller of runWasm); closing the guest's fd 1 must
    // not close hyrun's own stdout.
  }
}

/** Puts the standard streams at guest fds 0, 1, 2. */
export function setupStdio(ctx: WasiContext): void {
  const [i, o, e] = ctx.options.stdio ?? [0, 1, 2];
  ctx.fds.set(0, new StdioDescriptor(i, true));
  ctx.fds.set(1, new StdioDescriptor(o, false));
  ctx.fds.set(2, new StdioDescriptor(e, false));
}
