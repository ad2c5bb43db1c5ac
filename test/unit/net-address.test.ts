// wasi:sockets values as node's (src/wasi/p2/net-address.ts) and the policy of the network
// resource without a net thread (src/wasi/p2/sockets.ts, name-lookup.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERRNO } from '../../src/wasi/constants.js';
import { WasiError } from '../../src/wasi/errors.js';
import { checkLocal, checkRemote, ipv6Text, lookupErrorCode, parseIp, socketErrorCode, toHostPort, toSocketAddress, type SocketAddress } from '../../src/wasi/p2/net-address.js';
import { resolveAddresses } from '../../src/wasi/p2/name-lookup.js';
import { NetAccess, Network, socketImports } from '../../src/wasi/p2/sockets.js';

const v4 = (a: [number, number, number, number], port: number): SocketAddress => ({ tag: 'ipv4', val: { port, address: a } });
const v6 = (a: number[], port: number): SocketAddress => ({ tag: 'ipv6', val: { port, flowInfo: 0, address: a as never, scopeId: 0 } });

test('IPv6 text is canonical: the longest zero run is ::, IPv4-mapped keeps its dotted tail', () => {
  assert.equal(ipv6Text([0, 0, 0, 0, 0, 0, 0, 1]), '::1');
  assert.equal(ipv6Text([0, 0, 0, 0, 0, 0, 0, 0]), '::');
  assert.equal(ipv6Text([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1');
  assert.equal(ipv6Text([0x2001, 0xdb8, 1, 2, 3, 4, 5, 6]), '2001:db8:1:2:3:4:5:6');
  assert.equal(ipv6Text([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]), '::ffff:127.0.0.1');
});

test('addresses round-trip between node text and the WIT variants', () => {
  assert.deepEqual(toHostPort(v4([127, 0, 0, 1], 80)), { host: '127.0.0.1', port: 80, family: 'ipv4' });
  assert.deepEqual(toHostPort(v6([0xfe80, 0, 0, 0, 0, 0, 0, 2], 443)), { host: 'fe80::2', port: 443, family: 'ipv6' });
  assert.deepEqual(parseIp('10.0.0.7'), { tag: 'ipv4', val: [10, 0, 0, 7] });
  assert.deepEqual(parseIp('::1'), { tag: 'ipv6', val: [0, 0, 0, 0, 0, 0, 0, 1] });
  assert.deepEqual(parseIp('fe80::1%eth0'), { tag: 'ipv6', val: [0xfe80, 0, 0, 0, 0, 0, 0, 1] });
  assert.deepEqual(parseIp('::ffff:1.2.3.4'), { tag: 'ipv6', val: [0, 0, 0, 0, 0, 0xffff, 0x102, 0x304] });
  assert.equal(parseIp('localhost'), undefined);
  for (const text of ['1:2:3:4:5:6:7:8', '2001:db8::ff', '::', '1::']) assert.equal(ipv6Text((parseIp(text) as { val: number[] }).val), text);
  // An IPv4 peer seen by an IPv6 socket is IPv4-mapped; and back.
  assert.deepEqual(toSocketAddress('1.2.3.4', 9, 'ipv6'), v6([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304], 9));
  assert.deepEqual(toSocketAddress('::ffff:1.2.3.4', 9, 'ipv4'), v4([1, 2, 3, 4], 9));
});

test('remote and local addresses are checked as the WIT says', () => {
  const code = (f: () => void): unknown => { try { f(); return 'ok'; } catch (e) { return e; } };
  assert.equal(code(() => checkRemote(v4([127, 0, 0, 1], 80), 'ipv4')), 'ok');
  assert.equal(code(() => checkRemote(v4([127, 0, 0, 1], 80), 'ipv6')), 'invalid-argument');
  assert.equal(code(() => checkRemote(v4([0, 0, 0, 0], 80), 'ipv4')), 'invalid-argument');
  assert.equal(code(() => checkRemote(v4([127, 0, 0, 1], 0), 'ipv4')), 'invalid-argument');
  assert.equal(code(() => checkRemote(v6([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1], 80), 'ipv6')), 'invalid-argument');
  assert.equal(code(() => checkLocal(v4([0, 0, 0, 0], 0), 'ipv4')), 'ok');
  assert.equal(code(() => checkLocal(v6([0, 0, 0, 0, 0, 0, 0, 0], 0), 'ipv4')), 'invalid-argument');
});

test('host errors become wasi:sockets error codes; what is not an error code is rethrown', () => {
  const err = (code: string): Error => Object.assign(new Error(code), { code });
  assert.equal(socketErrorCode(err('ECONNREFUSED')), 'connection-refused');
  assert.equal(socketErrorCode(err('EADDRINUSE')), 'address-in-use');
  assert.equal(socketErrorCode(err('EADDRNOTAVAIL')), 'address-not-bindable');
  assert.equal(socketErrorCode(err('ECONNRESET')), 'connection-reset');
  assert.equal(socketErrorCode(err('EHOSTUNREACH')), 'remote-unreachable');
  assert.equal(socketErrorCode(err('EACCES')), 'access-denied');
  assert.equal(socketErrorCode(new WasiError(ERRNO.AGAIN)), 'would-block');
  assert.equal(socketErrorCode(new WasiError(ERRNO.NOTCONN)), 'invalid-state');
  assert.equal(socketErrorCode(new WasiError(ERRNO.MSGSIZE)), 'datagram-too-large');
  assert.equal(socketErrorCode('timeout'), 'timeout');
  assert.throws(() => socketErrorCode(new TypeError('a bug')), TypeError);
  assert.equal(lookupErrorCode('ENOTFOUND'), 'name-unresolvable');
  assert.equal(lookupErrorCode('EAI_AGAIN'), 'temporary-resolver-failure');
  assert.equal(lookupErrorCode('ESERVFAIL'), 'permanent-resolver-failure');
});

test('without a net thread: sockets are access-denied at creation, lookups permanent-resolver-failure, bad names invalid-argument', () => {
  const denied = new NetAccess(undefined);
  const imports = socketImports(denied);
  const create = imports['wasi:sockets/tcp-create-socket']!.createTcpSocket as (f: string) => unknown;
  const createUdp = imports['wasi:sockets/udp-create-socket']!.createUdpSocket as (f: string) => unknown;
  assert.throws(() => create('ipv4'), (e) => e === 'access-denied');
  assert.throws(() => createUdp('ipv6'), (e) => e === 'access-denied');
  const network = new Network(denied);
  assert.throws(() => resolveAddresses(network, 'localhost'), (e) => e === 'permanent-resolver-failure');
  assert.throws(() => resolveAddresses(network, '127.0.0.1'), (e) => e === 'permanent-resolver-failure');
  assert.throws(() => resolveAddresses(network, 'bad name'), (e) => e === 'invalid-argument');
});
