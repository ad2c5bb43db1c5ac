// wasi:sockets — network, instance-network, tcp, tcp-create-socket, udp, udp-create-socket. The
// sockets themselves live on the net thread (src/wasm/net-server.ts), whose event loop node needs
// for them; each call here is one synchronous request over the io broker. The network resource
// carries the policy: without access (the host, no --allow-net) there is no net thread, and
// creating a socket (and any bind or connect) answers `access-denied`, as wasmtime does without
// network permission (checked with wasmtime-py's add_wasip2 and its default WasiConfig).
//
// node binds a TCP socket only when it listens or connects, so bind here checks and records the
// address, and the kernel's answer (address-in-use, …) comes from start-listen or finish-connect.
import { ERRNO } from '../constants.js';
import { WasiError } from '../errors.js';
import type { BrokerRequest, IoBroker } from '../io-broker.js';
import { streamError } from './errors.js';
import { checkLocal, checkRemote, netResult, toHostPort, toSocketAddress, type Family, type SocketAddress } from './net-address.js';
import type { Endpoint, NetRequest, NetSub } from './net-protocol.js';
import { InputStream, OutputStream, Pollable, readyPollable, type RemoteReadiness } from './streams.js';

/** The instance's access to the network: a broker to the net thread, or none (denied). */
export class NetAccess implements RemoteReadiness {
  constructor(readonly broker: IoBroker | undefined) {}
  get allowed(): boolean { return this.broker !== undefined; }
  call<T = Record<string, unknown>>(req: NetRequest | BrokerRequest): T {
    if (this.broker === undefined) throw 'access-denied';
    return this.broker.call<T>(req);
  }
  /** A request with no answer (sockets.ts: writes within their credit). */
  post(req: NetRequest): void {
    if (this.broker === undefined) throw 'access-denied';
    this.broker.post(req);
  }
  wait(subs: unknown[], timeoutMs: number): number[] {
    return this.call<{ ready: number[] }>({ op: 'wait', subs: subs as NetSub[], timeoutMs }).ready;
  }
  pollable(h: number, kind: NetSub['kind']): Pollable {
    return new Pollable(() => false, undefined, { readiness: this, sub: { h, kind } });
  }
  /** Releases a net-thread handle (resource drop): nothing to report to the guest. */
  close(h: number): void {
    try {
      this.call({ op: 'close', h });
    } catch {
      // Already gone.
    }
  }
}

/** wasi:sockets/network `network`: the capability every bind, connect and lookup is checked against. */
export class Network {
  constructor(readonly access: NetAccess) {}
  [Symbol.dispose](): void {}
}

const noSource = { read: (): number => 0, ready: (): boolean => true };
const noSink = { write: (): void => {} };

/** A connection's receiving half: one request per read. */
export class SocketInputStream extends InputStream {
  constructor(private readonly access: NetAccess, private readonly h: number) { super(noSource); }

  override read(len: bigint): Uint8Array { return this.receive(len, false); }
  override blockingRead(len: bigint): Uint8Array { return this.receive(len, true); }
  override subscribe(): Pollable { return this.access.pollable(this.h, 'read'); }

  private receive(len: bigint, block: boolean): Uint8Array {
    const want = Number(len > 1n << 20n ? 1n << 20n : len);
    if (want === 0) return new Uint8Array(0);
    let data: Uint8Array;
    try {
      data = this.access.call<{ data: Uint8Array }>({ op: 'recv', h: this.h, len: want, peek: false, waitall: false, block }).data;
    } catch (e) {
      if (e instanceof WasiError && e.errno === ERRNO.AGAIN) return new Uint8Array(0);
      throw streamError(e);
    }
    if (data.length === 0) throw { tag: 'closed' };
    return data;
  }
}

/**
 * A connection's sending half. Node queues what is written; a write within the credit the net
 * thread last granted (the room left in node's buffer) is posted without waiting for an answer,
 * which saves a thread round trip per write; beyond it, the write is a call that answers with the
 * new credit (waiting for the buffer to drain when blocking). A failure of a posted write shows on
 * the next call (check-write, a write beyond the credit, or a read of the connection).
 */
export class SocketOutputStream extends OutputStream {
  private credit = 0;

  constructor(private readonly access: NetAccess, private readonly h: number) { super(noSink); }

  override checkWrite(): bigint {
    try {
      this.credit = this.access.call<{ n: number }>({ op: 'tcp-writable', h: this.h }).n;
      return BigInt(this.credit);
    } catch (e) {
      throw streamError(e);
    }
  }

  override write(contents: Uint8Array): void { this.send(contents, false); }
  override blockingWriteAndFlush(contents: Uint8Array): void { this.send(contents, true); }
  override subscribe(): Pollable { return this.access.pollable(this.h, 'write'); }

  private send(data: Uint8Array, block: boolean): void {
    if (data.length === 0) return;
    // Exactly the bytes: posting a view would clone the whole buffer under it.
    const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
    try {
      if (own.length <= this.credit) {
        this.credit -= own.length;
        this.access.post({ op: 'tcp-write', h: this.h, data: own });
        return;
      }
      this.credit = this.access.call<{ credit: number }>({ op: 'tcp-send', h: this.h, data: own, block }).credit;
    } catch (e) {
      throw streamError(e);
    }
  }
}

type TcpState = 'unbound' | 'bind-started' | 'bound' | 'listen-started' | 'listening' | 'connect-started' | 'connected' | 'closed';

const fromEndpoint = (e: Endpoint, family: Family): SocketAddress => toSocketAddress(e.host, e.port, family);
const NS_PER_MS = 1_000_000n;
/** Linux's default idle time before keep-alive probes (tcp_keepalive_time): what the getter says until set. */
const DEFAULT_KEEPALIVE_IDLE_NS = 7200n * 1_000_000_000n;

export class TcpSocket {
  private state: TcpState = 'unbound';
  /** The net thread's handle: a listener, or a connection (also while connecting). */
  private h = 0;
  private local?: SocketAddress;
  private remote?: SocketAddress;
  private backlog = 128;
  private keepAlive = false;
  private keepAliveIdleNs = DEFAULT_KEEPALIVE_IDLE_NS;

  constructor(private readonly family: Family, private readonly access: NetAccess) {}

  /** An accepted connection. */
  static connected(family: Family, access: NetAccess, h: number, local: SocketAddress, remote: SocketAddress): TcpSocket {
    const s = new TcpSocket(family, access);
    Object.assign(s, { state: 'connected', h, local, remote });
    return s;
  }

  private streams(): [SocketInputStream, SocketOutputStream] {
    return [new SocketInputStream(this.access, this.h), new SocketOutputStream(this.access, this.h)];
  }

  startBind(network: Network, localAddress: SocketAddress): void {
    netResult(() => {
      if (!network.access.allowed) throw 'access-denied';
      if (this.state !== 'unbound') throw 'invalid-state';
      checkLocal(localAddress, this.family);
      this.local = localAddress;
      this.state = 'bind-started';
    });
  }

  finishBind(): void {
    netResult(() => {
      if (this.state !== 'bind-started') throw 'not-in-progress';
      this.state = 'bound';
    });
  }

  startConnect(network: Network, remoteAddress: SocketAddress): void {
    netResult(() => {
      if (!network.access.allowed) throw 'access-denied';
      if (this.state !== 'unbound' && this.state !== 'bound') throw 'invalid-state';
      checkRemote(remoteAddress, this.family);
      const local = this.local === undefined ? undefined : toHostPort(this.local);
      this.h = this.access.call<{ handle: number }>({
        op: 'tcp-connect', remote: toHostPort(remoteAddress), local, ipv6: this.family === 'ipv6',
        keepAlive: this.keepAlive ? { enable: true, idleMs: Number(this.keepAliveIdleNs / NS_PER_MS) } : undefined,
      }).handle;
      this.remote = remoteAddress;
      this.state = 'connect-started';
    });
  }

  finishConnect(): [SocketInputStream, SocketOutputStream] {
    return netResult(() => {
      if (this.state !== 'connect-started') throw 'not-in-progress';
      let r: { done: boolean; local?: Endpoint; remote?: Endpoint };
      try {
        r = this.access.call({ op: 'tcp-connected', h: this.h });
      } catch (e) {
        // A failed connect leaves the socket unusable (WIT: it is closed).
        this.state = 'closed';
        throw e;
      }
      if (!r.done) throw 'would-block';
      this.local = fromEndpoint(r.local!, this.family);
      this.state = 'connected';
      return this.streams();
    });
  }

  startListen(): void {
    netResult(() => {
      if (this.state !== 'bound') throw 'invalid-state';
      const r = this.access.call<{ handle: number; local: Endpoint }>({ op: 'tcp-listen', local: toHostPort(this.local!), ipv6: this.family === 'ipv6', backlog: this.backlog });
      this.h = r.handle;
      this.local = fromEndpoint(r.local, this.family);
      this.state = 'listen-started';
    });
  }

  finishListen(): void {
    netResult(() => {
      if (this.state !== 'listen-started') throw 'not-in-progress';
      this.state = 'listening';
    });
  }

  accept(): [TcpSocket, SocketInputStream, SocketOutputStream] {
    return netResult(() => {
      if (this.state !== 'listening') throw 'invalid-state';
      const r = this.access.call<{ handle: number; local: Endpoint; remote: Endpoint }>({ op: 'tcp-accept', h: this.h });
      const s = TcpSocket.connected(this.family, this.access, r.handle, fromEndpoint(r.local, this.family), fromEndpoint(r.remote, this.family));
      s.keepAlive = this.keepAlive;
      s.keepAliveIdleNs = this.keepAliveIdleNs;
      if (this.keepAlive) s.applyKeepAlive();
      return [s, ...s.streams()];
    });
  }

  localAddress(): SocketAddress {
    return netResult(() => {
      if (this.local === undefined || this.state === 'unbound' || this.state === 'closed') throw 'invalid-state';
      return this.local;
    });
  }

  remoteAddress(): SocketAddress {
    return netResult(() => {
      if (this.state !== 'connected') throw 'invalid-state';
      return this.remote!;
    });
  }

  isListening(): boolean { return this.state === 'listening'; }
  addressFamily(): Family { return this.family; }

  setListenBacklogSize(value: bigint): void {
    netResult(() => {
      if (value === 0n) throw 'invalid-argument';
      // node cannot change the backlog of a socket that already listens.
      if (this.state === 'listen-started' || this.state === 'listening') throw 'not-supported';
      if (this.state === 'connect-started' || this.state === 'connected') throw 'invalid-state';
      this.backlog = Number(value > 0x7fffffffn ? 0x7fffffffn : value);
    });
  }

  keepAliveEnabled(): boolean { return this.keepAlive; }
  setKeepAliveEnabled(value: boolean): void {
    netResult(() => {
      this.keepAlive = value;
      this.applyKeepAlive();
    });
  }

  keepAliveIdleTime(): bigint { return this.keepAliveIdleNs; }
  setKeepAliveIdleTime(value: bigint): void {
    netResult(() => {
      if (value <= 0n) throw 'invalid-argument';
      // node takes whole milliseconds (the kernel whole seconds): at least one.
      this.keepAliveIdleNs = value < NS_PER_MS ? NS_PER_MS : value;
      this.applyKeepAlive();
    });
  }

  private applyKeepAlive(): void {
    if (this.state === 'connected' || this.state === 'connect-started') {
      this.access.call({ op: 'tcp-keepalive', h: this.h, enable: this.keepAlive, idleMs: Number(this.keepAliveIdleNs / NS_PER_MS) });
    }
  }

  // What node cannot set or read on a TCP socket: not-supported (docs/components.md, Sockets).
  keepAliveInterval(): bigint { throw 'not-supported'; }
  setKeepAliveInterval(_value: bigint): void { throw 'not-supported'; }
  keepAliveCount(): number { throw 'not-supported'; }
  setKeepAliveCount(_value: number): void { throw 'not-supported'; }
  hopLimit(): number { throw 'not-supported'; }
  setHopLimit(_value: number): void { throw 'not-supported'; }
  receiveBufferSize(): bigint { throw 'not-supported'; }
  setReceiveBufferSize(_value: bigint): void { throw 'not-supported'; }
  sendBufferSize(): bigint { throw 'not-supported'; }
  setSendBufferSize(_value: bigint): void { throw 'not-supported'; }

  subscribe(): Pollable {
    if (this.state === 'connect-started') return this.access.pollable(this.h, 'connect');
    if (this.state === 'listening') return this.access.pollable(this.h, 'accept');
    return readyPollable();
  }

  shutdown(how: 'receive' | 'send' | 'both'): void {
    netResult(() => {
      if (this.state !== 'connected') throw 'invalid-state';
      this.access.call({ op: 'shutdown', h: this.h, how: how === 'receive' ? 1 : how === 'send' ? 2 : 3 });
    });
  }

  [Symbol.dispose](): void {
    if (this.h !== 0) this.access.close(this.h);
    this.h = 0;
    this.state = 'closed';
  }
}

export interface IncomingDatagramValue { data: Uint8Array; remoteAddress: SocketAddress }
export interface OutgoingDatagramValue { data: Uint8Array; remoteAddress?: SocketAddress }

/** What node lets an unbound or bound UDP socket send at once: the datagrams check-send allows. */
const SEND_PERMITS = 64n;
/** Linux's default unicast hop limit (ip_default_ttl), what the getter says until set. */
const DEFAULT_HOP_LIMIT = 64;

export class UdpSocket {
  private h = 0;
  private state: 'unbound' | 'bind-started' | 'bound' | 'closed' = 'unbound';
  private local?: SocketAddress;
  private remote?: SocketAddress;
  private hopLimit = DEFAULT_HOP_LIMIT;

  constructor(private readonly family: Family, private readonly access: NetAccess) {}

  startBind(network: Network, localAddress: SocketAddress): void {
    netResult(() => {
      if (!network.access.allowed) throw 'access-denied';
      if (this.state !== 'unbound') throw 'invalid-state';
      checkLocal(localAddress, this.family);
      const r = this.access.call<{ handle: number; local: Endpoint }>({ op: 'udp-bind', local: toHostPort(localAddress), ipv6: this.family === 'ipv6' });
      this.h = r.handle;
      this.local = fromEndpoint(r.local, this.family);
      this.state = 'bind-started';
    });
  }

  finishBind(): void {
    netResult(() => {
      if (this.state !== 'bind-started') throw 'not-in-progress';
      this.state = 'bound';
    });
  }

  stream(remoteAddress?: SocketAddress): [IncomingDatagramStream, OutgoingDatagramStream] {
    return netResult(() => {
      if (this.state !== 'bound') throw 'invalid-state';
      if (remoteAddress !== undefined) checkRemote(remoteAddress, this.family);
      this.access.call({ op: 'udp-connect', h: this.h, remote: remoteAddress === undefined ? undefined : toHostPort(remoteAddress) });
      this.remote = remoteAddress;
      return [new IncomingDatagramStream(this.access, this.h, this.family), new OutgoingDatagramStream(this.access, this.h, this.family, remoteAddress)];
    });
  }

  localAddress(): SocketAddress {
    return netResult(() => {
      if (this.state !== 'bound' && this.state !== 'bind-started') throw 'invalid-state';
      return this.local!;
    });
  }

  remoteAddress(): SocketAddress {
    return netResult(() => {
      if (this.remote === undefined) throw 'invalid-state';
      return this.remote;
    });
  }

  addressFamily(): Family { return this.family; }

  unicastHopLimit(): number { return this.hopLimit; }
  setUnicastHopLimit(value: number): void {
    netResult(() => {
      if (value === 0) throw 'invalid-argument';
      if (this.state === 'bound') this.option({ ttl: value });
      this.hopLimit = value;
    });
  }

  receiveBufferSize(): bigint { return netResult(() => BigInt(this.option({}).receiveBuffer)); }
  setReceiveBufferSize(value: bigint): void { netResult(() => { this.option({ receiveBuffer: this.size(value) }); }); }
  sendBufferSize(): bigint { return netResult(() => BigInt(this.option({}).sendBuffer)); }
  setSendBufferSize(value: bigint): void { netResult(() => { this.option({ sendBuffer: this.size(value) }); }); }

  private size(value: bigint): number {
    if (value === 0n) throw 'invalid-argument';
    return Number(value > 0x7fffffffn ? 0x7fffffffn : value);
  }

  /** Buffer sizes exist in node only once bound: before that, not-supported (documented). */
  private option(o: { ttl?: number; receiveBuffer?: number; sendBuffer?: number }): { receiveBuffer: number; sendBuffer: number } {
    if (this.state !== 'bound' && this.state !== 'bind-started') throw 'not-supported';
    return this.access.call({ op: 'udp-option', h: this.h, ...o });
  }

  subscribe(): Pollable { return readyPollable(); }

  [Symbol.dispose](): void {
    if (this.h !== 0) this.access.close(this.h);
    this.h = 0;
    this.state = 'closed';
  }
}

export class IncomingDatagramStream {
  constructor(private readonly access: NetAccess, private readonly h: number, private readonly family: Family) {}

  receive(maxResults: bigint): IncomingDatagramValue[] {
    return netResult(() => {
      if (maxResults === 0n) return [];
      const max = Number(maxResults > 1024n ? 1024n : maxResults);
      const r = this.access.call<{ datagrams: { data: Uint8Array; from: Endpoint }[] }>({ op: 'udp-receive', h: this.h, max });
      return r.datagrams.map((d) => ({ data: d.data, remoteAddress: fromEndpoint(d.from, this.family) }));
    });
  }

  subscribe(): Pollable { return this.access.pollable(this.h, 'datagram'); }
  [Symbol.dispose](): void {}
}

export class OutgoingDatagramStream {
  constructor(private readonly access: NetAccess, private readonly h: number, private readonly family: Family, private readonly remote?: SocketAddress) {}

  checkSend(): bigint { return SEND_PERMITS; }

  send(datagrams: OutgoingDatagramValue[]): bigint {
    return netResult(() => {
      if (datagrams.length === 0) return 0n;
      const out = datagrams.map((d) => {
        if (d.remoteAddress === undefined) {
          if (this.remote === undefined) throw 'invalid-argument';
          return { data: d.data };
        }
        checkRemote(d.remoteAddress, this.family);
        // A connected stream sends only to its peer.
        if (this.remote !== undefined) {
          if (JSON.stringify(d.remoteAddress) !== JSON.stringify(this.remote)) throw 'invalid-argument';
          return { data: d.data };
        }
        return { data: d.data, to: toHostPort(d.remoteAddress) };
      });
      return BigInt(this.access.call<{ count: number }>({ op: 'udp-send', h: this.h, datagrams: out }).count);
    });
  }

  subscribe(): Pollable { return readyPollable(); }
  [Symbol.dispose](): void {}
}

/** The wasi:sockets interfaces (name lookup apart: name-lookup.ts) for an instance with `access`. */
export function socketImports(access: NetAccess): Record<string, Record<string, unknown>> {
  // Without access, creating a socket is already access-denied: what wasmtime answers without network permission.
  const family = (f: Family): Family => {
    if (!access.allowed) throw 'access-denied';
    if (f !== 'ipv4' && f !== 'ipv6') throw 'not-supported';
    return f;
  };
  return {
    'wasi:sockets/network': { Network },
    'wasi:sockets/instance-network': { instanceNetwork: () => new Network(access) },
    'wasi:sockets/tcp': { TcpSocket },
    'wasi:sockets/tcp-create-socket': { createTcpSocket: (f: Family) => new TcpSocket(family(f), access) },
    'wasi:sockets/udp': { UdpSocket, IncomingDatagramStream, OutgoingDatagramStream },
    'wasi:sockets/udp-create-socket': { createUdpSocket: (f: Family) => new UdpSocket(family(f), access) },
  };
}

