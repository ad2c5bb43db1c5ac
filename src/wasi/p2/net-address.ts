// wasi:sockets values as node's: socket addresses (the WIT variants) to and from `host` strings
// and ports, and host errors to wasi:sockets `error-code` names. Pure functions (unit-tested).
import { ERRNO } from '../constants.js';
import { toErrno } from '../errors.js';

export type Family = 'ipv4' | 'ipv6';
export type Ipv4 = [number, number, number, number];
export type Ipv6 = [number, number, number, number, number, number, number, number];
export type IpAddress = { tag: 'ipv4'; val: Ipv4 } | { tag: 'ipv6'; val: Ipv6 };
export type SocketAddress =
  | { tag: 'ipv4'; val: { port: number; address: Ipv4 } }
  | { tag: 'ipv6'; val: { port: number; flowInfo: number; address: Ipv6; scopeId: number } };

/** An address as node takes it: `host` text (IPv6 without brackets), port, family. */
export interface HostPort { host: string; port: number; family: Family }

const ipv4Text = (a: readonly number[]): string => a.join('.');

/** The canonical text of 8 groups (RFC 5952: the longest run of 2+ zero groups becomes `::`); IPv4-mapped as ::ffff:a.b.c.d. */
export function ipv6Text(g: readonly number[]): string {
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (xs: readonly number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export function ipAddressText(a: IpAddress): string {
  return a.tag === 'ipv4' ? ipv4Text(a.val) : ipv6Text(a.val);
}

export function toHostPort(a: SocketAddress): HostPort {
  return a.tag === 'ipv4' ? { host: ipv4Text(a.val.address), port: a.val.port, family: 'ipv4' } : { host: ipv6Text(a.val.address), port: a.val.port, family: 'ipv6' };
}

/** Text of an IPv4 or IPv6 address (as node reports them; a `%zone` suffix is dropped) as the WIT variant; undefined if it is neither. */
export function parseIp(text: string): IpAddress | undefined {
  const host = text.replace(/%.*$/, '');
  // node:net on first use: loading it costs every component's start ~14 ms, and most never parse an address.
  const { isIPv4, isIPv6 } = process.getBuiltinModule('node:net');
  if (isIPv4(host)) return { tag: 'ipv4', val: host.split('.').map(Number) as Ipv4 };
  if (!isIPv6(host)) return undefined;
  let s = host;
  // A dotted IPv4 tail (::ffff:1.2.3.4) as two groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (tail) s = `${s.slice(0, tail.index)}${((+tail[1]! << 8) | +tail[2]!).toString(16)}:${((+tail[3]! << 8) | +tail[4]!).toString(16)}`;
  const [head, rest] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const part = (p: string): number[] => (p === '' ? [] : p.split(':').map((x) => parseInt(x, 16)));
  const h = part(head);
  const r = rest === undefined ? [] : part(rest);
  const groups = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  return { tag: 'ipv6', val: groups as Ipv6 };
}

/** A node address (host text, port) as the WIT socket address of `family` (an IPv4 peer of an IPv6 socket is IPv4-mapped). */
export function toSocketAddress(host: string, port: number, family: Family): SocketAddress {
  const ip = parseIp(host) ?? { tag: 'ipv4', val: [0, 0, 0, 0] };
  if (family === 'ipv6') {
    const g: Ipv6 = ip.tag === 'ipv6' ? ip.val : [0, 0, 0, 0, 0, 0xffff, (ip.val[0] << 8) | ip.val[1], (ip.val[2] << 8) | ip.val[3]];
    return { tag: 'ipv6', val: { port, flowInfo: 0, address: g, scopeId: 0 } };
  }
  if (ip.tag === 'ipv4') return { tag: 'ipv4', val: { port, address: ip.val } };
  const v = ip.val;
  return { tag: 'ipv4', val: { port, address: [v[6] >> 8, v[6] & 0xff, v[7] >> 8, v[7] & 0xff] } };
}

export const isUnspecified = (a: SocketAddress): boolean => a.val.address.every((x) => x === 0);
const isIpv4Mapped = (a: SocketAddress): boolean => a.tag === 'ipv6' && a.val.address.slice(0, 5).every((x) => x === 0) && a.val.address[5] === 0xffff;

/**
 * Checks a remote address for connect/send as the WIT says: its family matches the socket's
 * (invalid-argument), and neither the unspecified address nor port 0 (invalid-argument).
 * IPv4-mapped IPv6 addresses are refused too (not-supported), as wasmtime does.
 */
export function checkRemote(a: SocketAddress, family: Family): void {
  if (a.tag !== family) throw 'invalid-argument';
  if (isUnspecified(a) || a.val.port === 0) throw 'invalid-argument';
  if (isIpv4Mapped(a)) throw 'invalid-argument';
}

/** Checks a local address for bind: the family matches the socket's. */
export function checkLocal(a: SocketAddress, family: Family): void {
  if (a.tag !== family) throw 'invalid-argument';
  if (isIpv4Mapped(a)) throw 'invalid-argument';
}

const CODE_OF_ERRNO = new Map<number, string>([
  [ERRNO.ACCES, 'access-denied'], [ERRNO.PERM, 'access-denied'], [ERRNO.NOTCAPABLE, 'access-denied'],
  [ERRNO.NOTSUP, 'not-supported'], [ERRNO.AFNOSUPPORT, 'not-supported'], [ERRNO.PROTONOSUPPORT, 'not-supported'], [ERRNO.NOSYS, 'not-supported'],
  [ERRNO.INVAL, 'invalid-argument'], [ERRNO.NOMEM, 'out-of-memory'], [ERRNO.NOBUFS, 'out-of-memory'], [ERRNO.TIMEDOUT, 'timeout'],
  [ERRNO.ALREADY, 'concurrency-conflict'], [ERRNO.AGAIN, 'would-block'], [ERRNO.INPROGRESS, 'would-block'],
  [ERRNO.ISCONN, 'invalid-state'], [ERRNO.NOTCONN, 'invalid-state'], [ERRNO.DESTADDRREQ, 'invalid-state'],
  [ERRNO.MFILE, 'new-socket-limit'], [ERRNO.NFILE, 'new-socket-limit'],
  [ERRNO.ADDRNOTAVAIL, 'address-not-bindable'], [ERRNO.ADDRINUSE, 'address-in-use'],
  [ERRNO.HOSTUNREACH, 'remote-unreachable'], [ERRNO.NETUNREACH, 'remote-unreachable'],
  [ERRNO.CONNREFUSED, 'connection-refused'], [ERRNO.CONNRESET, 'connection-reset'], [ERRNO.PIPE, 'connection-reset'],
  [ERRNO.CONNABORTED, 'connection-aborted'], [ERRNO.MSGSIZE, 'datagram-too-large'],
]);

/** The wasi:sockets error-code for what host code threw (a WasiError, or a node error with a `code`); rethrows the rest (bugs). */
export function socketErrorCode(e: unknown): string {
  if (typeof e === 'string') return e;
  return CODE_OF_ERRNO.get(toErrno(e)) ?? 'unknown';
}

/** Runs `op`, turning what it throws into the thrown error-code the glue expects for `result<_, error-code>`. */
export function netResult<T>(op: () => T): T {
  try {
    return op();
  } catch (e) {
    throw socketErrorCode(e);
  }
}

/** The wasi:sockets error-code of a failed name lookup (node's dns error codes). */
export function lookupErrorCode(code: string | undefined): string {
  switch (code) {
    case 'ENOTFOUND': case 'ENODATA': case 'EAI_NONAME': case 'EAI_NODATA': return 'name-unresolvable';
    case 'EAI_AGAIN': case 'ETIMEOUT': case 'ECONNREFUSED': return 'temporary-resolver-failure';
    default: return 'permanent-resolver-failure';
  }
}
