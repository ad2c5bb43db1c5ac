// The guest's fds 0, 1, 2: host file descriptors (options.stdio, default the process's own 0, 1, 2).
//
// The guest runs on a worker thread, so a blocking read or write blocks only the guest, as in a
// native program. But the worker must never sit inside a blocking system call that could last
// forever: ending the process (a signal, the supervisor exiting) joins the worker thread, and a
// thread stuck in read(2) on a quiet pipe would never join. So:
//  - pipes and terminals are used through a private, non-blocking open file description of the same
//    pipe/terminal (reopened via /proc/self/fd/N, which leaves the shared description's flags alone);
//    "would block" becomes a short Atomics.wait sleep (interruptible) and a retry;
//  - regular files and other devices never block for long and are used directly (a regular file's
//    offset lives in the shared description, so it must be);
//  - sockets (e.g. the socketpairs Node gives a child's 'pipe' stdio) cannot be reopened; reads from
//    a socket stdin go through the supervising thread (io broker) when one is attached, and writes
//    use the fd directly.
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, readvSync, writeSync, writevSync } from 'node:fs';
import { ERRNO, FDFLAGS, FILETYPE, RIGHTS } from './constants.js';
import type { WasiContext } from './context.js';
import { Descriptor, type Filestat, type Readiness } from './descriptor.js';
import { WasiError } from './errors.js';
import { sleepMs, type IoBroker } from './io-broker.js';

const COMMON = RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.POLL_FD_READWRITE | RIGHTS.FD_FILESTAT_GET;
export const STDIN_RIGHTS = RIGHTS.FD_READ | COMMON;
export const STDOUT_RIGHTS = RIGHTS.FD_WRITE | COMMON;

/** Longest sleep between retries of a would-block read or write (bounds the added latency). */
const MAX_BACKOFF_MS = 8;

type Kind = 'file' | 'pipe' | 'tty' | 'socket' | 'other';

function hostKind(fd: number): Kind {
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return 'file';
    if (st.isFIFO()) return 'pipe';
    if (st.isSocket()) return 'socket';
    if (st.isCharacterDevice()) return 'tty'; // terminals and devices like /dev/null alike
    return 'other';
  } catch {
    return 'other';
  }
}

/**
 * The preview1 filetype of a host fd. Preview1 has no FIFO type: pipes are UNKNOWN (as wasmtime
 * reports non-terminal stdio); TTYs and other character devices are CHARACTER_DEVICE; a redirected
 * regular file is REGULAR_FILE. A socket is also UNKNOWN: the stdio descriptor offers no sock_*
 * calls, so claiming SOCKET_STREAM would mislead guests that look for listening sockets.
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
  return FILETYPE.UNKNOWN;
}

const isAgain = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
};

/** One of the guest's standard streams, backed by a host fd the instance does not own (never closed). */
export class StdioDescriptor extends Descriptor {
  readonly filetype: number;
  private readonly kind: Kind;
  /** The fd actually used: a private non-blocking reopen for pipes/terminals, else the host fd. */
  private ioFd: number | undefined;
  private ownsIoFd = false;
  /** Data taken by a poll_oneoff readiness probe, handed out by the next read first. */
  private pending: Buffer | null = null;
  private sawEof = false;
  private broker: IoBroker | undefined;

  constructor(readonly hostFd: number, readonly readable: boolean) {
    super(readable ? STDIN_RIGHTS : STDOUT_RIGHTS, 0n);
    this.filetype = hostFiletype(hostFd);
    this.kind = hostKind(hostFd);
  }

  /** Another descriptor of the same stream (the guest opened /dev/stdout and the like): its own flags, the same host fd. */
  alias(): StdioDescriptor {
    const other = new StdioDescriptor(this.hostFd, this.readable);
    if (this.broker !== undefined) other.attachBroker(this.broker);
    return other;
  }

  /** True when reads of this stream should go through the supervisor (a socket stdin). */
  get needsBroker(): boolean { return this.readable && this.kind === 'socket'; }

  /** Routes reads through the supervising thread, which owns a non-blocking handle on the socket. */
  attachBroker(broker: IoBroker): void {
    if (this.needsBroker) this.broker = broker;
  }

  /** The fd to do I/O on, opening the private non-blocking description on first use. */
  private fd(): number {
    if (this.ioFd === undefined) {
      this.ioFd = this.hostFd;
      if (this.kind === 'pipe' || this.kind === 'tty') {
        try {
          const mode = this.readable ? fsConstants.O_RDONLY : fsConstants.O_WRONLY;
          this.ioFd = openSync(`/proc/self/fd/${this.hostFd}`, mode | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
          this.ownsIoFd = true;
        } catch {
          // No /proc, or a device that cannot be reopened: use the shared fd (blocking).
        }
      }
    }
    return this.ioFd;
  }

  private get guestNonblocking(): boolean { return (this.fdflags & FDFLAGS.NONBLOCK) !== 0; }

  override setFdflags(flags: number): void {
    // Only the flags that change how we behave are kept; the host fd itself is shared with the
    // supervisor and other processes, so its own O_NONBLOCK is never touched.
    this.fdflags = flags & (FDFLAGS.NONBLOCK | FDFLAGS.APPEND);
  }

  override pollReadable(): Readiness {
    if (!this.readable) return { ready: false, nbytes: 0n, hangup: false };
    if (this.pending !== null) return { ready: true, nbytes: BigInt(this.pending.length), hangup: false };
    if (this.sawEof) return { ready: true, nbytes: 0n, hangup: true };
    if (this.broker !== undefined) {
      const r = this.broker.call<{ ready: { nbytes: number; hangup: boolean }[] }>({ op: 'poll', subs: [{ h: 0, write: false }], timeoutMs: 0 });
      const first = r.ready[0];
      return first ? { ready: true, nbytes: BigInt(first.nbytes), hangup: first.hangup } : { ready: false, nbytes: 0n, hangup: false };
    }
    if (!this.ownsIoFd && this.fd() === this.hostFd) return { ready: true, nbytes: 0n, hangup: false };
    const buf = Buffer.allocUnsafe(65536);
    let n: number;
    try {
      n = readSync(this.fd(), buf, 0, buf.length, null);
    } catch (e) {
      if (isAgain(e)) return { ready: false, nbytes: 0n, hangup: false };
      return { ready: true, nbytes: 0n, hangup: false }; // the read will report the error
    }
    if (n === 0) {
      this.sawEof = true;
      return { ready: true, nbytes: 0n, hangup: true };
    }
    this.pending = buf.subarray(0, n);
    return { ready: true, nbytes: BigInt(n), hangup: false };
  }

  override pollWritable(): Readiness {
    return { ready: !this.readable, nbytes: 0n, hangup: false };
  }

  override read(iovs: Uint8Array[]): number {
    if (!this.readable) throw new WasiError(ERRNO.BADF);
    const bufs = iovs.filter((b) => b.length > 0);
    if (bufs.length === 0) return 0;
    if (this.pending !== null) return this.takePending(bufs);
    if (this.sawEof) {
      // One end-of-file per probe: on a terminal, input may continue after a ^D.
      this.sawEof = false;
      return 0;
    }
    if (this.broker !== undefined) {
      const len = bufs.reduce((n, b) => n + b.length, 0);
      const r = this.broker.call<{ data: Uint8Array }>({ op: 'recv', h: 0, len, peek: false, waitall: false, block: !this.guestNonblocking });
      this.pending = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
      return r.data.byteLength === 0 ? ((this.pending = null), 0) : this.takePending(bufs);
    }
    const fd = this.fd();
    for (let delay = 1; ; delay = Math.min(delay * 2, MAX_BACKOFF_MS)) {
      try {
        return bufs.length === 1 ? readSync(fd, bufs[0], 0, bufs[0].length, null) : readvSync(fd, bufs);
      } catch (e) {
        if (!isAgain(e) || this.guestNonblocking) throw e;
        sleepMs(delay);
      }
    }
  }

  private takePending(bufs: Uint8Array[]): number {
    const pending = this.pending!;
    let done = 0;
    for (const b of bufs) {
      const n = Math.min(b.length, pending.length - done);
      b.set(pending.subarray(done, done + n));
      done += n;
      if (done === pending.length) break;
    }
    this.pending = done === pending.length ? null : pending.subarray(done);
    return done;
  }

  override write(iovs: Uint8Array[]): number {
    if (this.readable) throw new WasiError(ERRNO.BADF);
    let bufs = iovs.filter((b) => b.length > 0);
    let total = 0;
    for (const b of bufs) total += b.length;
    const fd = this.fd();
    let done = 0;
    let delay = 1;
    // Writes are complete: a pipe or terminal may take part of a large buffer, or refuse with
    // EAGAIN when full; keep going until every byte is out.
    while (done < total) {
      let n: number;
      try {
        n = bufs.length === 1 ? writeSync(fd, bufs[0], 0, bufs[0].length) : writevSync(fd, bufs);
      } catch (e) {
        if (!isAgain(e)) {
          if (done > 0) return done;
          throw e;
        }
        if (this.guestNonblocking && done === 0) throw e;
        sleepMs(delay);
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
        continue;
      }
      delay = 1;
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
    if (this.ownsIoFd && this.ioFd !== undefined) closeSync(this.ioFd);
    this.ownsIoFd = false;
    this.ioFd = undefined;
    // The host fds themselves belong to the process (or the caller of runWasm); closing the guest's
    // fd 1 must not close hyrun's own stdout.
  }
}

/** Puts the standard streams at guest fds 0, 1, 2. */
export function setupStdio(ctx: WasiContext): void {
  const [i, o, e] = ctx.options.stdio ?? [0, 1, 2];
  const stdin = new StdioDescriptor(i, true);
  if (ctx.options.broker !== undefined) stdin.attachBroker(ctx.options.broker);
  ctx.fds.set(0, stdin);
  ctx.fds.set(1, new StdioDescriptor(o, false));
  ctx.fds.set(2, new StdioDescriptor(e, false));
}
