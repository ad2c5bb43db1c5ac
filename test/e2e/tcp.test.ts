// --tcplisten: a listening socket preopened to the guest, served by WASI preview1 socket calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { get } from 'node:http';
import { connect, createServer } from 'node:net';
import { guest, hyrunBin } from '../helpers.js';

/** A port that was free a moment ago (the kernel picks it; we close it and hand it to hyrun). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Runs hyrun; `lines` yields the guest's stdout lines as they come. */
function start(args: string[]): { child: ChildProcessWithoutNullStreams; nextLine: (re: RegExp) => Promise<string>; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(hyrunBin, args);
  let buf = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const lines: string[] = [];
  const flush = (): void => {
    for (let i = 0; i < waiters.length; i++) {
      const idx = lines.findIndex((l) => waiters[i].re.test(l));
      if (idx >= 0) {
        const [l] = lines.splice(0, idx + 1).slice(-1);
        waiters.splice(i--, 1)[0].resolve(l);
      }
    }
  };
  child.stdout.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    flush();
  });
  child.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  done.then(() => clearTimeout(timer));
  return {
    child, done,
    nextLine: (re) => new Promise((resolve, reject) => {
      waiters.push({ re, resolve });
      flush();
      done.then(() => setTimeout(() => reject(new Error(`guest ended before a line matching ${re}; stderr: ${stderr}`)), 50));
    }),
  };
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a C HTTP server on the preopened socket answers several sequential requests from a Node client', async () => {
  const port = await freePort();
  const g = start(['run', '--tcplisten', `127.0.0.1:${port}`, guest('rt_http_server'), '4']);
  assert.equal(await g.nextLine(/^listening/), 'listening on fd 3'); // the first fd after stdio (no --dir)
  for (let i = 1; i <= 4; i++) {
    const body = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: `/item/${i}?q=${'x'.repeat(i * 100)}`, agent: false }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { data += c; });
        res.on('end', () => resolve({ status: res.statusCode!, body: data }));
      }).on('error', reject);
    });
    assert.equal(body.status, 200);
    assert.equal(body.body, `request ${i}: GET /item/${i}?q=${'x'.repeat(i * 100)} HTTP/1.1\n`);
  }
  const r = await g.done;
  assert.equal(r.code, 0, r.stderr);
});

test('socket calls: nonblocking accept, poll, peek, waitall, fd_read/fd_write, shutdown, hangup, errors', async () => {
  const port = await freePort();
  const g = start(['run', '--tcplisten', `127.0.0.1:${port}`, guest('rt_sock_probe')]);
  assert.equal(await g.nextLine(/^listener/), 'listener 3 type 6 accept_right 1');
  assert.equal(await g.nextLine(/^accept_nonblock/), 'accept_nonblock 6'); // AGAIN
  await g.nextLine(/^ready$/);
  // Let the guest block in poll_oneoff before connecting, so readiness must wake it.
  await pause(300);
  const sock = connect(port, '127.0.0.1');
  let received = '';
  let ended = false;
  sock.on('data', (d) => { received += d; });
  sock.on('end', () => { ended = true; sock.end('bye'); });
  assert.equal(await g.nextLine(/^poll_listener/), 'poll_listener 1 100 1');
  assert.equal(await g.nextLine(/^accepted/), 'accepted 0 type 6');
  sock.write('hello');
  assert.equal(await g.nextLine(/^peek/), 'peek 5 hello');
  assert.equal(await g.nextLine(/^recv /), 'recv 5 hello');
  await g.nextLine(/^waitall_start/);
  // WAITALL must gather both pieces although they arrive apart.
  sock.write(' wor');
  await pause(300);
  sock.write('ld');
  assert.equal(await g.nextLine(/^waitall/), 'waitall 6 [ world]');
  assert.equal(await g.nextLine(/^recv_nonblock/), 'recv_nonblock -6');
  assert.equal(await g.nextLine(/^poll_write/), 'poll_write 1 100 2');
  assert.equal(await g.nextLine(/^wrote/), 'wrote 5');
  assert.equal(await g.nextLine(/^shutdown /), 'shutdown 0');
  assert.equal(await g.nextLine(/^read_to_eof/), 'read_to_eof [bye]');
  assert.equal(received, 'pong\n');
  assert.ok(ended, 'the client saw the guest shut down its write side');
  assert.equal(await g.nextLine(/^poll_eof/), 'poll_eof 1 100 hangup 1');
  assert.equal(await g.nextLine(/^close/), 'close 0');
  assert.equal(await g.nextLine(/^recv_closed/), 'recv_closed -8'); // BADF
  assert.equal(await g.nextLine(/^recv_stdout/), 'recv_stdout -57'); // NOTSOCK
  assert.equal(await g.nextLine(/^shutdown_bad/), 'shutdown_bad 76'); // a listener has no SOCK_SHUTDOWN right
  const r = await g.done;
  assert.equal(r.code, 0, r.stderr);
});

test('--tcplisten on an address in use is hyrun\'s own error (125)', async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const { port } = busy.address() as { port: number };
  try {
    const g = start(['run', '--tcplisten', `127.0.0.1:${port}`, guest('rt_http_server')]);
    const r = await g.done;
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`^hyrun: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  } finally {
    busy.close();
  }
});

test('the listening socket is preopened right after the preopened directories', async () => {
  const port = await freePort();
  const { tmpdir } = await import('node:os');
  const g = start(['run', '--dir', tmpdir(), '--dir', '/', '--tcplisten', `127.0.0.1:${port}`, guest('rt_http_server'), '1']);
  // stdio 0-2, directories 3 and 4, then the socket.
  assert.equal(await g.nextLine(/^listening/), 'listening on fd 5');
  await new Promise<void>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => { res.resume(); res.on('end', () => resolve()); }).on('error', reject);
  });
  assert.equal((await g.done).code, 0);
});
