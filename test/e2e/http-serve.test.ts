// `hyrun serve` and `hyrun run` of HTTP components (issue 16 §2, §6), on real sockets: the C
// handler written against the raw canonical ABI (test/guests/http/http_handler.c) and the JS
// handler made by componentize-js (js_handler.js), both built at test setup. Every wait is on a
// condition (a line, a chunk, a refused connection), never a sleep.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, request, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { guestsDir, hyrunBin, tempDir } from '../helpers.js';

const cHandler = join(guestsDir, 'http_handler.component.wasm');
const jsHandler = join(guestsDir, 'js_handler.component.wasm');
const cache = tempDir('hyrun-http-');

interface Served {
  port: number;
  child: ChildProcess;
  /** Everything the process wrote on stderr so far. */
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts hyrun (`serve` or `run`) on 127.0.0.1 at a free port; resolves once it says where it serves. */
function serve(args: string[], extraEnv: NodeJS.ProcessEnv = {}, prefix: string[] = []): Promise<Served> {
  const argv = [...prefix, hyrunBin, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, HYRUN_CACHE_DIR: cache.path, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving HTTP on http:\/\/127\.0\.0\.1:(\d+)\//.exec(err);
      if (m) resolve({ port: Number(m[1]), child, stderr: () => err, exited });
    });
    void exited.then((e) => reject(new Error(`hyrun exited (${e.code ?? e.signal}) before serving: ${err}`)));
  });
}

const serveC = (flags: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Served> => serve(['serve', '--addr', '127.0.0.1:0', ...flags, cHandler], env);

async function stop(s: Served): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  s.child.kill('SIGTERM');
  return s.exited;
}

interface Reply { status: number; headers: IncomingMessage['headers']; body: string; trailers: NodeJS.Dict<string> }

/** One request; `body` written whole. */
function call(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * An /echo request whose body is sent in two parts: the second only once the first came back.
 * Resolves `started` when the first part is echoed (the guest is inside its handler), and `done`
 * with the whole reply once `finish()` was called.
 */
function streamingEcho(port: number, first: string, second: string, trailers?: Record<string, string>) {
  let finish!: () => void;
  let started!: () => void;
  const startedP = new Promise<void>((r) => { started = r; });
  const done = new Promise<Reply>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/echo', method: 'POST', agent: false,
      headers: trailers ? { trailer: Object.keys(trailers).join(', ') } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (body.length >= first.length) started();
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, trailers: res.trailers }));
    });
    req.on('error', reject);
    req.write(first);
    finish = () => {
      if (trailers) req.addTrailers(trailers);
      req.end(second);
    };
  });
  return { started: startedP, done, finish: () => finish() };
}

/** Resolves once a new connection to `port` is refused (the server stopped accepting). */
async function refused(port: number): Promise<void> {
  for (;;) {
    const outcome = await new Promise<'refused' | 'accepted'>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => { sock.destroy(); resolve('accepted'); });
      sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : 'accepted'));
    });
    if (outcome === 'refused') return;
    await new Promise((r) => setImmediate(r));
  }
}

test('hyrun serve answers with the C handler: status, headers, body', async () => {
  const s = await serveC();
  try {
    const r = await call(s.port, '/hello');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello from C\n');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal((await call(s.port, '/nope')).status, 404);
    const teapot = await call(s.port, '/status/418');
    assert.deepEqual([teapot.status, teapot.body], [418, 'status\n']);
    // 99 is no status code: set-status-code refuses it, and the guest answers 500 saying so.
    const bad = await call(s.port, '/status/99');
    assert.deepEqual([bad.status, bad.body], [500, 'status refused\n']);
  } finally {
    assert.equal((await stop(s)).code, 0);
  }
});

/** The transpiled form's directories (`components/<transpiler>/<digest>`) under a cache. */
const componentDirs = (root: string): string[] => {
  const top = join(root, 'components');
  return existsSync(top) ? readdirSync(top).flatMap((tag) => readdirSync(join(top, tag)).filter((d) => !d.startsWith('.')).map((d) => join(top, tag, d))) : [];
};

test("the serving thread's glue code cache is written after its first response, and a second start serves with it", async () => {
  const own = tempDir('hyrun-http-cache-');
  try {
    const first = await serveC([], { HYRUN_CACHE_DIR: own.path });
    const [dir] = componentDirs(own.path);
    assert.ok(dir !== undefined, 'the component was transpiled into the cache');
    try {
      // Written only once a response has left, so that it holds the request path too.
      assert.equal(existsSync(join(dir, 'glue.cjs.serving-cache')), false);
      assert.equal((await call(first.port, '/hello')).body, 'hello from C\n');
    } finally {
      assert.equal((await stop(first)).code, 0);
    }
    assert.ok(statSync(join(dir, 'glue.cjs.serving-cache')).size > 0);
    const second = await serveC([], { HYRUN_CACHE_DIR: own.path });
    try {
      assert.equal((await call(second.port, '/hello')).body, 'hello from C\n');
    } finally {
      assert.equal((await stop(second)).code, 0);
    }
  } finally {
    own.cleanup();
  }
});

test('bodies stream both ways, and request trailers reach the guest, response trailers the client', async () => {
  const s = await serveC();
  try {
    // The reply's first part arrives before the request's second part is sent: no buffering of the whole body.
    const e = streamingEcho(s.port, 'first part;', 'second part', { 'x-check': 'sum-42' });
    await e.started;
    e.finish();
    const r = await e.done;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'first part;second part');
    assert.deepEqual(r.trailers, { 'x-check': 'sum-42', 'x-echo-bytes': '22' });
    // A large body, chunked, comes back byte for byte.
    const big = Array.from({ length: 60000 }, (_, i) => `${i}\n`).join('');
    const back = await call(s.port, '/echo', { method: 'POST', body: big });
    assert.equal(back.body, big);
    assert.equal(back.trailers['x-echo-bytes'], String(Buffer.byteLength(big)));
  } finally {
    await stop(s);
  }
});

test('header rules: forbidden and invalid names and values are refused, received headers are immutable', async () => {
  const s = await serveC();
  try {
    const r = await call(s.port, '/headers', { headers: { 'x-in': 'from the client' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'x-ok=ok connection=forbidden bad-name=invalid-syntax bad-value=invalid-syntax immutable=immutable\n');
    assert.equal(r.headers['x-ok'], 'yes');
    assert.equal(r.headers['x-in-echo'], 'from the client');
  } finally {
    await stop(s);
  }
});

test('a fresh instance per request: a counter in the guest does not carry over; --instance-reuse keeps it', async () => {
  const fresh = await serveC();
  try {
    const counts = [];
    for (let i = 0; i < 3; i++) counts.push((await call(fresh.port, '/counter')).body);
    assert.deepEqual(counts, ['1\n', '1\n', '1\n']);
  } finally {
    await stop(fresh);
  }
  const reused = await serveC(['--instance-reuse']);
  try {
    const counts = [];
    for (let i = 0; i < 3; i++) counts.push((await call(reused.port, '/counter')).body);
    assert.deepEqual(counts, ['1\n', '2\n', '3\n']);
  } finally {
    await stop(reused);
  }
});

test('fresh instances are reset rather than made again: a leaked handle, grown memory and the counter read the same on every request', async () => {
  const s = await serveC([], { HYRUN_SERVE_THREADS: '1', HYRUN_TRACE_STARTUP: '1' });
  const seen: Record<string, Set<string>> = { '/counter': new Set(), '/handle': new Set(), '/grow': new Set() };
  try {
    for (let i = 0; i < 12; i++) {
      for (const path of Object.keys(seen)) seen[path]!.add((await call(s.port, path)).body);
    }
  } finally {
    assert.equal((await stop(s)).code, 0);
  }
  // As a newly made instance answers: the first handle number, the first growth, the first count.
  assert.deepEqual([...seen['/counter']!], ['1\n']);
  assert.equal(seen['/handle']!.size, 1, `handle numbers: ${[...seen['/handle']!]}`);
  assert.equal(seen['/grow']!.size, 1, `memory sizes: ${[...seen['/grow']!]}`);
  // Every instance that served /counter or /handle was reset (24); none that grew its memory was
  // (it cannot shrink back): those were replaced by newly made ones (at least 12, and the first).
  const m = /drained: (\d+) instances made, (\d+) reset/.exec(s.stderr());
  assert.ok(m, s.stderr());
  assert.equal(Number(m[2]), 24);
  assert.ok(Number(m[1]) >= 13, m[0]);
  // With --instance-reuse the same instance goes on: its leaked handles and memory accumulate.
  const reused = await serveC(['--instance-reuse'], { HYRUN_SERVE_THREADS: '1' });
  try {
    const handles = [];
    for (let i = 0; i < 3; i++) handles.push((await call(reused.port, '/handle')).body);
    assert.equal(new Set(handles).size, 3, `handle numbers: ${handles}`);
  } finally {
    await stop(reused);
  }
});

test('serving threads: HYRUN_SERVE_THREADS=2 serves on one port from two threads, and both drain on SIGTERM', async () => {
  const s = await serveC([], { HYRUN_SERVE_THREADS: '2', HYRUN_TRACE_STARTUP: '1' });
  try {
    // The second thread starts once the first has answered.
    assert.equal((await call(s.port, '/hello')).body, 'hello from C\n');
    while (!s.stderr().includes('serve: another thread listening')) await new Promise((r) => setImmediate(r));
    const bodies = await Promise.all(Array.from({ length: 40 }, () => call(s.port, '/counter').then((r) => r.body)));
    assert.deepEqual(new Set(bodies), new Set(['1\n']));
  } finally {
    assert.equal((await stop(s)).code, 0);
  }
  assert.equal(s.stderr().match(/drained: \d+ instances made/g)?.length, 2, s.stderr());
});

test('concurrent requests run concurrently: 20 requests are all inside the guest at once', async () => {
  const s = await serveC();
  try {
    // Each request's body stays open until every one of them has been echoed its first part: a
    // server that ran one request at a time could never get there.
    const calls = Array.from({ length: 20 }, (_, i) => streamingEcho(s.port, `request ${i} `, 'end'));
    await Promise.all(calls.map((c) => c.started));
    for (const c of calls) c.finish();
    const replies = await Promise.all(calls.map((c) => c.done));
    assert.deepEqual(replies.map((r) => r.body), calls.map((_, i) => `request ${i} end`));
  } finally {
    await stop(s);
  }
});

test('outbound HTTP (wasi:http/outgoing-handler) is denied without --allow-net and reaches the server with it', async () => {
  const seen: string[] = [];
  const upstream = createServer((req, res) => {
    seen.push(req.url!);
    res.end('from upstream\n');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const target = `127.0.0.1:${(upstream.address() as AddressInfo).port}/data`;
  try {
    const denied = await serveC();
    try {
      const r = await call(denied.port, '/fetch', { headers: { 'x-target': target } });
      // 15 is error-code HTTP-request-denied.
      assert.deepEqual([r.status, r.body], [502, 'outbound refused: error-code 15\n']);
      assert.deepEqual(seen, []);
    } finally {
      await stop(denied);
    }
    const allowed = await serveC(['--allow-net']);
    try {
      const r = await call(allowed.port, '/fetch', { headers: { 'x-target': target } });
      assert.deepEqual([r.status, r.body], [200, 'from upstream\n']);
      assert.deepEqual(seen, ['/data']);
    } finally {
      await stop(allowed);
    }
  } finally {
    upstream.close();
  }
});

test('SIGTERM: new connections are refused, the request under way finishes, exit 0', async () => {
  const s = await serveC();
  const e = streamingEcho(s.port, 'in flight;', ' and done', { 'x-check': 'late' });
  await e.started;
  s.child.kill('SIGTERM');
  await refused(s.port);
  e.finish();
  const r = await e.done;
  assert.equal(r.body, 'in flight; and done');
  assert.equal(r.trailers['x-check'], 'late');
  const end = await s.exited;
  assert.deepEqual(end, { code: 0, signal: null }, s.stderr());
});

/** Starts /spin and resolves once the guest said it is spinning. */
function spin(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/spin', agent: false }, (res) => {
      res.once('data', () => resolve());
      res.on('error', () => {});
    });
    req.on('error', () => {});
    req.once('close', () => reject(new Error('closed before the guest spun')));
    req.end();
  });
}

test('a busy guest stops on SIGTERM once the grace period is over, exit 0', async () => {
  const s = await serveC([], { HYRUN_SERVE_GRACE_MS: '200' });
  await spin(s.port);
  s.child.kill('SIGTERM');
  assert.deepEqual(await s.exited, { code: 0, signal: null });
  assert.match(s.stderr(), /hyrun: requests still running after the grace period \(200 ms\) were stopped\n/);
});

test('a busy guest stops on SIGTERM as PID 1 of a PID namespace too', async () => {
  // unshare makes hyrun PID 1 of a new PID namespace (root only): there a signal without a handler is dropped.
  const s = await serve(['serve', '--addr', '127.0.0.1:0', cHandler], { HYRUN_SERVE_GRACE_MS: '200' }, ['unshare', '--pid', '--fork', '--kill-child']);
  await spin(s.port);
  const children = readFileSync(`/proc/${s.child.pid}/task/${s.child.pid}/children`, 'utf8').trim().split(/\s+/);
  assert.equal(children.length, 1);
  const status = readFileSync(`/proc/${children[0]}/status`, 'utf8');
  assert.match(status, /^NSpid:\s+\d+\s+1$/m, 'hyrun is PID 1 in its namespace');
  process.kill(Number(children[0]), 'SIGTERM');
  assert.deepEqual(await s.exited, { code: 0, signal: null });
  assert.match(s.stderr(), /were stopped\n/);
});

test('hyrun run of an HTTP component serves it too; the JS handler (componentize-js) answers on fresh instances', async () => {
  const s = await serve(['run', '--addr', '127.0.0.1:0', jsHandler]);
  try {
    const r = await call(s.port, '/hello');
    assert.deepEqual([r.status, r.body, r.headers['content-type']], [200, 'hello from JS\n', 'text/plain']);
    assert.equal((await call(s.port, '/counter')).body, '1\n');
    assert.equal((await call(s.port, '/counter')).body, '1\n');
    const echoed = await call(s.port, '/echo', { method: 'POST', body: 'js body' });
    assert.deepEqual([echoed.body, echoed.headers['x-handler']], ['js body', 'js']);
  } finally {
    assert.equal((await stop(s)).code, 0);
  }
});

after(() => cache.cleanup());
