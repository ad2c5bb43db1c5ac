// The main-thread side of the io broker (src/wasi/io-broker.ts): owns listening sockets and
// connections, buffers incoming data per connection, and answers the worker's blocking requests,
// deferring those that must wait for an event.
import { createServer, Socket, type Server } from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import { ERRNO } from '../wasi/constants.js';
import { toErrno } from '../wasi/errors.js';
import type { BrokerRequest, SockReady } from '../wasi/io-broker.js';

type Reply = { errno: number } | { ok: true; [key: string]: unknown };

export interface ListenerEntry { kind: 'listener'; server: Server; backlog: Socket[]; error?: number }
export interface ConnEntry {
  kind: 'conn';
  socket: Socket;
  chunks: Buffer[];
  size: number;
  eof: boolean;
  readShut: boolean;
  /** Reading pauses while this much is buffered. */
  highWater: number;
  error?: number;
}
type Entry = ListenerEntry | ConnEntry;

// Stop reading from a connection while this much is buffered and unread by the guest.
const HIGH_WATER = 1 << 20;

/**
 * Main-thread side: owns listening sockets and connections, buffers incoming data per connection,
 * and answers the worker's requests, deferring those that must wait for an event.
 */
export class IoServer {
  protected readonly entries = new Map<number, Entry>();
  protected nextHandle = 1;
  private port: MessagePort | null = null;
  private flag: Int32Array | null = null;
  /** The request waiting for an event: returns true once it has replied. */
  protected waiter: (() => boolean) | null = null;
  protected timer: NodeJS.Timeout | null = null;

  /** Opens a listening TCP socket on `HOST:PORT` ([v6]:port accepted) and returns its handle. */
  async listen(address: string): Promise<number> {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
    if (m === null) throw new Error(`invalid listen address "${address}" (expected HOST:PORT)`);
    const host = m[1] ?? m[2] ?? '';
    const port = Number(m[3]);
    if (port > 65535) throw new Error(`invalid port in "${address}"`);
    const server = createServer({ pauseOnConnect: true });
    const entry: ListenerEntry = { kind: 'listener', server, backlog: [] };
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: host === '' ? undefined : host, port, backlog: 128 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('connection', (s) => {
      entry.backlog.push(s);
      this.kick();
    });
    server.on('error', () => {
      entry.error = ERRNO.IO;
      this.kick();
    });
    const h = this.nextHandle++;
    this.entries.set(h, entry);
    return h;
  }

  /** The port a listener is bound to (useful when listening on port 0). */
  boundPort(h: number): number {
    const e = this.entries.get(h);
    if (e?.kind !== 'listener') throw new Error('not a listener');
    const addr = e.server.address();
    return typeof addr === 'object' && addr !== null ? addr.port : 0;
  }

  /** Starts answering requests from a worker. */
  attach(port: MessagePort, flag: Int32Array): void {
    this.port = port;
    this.flag = flag;
    port.on('message', (req: BrokerRequest) => this.handle(req));
  }

  /** Closes every socket and the port. */
  close(): void {
    this.waiter = null;
    if (this.timer) clearTimeout(this.timer);
    for (const e of this.entries.values()) {
      if (e.kind === 'listener') {
        e.server.close();
        for (const s of e.backlog) s.destroy();
      } else e.socket.destroy();
    }
    this.entries.clear();
    this.port?.close();
    this.port = null;
  }

  protected reply(r: Reply): void {
    if (this.port === null || this.flag === null) return;
    this.port.postMessage(r);
    Atomics.store(this.flag, 0, 1);
    Atomics.notify(this.flag, 0);
  }

  protected fail(errno: number): void { this.reply({ errno }); }

  protected kick(): void {
    if (this.waiter !== null && this.waiter()) {
      this.waiter = null;
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
    }
  }

  protected wait(tryNow: () => boolean): void {
    if (!tryNow()) this.waiter = tryNow;
  }

  protected conn(h: number): ConnEntry | undefined {
    const e = this.entry(h);
    return e?.kind === 'conn' ? e : undefined;
  }

  /**
   * Serves the guest's reads of a socket stdin (handle 0). The socket is opened lazily, on the
   * guest's first read or poll, and read ahead by at most one chunk, so input the guest never asks
   * for stays with whoever shares the socket.
   */
  serveStdin(fd: number): void {
    this.stdinFd = fd;
  }

  private stdinFd: number | undefined;

  protected entry(h: number): Entry | undefined {
    if (h === 0 && !this.entries.has(0) && this.stdinFd !== undefined) {
      // allowHalfOpen: the guest's stdout may be the same socket; our EOF must not shut it down.
      const socket = new Socket({ fd: this.stdinFd, readable: true, writable: false, allowHalfOpen: true });
      this.adopt(socket, 0, 1);
    }
    return this.entries.get(h);
  }

  /** Starts buffering a connection's input; returns its handle (`fixed` for stdin). */
  protected adopt(socket: Socket, fixed?: number, highWater = HIGH_WATER): number {
    const entry: ConnEntry = { kind: 'conn', socket, chunks: [], size: 0, eof: false, readShut: false, highWater };
    if (fixed === undefined) socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (entry.readShut) return;
      entry.chunks.push(chunk);
      entry.size += chunk.length;
      if (entry.size >= entry.highWater) socket.pause();
      this.kick();
    });
    socket.on('end', () => {
      entry.eof = true;
      this.kick();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      try {
        entry.error = toErrno(err);
      } catch {
        entry.error = ERRNO.IO;
      }
      entry.eof = true;
      this.kick();
    });
    socket.on('close', () => {
      entry.eof = true;
      this.kick();
    });
    socket.on('drain', () => this.kick());
    socket.resume();
    const h = fixed ?? this.nextHandle++;
    this.entries.set(h, entry);
    return h;
  }

  /** Removes up to len bytes from the front of the connection's buffer (or copies them, for peek). */
  protected take(e: ConnEntry, len: number, peek: boolean): Uint8Array {
    const n = Math.min(len, e.size);
    const all = e.chunks.length === 1 ? e.chunks[0]! : Buffer.concat(e.chunks);
    // A copy of its own, exactly n bytes: a small Buffer.from() lives in node's shared 8 KiB pool,
    // which the reply's structured clone would copy whole (~100 µs a message, measured).
    const out = new Uint8Array(n);
    out.set(all.subarray(0, n));
    if (!peek) {
      const rest = all.subarray(n);
      e.chunks = rest.length > 0 ? [rest] : [];
      e.size = rest.length;
      if (e.size < e.highWater && !e.eof) e.socket.resume();
    } else if (e.chunks.length > 1) e.chunks = [all];
    return out;
  }

  protected readiness(h: number, write: boolean, index: number): SockReady | null {
    const e = this.entry(h);
    if (e === undefined) return { index, nbytes: 0, hangup: false, errno: ERRNO.BADF };
    if (e.kind === 'listener') {
      if (write) return null;
      return e.backlog.length > 0 ? { index, nbytes: e.backlog.length, hangup: false } : null;
    }
    if (write) {
      const s = e.socket;
      if (e.error !== undefined || s.destroyed || !s.writable) return { index, nbytes: 0, hangup: true };
      return s.writableNeedDrain ? null : { index, nbytes: Math.max(0, s.writableHighWaterMark - s.writableLength), hangup: false };
    }
    if (e.size > 0) return { index, nbytes: e.size, hangup: e.eof };
    if (e.eof || e.readShut) return { index, nbytes: 0, hangup: true };
    return null;
  }

  protected handle(req: BrokerRequest): void {
    switch (req.op) {
      case 'accept': {
        const e = this.entries.get(req.h);
        if (e?.kind !== 'listener') return this.fail(e === undefined ? ERRNO.BADF : ERRNO.INVAL);
        return this.wait(() => {
          const s = e.backlog.shift();
          if (s !== undefined) {
            this.reply({ ok: true, handle: this.adopt(s) });
            return true;
          }
          if (!req.block) {
            this.fail(ERRNO.AGAIN);
            return true;
          }
          return false;
        });
      }
      case 'recv': {
        const e = this.conn(req.h);
        if (e === undefined) return this.fail(this.entries.has(req.h) ? ERRNO.NOTCONN : ERRNO.BADF);
        return this.wait(() => {
          if (e.readShut) {
            this.reply({ ok: true, data: new Uint8Array(0) });
            return true;
          }
          const enough = req.waitall ? e.size >= req.len : e.size > 0;
          if (enough || (e.eof && e.size > 0) || req.len === 0) {
            this.reply({ ok: true, data: this.take(e, req.len, req.peek) });
            return true;
          }
          if (e.eof) {
            if (e.error !== undefined) this.fail(e.error);
            else this.reply({ ok: true, data: new Uint8Array(0) });
            return true;
          }
          if (!req.block) {
            if (e.size > 0) this.reply({ ok: true, data: this.take(e, req.len, req.peek) });
            else this.fail(ERRNO.AGAIN);
            return true;
          }
          return false;
        });
      }
      case 'send': {
        const e = this.conn(req.h);
        if (e === undefined) return this.fail(this.entries.has(req.h) ? ERRNO.NOTCONN : ERRNO.BADF);
        const s = e.socket;
        if (e.error !== undefined) return this.fail(e.error);
        if (s.destroyed || !s.writable) return this.fail(ERRNO.PIPE);
        if (!req.block && s.writableNeedDrain) return this.fail(ERRNO.AGAIN);
        const n = req.data.length;
        const flushed = s.write(req.data);
        // Backpressure: a blocking send returns once the kernel has room again.
        if (flushed || !req.block) return this.reply({ ok: true, size: n });
        return this.wait(() => {
          if (!s.writableNeedDrain || s.destroyed) {
            this.reply({ ok: true, size: n });
            return true;
          }
          return false;
        });
      }
      case 'shutdown': {
        const e = this.conn(req.h);
        if (e === undefined) return this.fail(this.entries.has(req.h) ? ERRNO.NOTCONN : ERRNO.BADF);
        if ((req.how & 1) !== 0) {
          e.readShut = true;
          e.chunks = [];
          e.size = 0;
        }
        if ((req.how & 2) !== 0) e.socket.end();
        return this.reply({ ok: true });
      }
      case 'close': {
        const e = this.entries.get(req.h);
        if (e === undefined) return this.fail(ERRNO.BADF);
        this.entries.delete(req.h);
        if (e.kind === 'listener') {
          e.server.close();
          for (const s of e.backlog) s.destroy();
        } else if (e.socket.writableLength > 0 && !e.socket.destroyed) {
          // Let queued data reach the peer, as close(2) on a socket does.
          e.socket.end();
          e.socket.once('finish', () => e.socket.destroy());
        } else e.socket.destroy();
        return this.reply({ ok: true });
      }
      case 'info': {
        const e = this.entries.get(req.h);
        if (e === undefined) return this.fail(ERRNO.BADF);
        return this.reply({ ok: true, kind: e.kind });
      }
      case 'poll': {
        const check = (): SockReady[] => {
          const out: SockReady[] = [];
          req.subs.forEach((s, i) => {
            const r = this.readiness(s.h, s.write, i);
            if (r !== null) out.push(r);
          });
          return out;
        };
        const now = check();
        if (now.length > 0 || req.timeoutMs === 0) return this.reply({ ok: true, ready: now });
        this.waiter = () => {
          const r = check();
          if (r.length === 0) return false;
          this.reply({ ok: true, ready: r });
          return true;
        };
        if (req.timeoutMs > 0) {
          this.timer = setTimeout(() => {
            this.timer = null;
            this.waiter = null;
            this.reply({ ok: true, ready: [] });
          }, Math.min(req.timeoutMs, 2 ** 31 - 1));
        }
        return;
      }
    }
  }
}

