// The requests wasi:sockets (sockets.ts, name-lookup.ts) sends to the net thread, which owns the
// sockets on its event loop (src/wasm/net-server.ts), over the io broker (../io-broker.ts): the
// guest's thread blocks in Atomics.wait until the answer. Replies carry node's address text.

export interface Endpoint { host: string; port: number }

/** What a pollable waits for on the net thread. */
export type NetWaitKind = 'read' | 'write' | 'accept' | 'connect' | 'datagram' | 'lookup';
export interface NetSub { h: number; kind: NetWaitKind }

export interface OutgoingDatagram { data: Uint8Array; to?: Endpoint }
export interface IncomingDatagram { data: Uint8Array; from: Endpoint }

export type NetRequest =
  | { op: 'tcp-listen'; local: Endpoint; ipv6: boolean; backlog: number }
  | { op: 'tcp-connect'; remote: Endpoint; local?: Endpoint; ipv6: boolean; keepAlive?: { enable: boolean; idleMs: number } }
  /** Whether a connect finished: `{ done: false }`, or done with both ends, or the errno it failed with. */
  | { op: 'tcp-connected'; h: number }
  | { op: 'tcp-accept'; h: number }
  | { op: 'tcp-writable'; h: number }
  /** Writes and answers how many more bytes may be posted without asking (`credit`); a blocking one first waits until node's buffer drains. */
  | { op: 'tcp-send'; h: number; data: Uint8Array; block: boolean }
  /** Writes without an answer (posted, not called): within the credit the last answer gave. */
  | { op: 'tcp-write'; h: number; data: Uint8Array }
  | { op: 'tcp-keepalive'; h: number; enable: boolean; idleMs: number }
  | { op: 'udp-bind'; local: Endpoint; ipv6: boolean }
  /** Connects a UDP socket to `remote`, or disconnects it when absent. */
  | { op: 'udp-connect'; h: number; remote?: Endpoint }
  | { op: 'udp-receive'; h: number; max: number }
  | { op: 'udp-send'; h: number; datagrams: OutgoingDatagram[] }
  | { op: 'udp-option'; h: number; ttl?: number; receiveBuffer?: number; sendBuffer?: number }
  | { op: 'lookup'; name: string }
  | { op: 'lookup-result'; h: number }
  /** Indices of `subs` that are ready, waiting up to timeoutMs (-1: until one is). */
  | { op: 'wait'; subs: NetSub[]; timeoutMs: number };
