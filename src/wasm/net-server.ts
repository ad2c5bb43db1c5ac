// The net thread's side of wasi:sockets (the guest side is src/wasi/p2/sockets.ts): preview1's io
// server (io-server.ts: listeners, connections, buffering, the broker's reply and waiting) plus
// what WASI 0.2 asks for: listening on an address, outgoing connections, UDP, name lookups, and one
// `wait` for every kind of pollable. Runs on its own worker thread (net-worker.ts), whose event loop
// owns the sockets while the guest's thread blocks on the broker.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns';
import { createServer, connect as tcpConnect } from 'node:net';
import { ERRNO } from '../wasi/constants.js';
import { toErrno } from '../wasi/errors.js';
import type { BrokerRequest } from '../wasi/io-broker.js';
import type { Endpoint, IncomingDatagram, NetRequest, NetSub } from '../wasi/p2/net-protocol.js';
import { IoServer, type ConnEntry, type ListenerEntry } from './io-server.js';

interface UdpEntry { socket: UdpSocket; queue: IncomingDatagram[]; error?: number }
interface LookupEntry { done: boolean; addresses?: string[]; code?: string }

/** Received datagrams kept per socket before new ones are dropped (as a full kernel buffer drops them). */
const MAX_QUEUED_DATAGRAMS = 1024;

const errnoOf = (e: unknown): number => {
  try {
    return toErrno(e);
  } catch {
    return ERRNO.IO;
  }
};

const endpoint = (a: { address?: string; port?: number } | string | null | undefined): Endpoint =>
  (typeof a === 'object' && a !== null ? { host: a.address ?? '', port: a.port ?? 0 } : { host: '', port: 0 });

export class NetServer extends IoServer {
  private readonly udp = new Map<number, UdpEntry>();
  private readonly lookups = new Map<number, LookupEntry>();
  /** A request is waiting for its reply: the guest's thread blocks until it gets one, whatever happens here. */
  private pending = false;

  protected override reply(r: Parameters<IoServer['reply']>[0]): void {
    this.pending = false;
    super.reply(r);
  }

  /** Answers the waiting request, if any, with `errno`: for a failure of this thread's own (a bug), so the guest is not left blocked for good. */
  failPending(errno: number = ERRNO.IO): void {
    if (this.pending) this.fail(errno);
  }

  protected override handle(req: BrokerRequest | NetRequest): void {
    if (req.op === 'tcp-write') {
      // No answer: a failure shows on the connection's next call (its error, or a closed stream).
      const e = this.conn(req.h);
      if (e !== undefined && e.error === undefined && !e.socket.destroyed && e.socket.writable) e.socket.write(req.data);
      return;
    }
    this.pending = true;
    try {
      this.serve(req);
    } catch (e) {
      this.failPending(errnoOf(e));
    }
  }

  private serve(req: BrokerRequest | NetRequest): void {
    switch (req.op) {
      case 'tcp-listen': return this.listenOn(req);
      case 'tcp-connect': return this.connectTo(req);
      case 'tcp-connected': {
        const e = this.conn(req.h);
        if (e === undefined) return this.fail(ERRNO.BADF);
        if (e.socket.connecting && e.error === undefined) return this.reply({ ok: true, done: false });
        if (e.error !== undefined) return this.fail(e.error);
        return this.reply({ ok: true, done: true, local: endpoint(e.socket.address()), remote: { host: e.socket.remoteAddress ?? '', port: e.socket.remotePort ?? 0 } });
      }
      case 'tcp-accept': {
        const e = this.entries.get(req.h);
        if (e?.kind !== 'listener') return this.fail(ERRNO.BADF);
        if (e.error !== undefined) return this.fail(e.error);
        const s = e.backlog.shift();
        if (s === undefined) return this.fail(ERRNO.AGAIN);
        const remote = { host: s.remoteAddress ?? '', port: s.remotePort ?? 0 };
        return this.reply({ ok: true, handle: this.adopt(s), local: endpoint(s.address()), remote });
      }
      case 'tcp-writable': {
        const e = this.conn(req.h);
        if (e === undefined) return this.fail(ERRNO.BADF);
        if (e.error !== undefined) return this.fail(e.error);
        const s = e.socket;
        if (s.destroyed || !s.writable) return this.fail(ERRNO.PIPE);
        return this.reply({ ok: true, n: s.writableNeedDrain ? 0 : Math.max(1, s.writableHighWaterMark - s.writableLength) });
      }
      case 'tcp-send': {
        const e = this.conn(req.h);
        if (e === undefined) return this.fail(ERRNO.BADF);
        if (e.error !== undefined) return this.fail(e.error);
        const s = e.socket;
        if (s.destroyed || !s.writable) return this.fail(ERRNO.PIPE);
        const credit = (): number => Math.max(0, s.writableHighWaterMark - s.writableLength);
        if (s.write(req.data) || !req.block) return this.reply({ ok: true, credit: credit() });
        // Backpressure: a blocking write returns once node's buffer has drained.
        return this.wait(() => {
          if (s.writableNeedDrain && !s.destroyed) return false;
          this.reply({ ok: true, credit: credit() });
          return true;
        });
      }
      case 'tcp-keepalive': {
        const e = this.conn(req.h);
        if (e === undefined) return this.fail(ERRNO.BADF);
        e.socket.setKeepAlive(req.enable, req.idleMs);
        return this.reply({ ok: true });
      }
      case 'udp-bind': return this.bindUdp(req);
      case 'udp-connect': {
        const u = this.udp.get(req.h);
        if (u === undefined) return this.fail(ERRNO.BADF);
        try {
          u.socket.disconnect();
        } catch {
          // Was not connected.
        }
        if (req.remote === undefined) return this.reply({ ok: true });
        u.socket.connect(req.remote.port, req.remote.host, (err?: Error) => (err ? this.fail(errnoOf(err)) : this.reply({ ok: true })));
        return;
      }
      case 'udp-receive': {
        const u = this.udp.get(req.h);
        if (u === undefined) return this.fail(ERRNO.BADF);
        return this.reply({ ok: true, datagrams: u.queue.splice(0, req.max) });
      }
      case 'udp-send': return this.sendUdp(req);
      case 'udp-option': {
        const u = this.udp.get(req.h);
        if (u === undefined) return this.fail(ERRNO.BADF);
        try {
          if (req.ttl !== undefined) u.socket.setTTL(req.ttl);
          if (req.receiveBuffer !== undefined) u.socket.setRecvBufferSize(req.receiveBuffer);
          if (req.sendBuffer !== undefined) u.socket.setSendBufferSize(req.sendBuffer);
          return this.reply({ ok: true, receiveBuffer: u.socket.getRecvBufferSize(), sendBuffer: u.socket.getSendBufferSize() });
        } catch (e) {
          return this.fail(errnoOf(e));
        }
      }
      case 'lookup': {
        const h = this.nextHandle++;
        const entry: LookupEntry = { done: false };
        this.lookups.set(h, entry);
        lookup(req.name, { all: true, order: 'verbatim' }, (err, addresses) => {
          entry.done = true;
          if (err) entry.code = err.code;
          else entry.addresses = addresses.map((a) => a.address);
          this.kick();
        });
        return this.reply({ ok: true, handle: h });
      }
      case 'lookup-result': {
        const l = this.lookups.get(req.h);
        if (l === undefined) return this.fail(ERRNO.BADF);
        return this.reply({ ok: true, done: l.done, addresses: l.addresses, code: l.code });
      }
      case 'wait': return this.waitFor(req.subs, req.timeoutMs);
      case 'close': {
        if (this.udp.has(req.h)) {
          this.udp.get(req.h)!.socket.close();
          this.udp.delete(req.h);
          return this.reply({ ok: true });
        }
        if (this.lookups.delete(req.h)) return this.reply({ ok: true });
        return super.handle(req);
      }
      // preview1's requests (recv, send, shutdown, close, accept, poll); a posted write never gets here.
      default: return super.handle(req as BrokerRequest);
    }
  }

  override close(): void {
    for (const u of this.udp.values()) u.socket.close();
    this.udp.clear();
    super.close();
  }

  private listenOn(req: Extract<NetRequest, { op: 'tcp-listen' }>): void {
    // allowHalfOpen: the peer's end of its sending side must not end ours (a shutdown is one-way in WASI too).
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
    const entry: ListenerEntry = { kind: 'listener', server, backlog: [] };
    server.once('error', (e) => this.fail(errnoOf(e)));
    server.listen({ host: req.local.host, port: req.local.port, backlog: req.backlog, ipv6Only: req.ipv6 }, () => {
      server.removeAllListeners('error');
      server.on('error', () => {
        entry.error = ERRNO.IO;
        this.kick();
      });
      server.on('connection', (s) => {
        entry.backlog.push(s);
        this.kick();
      });
      const h = this.nextHandle++;
      this.entries.set(h, entry);
      this.reply({ ok: true, handle: h, local: endpoint(server.address()) });
    });
  }

  private connectTo(req: Extract<NetRequest, { op: 'tcp-connect' }>): void {
    const socket = tcpConnect({
      host: req.remote.host, port: req.remote.port, family: req.ipv6 ? 6 : 4, allowHalfOpen: true,
      localAddress: req.local?.host, localPort: req.local?.port || undefined,
      keepAlive: req.keepAlive?.enable, keepAliveInitialDelay: req.keepAlive?.idleMs,
    });
    socket.pause();
    const h = this.adopt(socket);
    // adopt() marks a failed socket as ended; `connect` wakes a waiting connect pollable.
    socket.once('connect', () => this.kick());
    this.reply({ ok: true, handle: h });
  }

  private bindUdp(req: Extract<NetRequest, { op: 'udp-bind' }>): void {
    const socket = createSocket({ type: req.ipv6 ? 'udp6' : 'udp4', ipv6Only: req.ipv6 });
    const entry: UdpEntry = { socket, queue: [] };
    socket.once('error', (e) => this.fail(errnoOf(e)));
    socket.bind({ address: req.local.host, port: req.local.port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      socket.on('error', (e) => {
        entry.error = errnoOf(e);
        this.kick();
      });
      socket.on('message', (data, rinfo) => {
        if (entry.queue.length < MAX_QUEUED_DATAGRAMS) entry.queue.push({ data: new Uint8Array(data), from: { host: rinfo.address, port: rinfo.port } });
        this.kick();
      });
      const h = this.nextHandle++;
      this.udp.set(h, entry);
      this.reply({ ok: true, handle: h, local: endpoint(socket.address()) });
    });
  }

  /** Sends the datagrams in order; answers how many went out (an error after the first is not reported, as WIT asks). */
  private sendUdp(req: Extract<NetRequest, { op: 'udp-send' }>): void {
    const u = this.udp.get(req.h);
    if (u === undefined) return this.fail(ERRNO.BADF);
    let sent = 0;
    const next = (): void => {
      const d = req.datagrams[sent];
      if (d === undefined) return this.reply({ ok: true, count: sent });
      const done = (err: Error | null): void => {
        if (err) return sent === 0 ? this.fail(errnoOf(err)) : this.reply({ ok: true, count: sent });
        sent++;
        next();
      };
      if (d.to === undefined) u.socket.send(d.data, done);
      else u.socket.send(d.data, d.to.port, d.to.host, done);
    };
    next();
  }

  private ready(sub: NetSub): boolean {
    switch (sub.kind) {
      case 'read': case 'write': case 'accept': return this.readiness(sub.h, sub.kind === 'write', 0) !== null;
      case 'connect': {
        const e = this.entries.get(sub.h) as ConnEntry | undefined;
        return e === undefined || e.kind !== 'conn' || !e.socket.connecting || e.error !== undefined;
      }
      case 'datagram': {
        const u = this.udp.get(sub.h);
        return u === undefined || u.queue.length > 0 || u.error !== undefined;
      }
      case 'lookup': return this.lookups.get(sub.h)?.done ?? true;
    }
  }

  private waitFor(subs: NetSub[], timeoutMs: number): void {
    const check = (): number[] => subs.flatMap((s, i) => (this.ready(s) ? [i] : []));
    const now = check();
    if (now.length > 0 || timeoutMs === 0) return this.reply({ ok: true, ready: now });
    this.waiter = () => {
      const r = check();
      if (r.length === 0) return false;
      this.reply({ ok: true, ready: r });
      return true;
    };
    if (timeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.waiter = null;
        this.reply({ ok: true, ready: [] });
      }, Math.min(timeoutMs, 2 ** 31 - 1));
    }
  }
}
