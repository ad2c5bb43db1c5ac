// wasi:sockets for command components (issue 16 §3): TCP, UDP and name lookup on real sockets,
// granted on the host by --allow-net, denied without it (wasmtime's answer, checked against
// wasmtime-py), allowed in a container, and a guest blocked on a socket still stops on SIGTERM, as
// PID 1 too. The guest is comp_sockets.c (raw canonical ABI), built at test setup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { createServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { guestsDir, hyrunBin, repoRoot, tempDir } from '../helpers.js';

const guest = join(guestsDir, 'comp_sockets.component.wasm');
const cache = tempDir('hyrun-sockets-');
const env = { ...process.env, HYRUN_CACHE_DIR: cache.path };
const wasmtimePy = spawnSync('python3', ['-c', 'import wasmtime.component'], { stdio: 'ignore' }).status === 0;

interface Ended { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `cmd` without blocking this process (its servers answer the guest meanwhile); `onOut` sees stdout as it comes. */
function runAsync(cmd: string, args: string[], onOut?: (stdout: string, pid: number) => void, extraEnv: NodeJS.ProcessEnv = {}): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${args.join(' ')} did not end: ${stdout} ${stderr}`)); }, 60_000);
    child.stdout.on('data', (d) => { stdout += d; onOut?.(stdout, child.pid!); });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (status, signal) => { clearTimeout(timer); resolve({ status, signal, stdout, stderr }); });
  });
}
const hyrunRun = (args: string[], onOut?: (stdout: string, pid: number) => void): Promise<Ended> => runAsync(hyrunBin, ['run', ...args], onOut);

/** A TCP server on 127.0.0.1 that answers "pong:" + everything a client sent, once the client shut down its side. */
async function pongServer(): Promise<{ port: number; close: () => void }> {
  const server = createServer({ allowHalfOpen: true }, (c) => {
    let got = '';
    c.on('data', (d) => { got += d; });
    c.on('end', () => c.end(`pong:${got}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

test('TCP client with --allow-net: connect, send, shut down the sending side, read the answer to the end', async () => {
  const server = await pongServer();
  try {
    const r = await hyrunRun(['--allow-net', guest, 'tcp-client', '127.0.0.1', String(server.port), 'hello']);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `connected to 127.0.0.1:${server.port}\nreceived: pong:hello\n`);
  } finally {
    server.close();
  }
});

test('TCP client over IPv6: an ipv6 socket connects to [::1], remote and local addresses are IPv6', async (t) => {
  const server = createServer({ allowHalfOpen: true }, (c) => {
    let got = '';
    c.on('data', (d) => { got += d; });
    c.on('end', () => c.end(`pong:${got}`));
  });
  const listening = await new Promise<boolean>((r) => { server.once('error', () => r(false)); server.listen(0, '::1', () => r(true)); });
  if (!listening) return t.skip('no IPv6 loopback here');
  try {
    const port = (server.address() as AddressInfo).port;
    const r = await hyrunRun(['--allow-net', guest, 'tcp6-client', String(port), 'hello6']);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, new RegExp(`^connected to \\[0:0:0:0:0:0:0:1\\]:${port}\nfrom \\[0:0:0:0:0:0:0:1\\]:\\d+\nreceived: pong:hello6\n$`));
    assert.equal(r.status, 0);
  } finally {
    server.close();
  }
});

test('TCP client: a refused connection is connection-refused from finish-connect', async () => {
  // A port that was just free: listen, note it, close.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const r = await hyrunRun(['--allow-net', guest, 'tcp-client', '127.0.0.1', String(port), 'x']);
  assert.equal(r.stderr, 'finish-connect: connection-refused\n');
  assert.equal(r.status, 10 + 14);
});

test('TCP server with --allow-net: bind to port 0, listen, accept the test\'s connection, answer it', async () => {
  let reply: Promise<string> | undefined;
  const r = await hyrunRun(['--allow-net', guest, 'tcp-server', '127.0.0.1', '0'], (out) => {
    const m = /^listening (\d+)$/m.exec(out);
    if (m === null || reply !== undefined) return;
    reply = new Promise((resolve, reject) => {
      const c = connect(Number(m[1]), '127.0.0.1', () => c.end('hi there'));
      let got = '';
      c.on('data', (d) => { got += d; });
      c.on('end', () => resolve(got));
      c.on('error', reject);
    });
  });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.ok(reply !== undefined, r.stdout);
  assert.equal(await reply, 'echo:hi there');
  const port = /^listening (\d+)$/m.exec(r.stdout)![1];
  assert.notEqual(port, '0');
  assert.match(r.stdout, /^accepted from 127\.0\.0\.1:\d+\nrequest: hi there\n$/m);
});

test('TCP server: a port in use is address-in-use', async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  try {
    const r = await hyrunRun(['--allow-net', guest, 'tcp-server', '127.0.0.1', String((taken.address() as AddressInfo).port)]);
    assert.equal(r.stderr, 'start-listen: address-in-use\n');
    assert.equal(r.status, 10 + 12);
  } finally {
    taken.close();
  }
});

test('UDP with --allow-net: bind, send a datagram to an address, receive the reply with its sender', async () => {
  const peer = createSocket('udp4');
  peer.on('message', (m, from) => peer.send(`re:${m}`, from.port, from.address));
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
  try {
    const port = peer.address().port;
    const r = await hyrunRun(['--allow-net', guest, 'udp', '127.0.0.1', String(port), 'ping']);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `sent 1 datagram\nreply from 127.0.0.1:${port}: re:ping\n`);
  } finally {
    peer.close();
  }
});

test('UDP through a connected stream: datagrams without an address go to the peer, its reply comes back', async () => {
  const peer = createSocket('udp4');
  peer.on('message', (m, from) => peer.send(`re:${m}`, from.port, from.address));
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
  try {
    const port = peer.address().port;
    const r = await hyrunRun(['--allow-net', guest, 'udp-connected', '127.0.0.1', String(port), 'hi']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, `sent 1 datagram\nreply from 127.0.0.1:${port}: re:hi\n`);
    assert.equal(r.status, 0);
  } finally {
    peer.close();
  }
});

test('poll mixes socket and clock pollables: the clock wins while the peer is silent, the socket once it speaks', async () => {
  // The peer writes only after the guest's "ready": before that the input stream cannot be ready.
  const server = createServer({ allowHalfOpen: true }, (c) => {
    c.on('data', (d) => { if (String(d).includes('ready')) c.write('data!'); });
    c.on('end', () => c.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await hyrunRun(['--allow-net', guest, 'tcp-poll', '127.0.0.1', String((server.address() as AddressInfo).port)]);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'read before data: ok 0 bytes\nfirst ready: clock\ncheck-write > 0: yes\nfirst ready: socket\nread: data!\n');
    assert.equal(r.status, 0);
  } finally {
    server.close();
  }
});

test('name lookup with --allow-net: localhost gives what getaddrinfo gives; an IP is itself; a bad name is invalid-argument', async () => {
  const expected = (await lookup('localhost', { all: true, order: 'verbatim' })).map((a) => a.address);
  const r = await hyrunRun(['--allow-net', guest, 'lookup', 'localhost']);
  assert.equal(r.status, 0, r.stderr);
  const got = [...r.stdout.matchAll(/^address (.*)$/gm)].map((m) => m[1]!.replace(/^0:0:0:0:0:0:0:1$/, '::1'));
  assert.deepEqual(got, expected);
  const ip = await hyrunRun(['--allow-net', guest, 'lookup', '10.1.2.3']);
  assert.equal(ip.stdout, 'address 10.1.2.3\n1 addresses\n');
  const bad = await hyrunRun(['--allow-net', guest, 'lookup', 'not a name']);
  assert.equal(bad.stderr, 'resolve-addresses: invalid-argument\n');
  assert.equal(bad.status, 10 + 3);
});

test('TCP options: keep-alive is set and read back; what node cannot set is not-supported; the state machine is checked', async () => {
  const r = await hyrunRun(['--allow-net', guest, 'options']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, [
    'keep-alive 0', 'keep-alive 1', 'keep-alive-idle-time 30 s', 'set-keep-alive-idle-time 0: invalid-argument',
    'set-hop-limit: not-supported', 'receive-buffer-size: not-supported',
    'finish-bind before start-bind: not-in-progress', 'start-listen unbound: invalid-state', '',
  ].join('\n'));
});

/** Each mode without network access: what it answers, and the status the guest reports (10 + the code's index). */
const DENIED: [string[], string, number][] = [
  [['tcp-client', '127.0.0.1', '9', 'x'], 'create-tcp-socket: access-denied\n', 11],
  [['tcp-server', '127.0.0.1', '0'], 'create-tcp-socket: access-denied\n', 11],
  [['udp', '127.0.0.1', '9', 'x'], 'create-udp-socket: access-denied\n', 11],
  [['lookup', 'localhost'], 'resolve-addresses: permanent-resolver-failure\n', 30],
  [['options'], 'create-tcp-socket: access-denied\n', 11],
];

test('without --allow-net every socket is access-denied and every lookup permanent-resolver-failure (not a trap)', async () => {
  for (const [args, stderr, status] of DENIED) {
    const r = await hyrunRun([guest, ...args]);
    assert.deepEqual({ stderr: r.stderr, status: r.status, stdout: r.stdout }, { stderr, status, stdout: '' }, args.join(' '));
  }
});

test('wasmtime without network permission answers the same codes', { skip: !wasmtimePy && 'python3 -c "import wasmtime" fails' }, async () => {
  for (const [args, stderr, status] of DENIED) {
    const r = await runAsync('python3', [join(repoRoot, 'test/e2e/fixtures/wasmtime-component.py'), guest, ...args]);
    assert.deepEqual({ stderr: r.stderr, status: r.status }, { stderr, status }, args.join(' '));
  }
});

test('--tcplisten is for preview1 modules: a component gets one line and 125', async () => {
  const r = await hyrunRun(['--tcplisten', '127.0.0.1:0', guest, 'options']);
  assert.equal(r.status, 125);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^hyrun: --tcplisten is for WASI preview1 modules: .*comp_sockets\.component\.wasm is a component, which listens itself with wasi:sockets \(on the host give --allow-net\)\n$/);
});

/** The executor as a container starts it (dist/executor.cjs, the spec in its environment), with or without `inContainer`. */
function inExecutor(args: string[], inContainer: boolean): Promise<Ended> {
  const spec = { module: guest, args: ['comp_sockets', ...args], env: [], preopens: [], componentCache: join(cache.path, 'components'), ...(inContainer ? { inContainer: true } : {}) };
  return runAsync(process.execPath, [join(repoRoot, 'dist/executor.cjs')], undefined, { HYRUN_EXECUTOR_SPEC: Buffer.from(JSON.stringify(spec)).toString('base64') });
}

test('in a container (the executor with inContainer, as the OCI handler and the embedded executor set it) sockets need no flag', async () => {
  const server = await pongServer();
  try {
    const inside = await inExecutor(['tcp-client', '127.0.0.1', String(server.port), 'from a container'], true);
    assert.equal(inside.stderr, '');
    assert.equal(inside.stdout, `connected to 127.0.0.1:${server.port}\nreceived: pong:from a container\n`);
    assert.equal(inside.status, 0);
    // The same executor and spec without the field: denied.
    const outside = await inExecutor(['tcp-client', '127.0.0.1', String(server.port), 'x'], false);
    assert.equal(outside.stderr, 'create-tcp-socket: access-denied\n');
    assert.equal(outside.status, 11);
  } finally {
    server.close();
  }
});

test('SIGTERM ends a guest blocked in accept: by the signal on the host, 143 as PID 1 of a PID namespace', async (t) => {
  const onHost = await hyrunRun(['--allow-net', guest, 'tcp-server', '127.0.0.1', '0'], (out, pid) => {
    if (out.includes('listening')) process.kill(pid, 'SIGTERM');
  });
  assert.deepEqual({ status: onHost.status, signal: onHost.signal }, { status: null, signal: 'SIGTERM' });
  if (spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status !== 0) return t.skip('cannot create PID namespaces here');
  const childOf = (pid: number): number => Number(spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim().split('\n')[0]);
  let signalled = false;
  const asPid1 = await runAsync('unshare', ['--pid', '--fork', '--mount-proc', hyrunBin, 'run', '--allow-net', guest, 'tcp-server', '127.0.0.1', '0'], (out, pid) => {
    if (signalled || !out.includes('listening')) return;
    signalled = true;
    // unshare --fork: its child (node running hyrun) is PID 1 inside; prove it, then signal it.
    const c = childOf(pid);
    assert.match(spawnSync('grep', ['NSpid', `/proc/${c}/status`], { encoding: 'utf8' }).stdout, /NSpid:\s+\d+\s+1\n/);
    process.kill(c, 'SIGTERM');
  });
  assert.equal(asPid1.status, 143, asPid1.stderr);
});

test.after(() => cache.cleanup());
