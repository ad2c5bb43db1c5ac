// The net thread (src/wasm/net-thread.ts, net-server.ts) driven through the io broker as the
// component's sockets drive it: this thread blocks in Atomics.wait while the worker answers.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERRNO } from '../../src/wasi/constants.js';
import { WasiError } from '../../src/wasi/errors.js';
import { startNetThread, type NetThread } from '../../src/wasm/net-thread.js';

let thread: NetThread | undefined;
const net = async (): Promise<NetThread> => (thread ??= await startNetThread());
after(async () => { await thread?.stop(); });

test('a request node refuses synchronously (a bad port) is an error reply, not a guest blocked for good', async () => {
  const { broker } = await net();
  assert.throws(() => broker.call({ op: 'tcp-connect', remote: { host: '127.0.0.1', port: -5 }, ipv6: false }), WasiError);
  // The channel still answers afterwards.
  assert.deepEqual(broker.call({ op: 'wait', subs: [], timeoutMs: 0 }), { ok: true, ready: [] });
});

test('UDP to itself: bind, send, wait on the datagram pollable, receive with the sender', async () => {
  const { broker } = await net();
  const a = broker.call<{ handle: number; local: { host: string; port: number } }>({ op: 'udp-bind', local: { host: '127.0.0.1', port: 0 }, ipv6: false });
  assert.equal(a.local.host, '127.0.0.1');
  assert.ok(a.local.port > 0);
  assert.deepEqual(broker.call({ op: 'udp-receive', h: a.handle, max: 4 }), { ok: true, datagrams: [] });
  const sent = broker.call<{ count: number }>({ op: 'udp-send', h: a.handle, datagrams: [{ data: new Uint8Array([1, 2, 3]), to: a.local }] });
  assert.equal(sent.count, 1);
  // Waits (no time limit) until the datagram is there.
  assert.deepEqual(broker.call({ op: 'wait', subs: [{ h: a.handle, kind: 'datagram' }], timeoutMs: -1 }), { ok: true, ready: [0] });
  const got = broker.call<{ datagrams: { data: Uint8Array; from: { host: string; port: number } }[] }>({ op: 'udp-receive', h: a.handle, max: 4 });
  assert.deepEqual(got.datagrams.map((d) => [[...d.data], d.from]), [[[1, 2, 3], a.local]]);
  broker.call({ op: 'close', h: a.handle });
  assert.throws(() => broker.call({ op: 'udp-receive', h: a.handle, max: 1 }), (e) => e instanceof WasiError && e.errno === ERRNO.BADF);
});

test('TCP: listen, connect to it, accept, data both ways (calls and posted writes), the peer\'s end seen as end of stream', async () => {
  const { broker } = await net();
  const l = broker.call<{ handle: number; local: { port: number } }>({ op: 'tcp-listen', local: { host: '127.0.0.1', port: 0 }, ipv6: false, backlog: 8 });
  const c = broker.call<{ handle: number }>({ op: 'tcp-connect', remote: { host: '127.0.0.1', port: l.local.port }, ipv6: false });
  assert.deepEqual(broker.call({ op: 'wait', subs: [{ h: c.handle, kind: 'connect' }, { h: l.handle, kind: 'accept' }], timeoutMs: -1 }).ok, true);
  broker.call({ op: 'wait', subs: [{ h: l.handle, kind: 'accept' }], timeoutMs: -1 });
  const s = broker.call<{ handle: number; remote: { port: number } }>({ op: 'tcp-accept', h: l.handle });
  const connected = broker.call<{ done: boolean; local: { port: number } }>({ op: 'tcp-connected', h: c.handle });
  assert.equal(connected.done, true);
  assert.equal(s.remote.port, connected.local.port);
  broker.call({ op: 'send', h: c.handle, data: new Uint8Array([104, 105]), block: true });
  const r = broker.call<{ data: Uint8Array }>({ op: 'recv', h: s.handle, len: 2, peek: false, waitall: true, block: true });
  assert.equal(Buffer.from(r.data).toString(), 'hi');
  // A write call answers the credit: what may be posted without an answer; posted writes arrive in order after it.
  const { credit } = broker.call<{ credit: number }>({ op: 'tcp-send', h: c.handle, data: new Uint8Array([97]), block: true });
  assert.ok(credit > 0, String(credit));
  broker.post({ op: 'tcp-write', h: c.handle, data: new Uint8Array([98]) });
  broker.post({ op: 'tcp-write', h: c.handle, data: new Uint8Array([99]) });
  assert.equal(Buffer.from(broker.call<{ data: Uint8Array }>({ op: 'recv', h: s.handle, len: 3, peek: false, waitall: true, block: true }).data).toString(), 'abc');
  broker.call({ op: 'shutdown', h: c.handle, how: 2 });
  const eof = broker.call<{ data: Uint8Array }>({ op: 'recv', h: s.handle, len: 10, peek: false, waitall: false, block: true });
  assert.equal(eof.data.length, 0);
  // Half-open: the accepted side can still answer after the peer's end.
  broker.call({ op: 'send', h: s.handle, data: new Uint8Array([111, 107]), block: true });
  assert.equal(Buffer.from(broker.call<{ data: Uint8Array }>({ op: 'recv', h: c.handle, len: 2, peek: false, waitall: true, block: true }).data).toString(), 'ok');
  for (const h of [s.handle, c.handle, l.handle]) broker.call({ op: 'close', h });
});

test('a wait with a time limit and nothing ready answers an empty list', async () => {
  const { broker } = await net();
  const l = broker.call<{ handle: number }>({ op: 'tcp-listen', local: { host: '127.0.0.1', port: 0 }, ipv6: false, backlog: 1 });
  assert.deepEqual(broker.call({ op: 'wait', subs: [{ h: l.handle, kind: 'accept' }], timeoutMs: 1 }), { ok: true, ready: [] });
  broker.call({ op: 'close', h: l.handle });
});
