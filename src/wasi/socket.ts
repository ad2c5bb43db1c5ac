// Socket descriptors. The sockets themselves live on the supervising thread (see io-broker.ts); a
// descriptor holds the broker handle and turns each operation into a blocking broker call.
import { ERRNO, FDFLAGS, FILETYPE, RIFLAGS, RIGHTS } from './constants.js';
import type { WasiContext } from './context.js';
import { Descriptor, type Filestat, type Readiness } from './descriptor.js';
import { WasiError } from './errors.js';
import type { IoBroker } from './io-broker.js';

export const LISTENER_RIGHTS = RIGHTS.SOCK_ACCEPT | RIGHTS.POLL_FD_READWRITE | RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.FD_FILESTAT_GET;
export const CONN_RIGHTS = RIGHTS.FD_READ | RIGHTS.FD_WRITE | RIGHTS.POLL_FD_READWRITE | RIGHTS.SOCK_SHUTDOWN |
  RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.FD_FILESTAT_GET;

/** Copies the guest's iovecs into one buffer (guest memory is not shared with the main thread). */
function gather(iovs: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const b of iovs) total += b.length;
  if (iovs.length === 1) return iovs[0].slice();
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of iovs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** Copies data into the iovecs in order; returns how much was copied. */
function scatter(data: Uint8Array, iovs: Uint8Array[]): number {
  let at = 0;
  for (const b of iovs) {
    if (at >= data.length) break;
    const n = Math.min(b.length, data.length - at);
    b.set(data.subarray(at, at + n));
    at += n;
  }
  return at;
}

const total = (iovs: Uint8Array[]): number => iovs.reduce((n, b) => n + b.length, 0);

/** A TCP socket, listening or connected, held by the broker under `handle`. */
export class SocketDescriptor extends Descriptor {
  readonly filetype = FILETYPE.SOCKET_STREAM;
  private closed = false;

  constructor(readonly broker: IoBroker, readonly handle: number, readonly listening: boolean, fdflags = 0) {
    super(listening ? LISTENER_RIGHTS : CONN_RIGHTS, listening ? CONN_RIGHTS : 0n);
    this.fdflags = fdflags & FDFLAGS.NONBLOCK;
  }

  private get blocking(): boolean { return (this.fdflags & FDFLAGS.NONBLOCK) === 0; }

  override setFdflags(flags: number): void {
    // Only NONBLOCK means anything for a socket; APPEND and the sync flags are accepted and ignored.
    this.fdflags = flags & FDFLAGS.NONBLOCK;
  }

  override sockAccept(fdflags: number): Descriptor {
    if (!this.listening) throw new WasiError(ERRNO.INVAL);
    const r = this.broker.call<{ handle: number }>({ op: 'accept', h: this.handle, block: this.blocking });
    return new SocketDescriptor(this.broker, r.handle, false, fdflags);
  }

  override sockRecv(iovs: Uint8Array[], riflags: number): { size: number; roflags: number } {
    if (this.listening) throw new WasiError(ERRNO.NOTCONN);
    const len = total(iovs);
    const r = this.broker.call<{ data: Uint8Array }>({
      op: 'recv', h: this.handle, len, block: this.blocking,
      peek: (riflags & RIFLAGS.RECV_PEEK) !== 0, waitall: (riflags & RIFLAGS.RECV_WAITALL) !== 0,
    });
    // Stream sockets never truncate: what does not fit stays queued for the next recv.
    return { size: scatter(r.data, iovs), roflags: 0 };
  }

  override sockSend(iovs: Uint8Array[], _siflags: number): number {
    if (this.listening) throw new WasiError(ERRNO.NOTCONN);
    const data = gather(iovs);
    if (data.length === 0) return 0;
    return this.broker.call<{ size: number }>({ op: 'send', h: this.handle, data, block: this.blocking }).size;
  }

  override sockShutdown(how: number): void {
    if (this.listening) throw new WasiError(ERRNO.NOTCONN);
    if (how === 0 || (how & ~3) !== 0) throw new WasiError(ERRNO.INVAL);
    this.broker.call({ op: 'shutdown', h: this.handle, how });
  }

  // fd_read / fd_write on a socket are recv / send without flags, as on POSIX.
  override read(iovs: Uint8Array[]): number { return this.sockRecv(iovs, 0).size; }
  override write(iovs: Uint8Array[]): number { return this.sockSend(iovs, 0); }

  override filestat(): Filestat {
    return { dev: 0n, ino: 0n, filetype: this.filetype, nlink: 1n, size: 0n, atim: 0n, mtim: 0n, ctim: 0n };
  }

  override pollReadable(): Readiness { return this.pollOne(false); }
  override pollWritable(): Readiness { return this.pollOne(true); }

  private pollOne(write: boolean): Readiness {
    const r = this.broker.call<{ ready: { nbytes: number; hangup: boolean }[] }>({
      op: 'poll', subs: [{ h: this.handle, write }], timeoutMs: 0,
    });
    const first = r.ready[0];
    return first ? { ready: true, nbytes: BigInt(first.nbytes), hangup: first.hangup } : { ready: false, nbytes: 0n, hangup: false };
  }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.broker.call({ op: 'close', h: this.handle });
    } catch {
      // Already gone on the main thread (e.g. the instance is being torn down).
    }
  }
}

/** Preopens the listening sockets (options.listeners) at the lowest free fds, after the directories. */
export function setupListeners(ctx: WasiContext): void {
  const list = ctx.options.listeners ?? [];
  if (list.length === 0) return;
  const broker = ctx.options.broker;
  if (broker === undefined) throw new Error('listening sockets need an io broker');
  for (const h of list) ctx.fds.add(new SocketDescriptor(broker, h, true));
}
