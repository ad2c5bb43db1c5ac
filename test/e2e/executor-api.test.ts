// The executor's programmatic API (what the CLI and the in-container entry build on), run in-process:
// runWasm resolves to the guest's status, writes through the given stdio fds, reports trap lines on
// the given stderr, rejects with LaunchError before the guest runs, and reports bound ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { LaunchError, runWasm } from '../../src/wasm/executor.js';
import { guest, tempDir } from '../helpers.js';

function withFiles<T>(fn: (fds: [number, number, number], read: () => { out: string; err: string }) => Promise<T>): Promise<T> {
  const dir = tempDir();
  const inFd = openSync('/dev/null', 'r');
  const outFd = openSync(join(dir.path, 'out'), 'w');
  const errFd = openSync(join(dir.path, 'err'), 'w');
  const read = () => ({ out: readFileSync(join(dir.path, 'out'), 'utf8'), err: readFileSync(join(dir.path, 'err'), 'utf8') });
  return fn([inFd, outFd, errFd], read).finally(() => {
    for (const fd of [inFd, outFd, errFd]) closeSync(fd);
    dir.cleanup();
  });
}

test('runWasm: status, args and env, output through the given fds', () => withFiles(async (stdio, read) => {
  const status = await runWasm({ module: guest('rt_env'), args: ['prog', 'x y'], env: ['K=V'], preopens: [] }, { stdio });
  assert.equal(status, 0);
  assert.equal(read().out, 'argc=2\narg[0]=[prog]\narg[1]=[x y]\nenv[0]=[K=V]\nenvc=1\n');
  assert.equal(await runWasm({ module: guest('rt_exit'), args: ['e', 'procexit', '300'], env: [], preopens: [] }, { stdio }), 300);
}));

test('runWasm: a trap resolves to 134 and its line goes to the given stderr', () => withFiles(async (stdio, read) => {
  const status = await runWasm({ module: guest('rt_trap'), args: ['t', 'div0'], env: [], preopens: [] }, { stdio });
  assert.equal(status, 134);
  assert.match(read().err, /^hyrun: wasm trap: integer divide by zero at divide <- main/);
}));

test('runWasm: launch failures reject with LaunchError and its exit code', async () => {
  await assert.rejects(runWasm({ module: '/nonexistent/x.wasm', args: ['x'], env: [], preopens: [] }), (e: unknown) => e instanceof LaunchError && e.exitCode === 127);
  await assert.rejects(runWasm({ module: guest('rt_malloc'), args: ['x'], env: [], preopens: [], memoryLimit: 1000 }), (e: unknown) => e instanceof LaunchError && e.exitCode === 126);
});

test('runWasm: --tcplisten on port 0 reports the bound port, and the guest serves on it', () => withFiles(async (stdio, read) => {
  let port = 0;
  const running = runWasm({ module: guest('rt_http_server'), args: ['srv', '1'], env: [], preopens: [], tcpListen: ['127.0.0.1:0'] }, {
    stdio, onListening: (ports) => { port = ports[0]; },
  });
  // onListening runs before the guest starts; poll briefly for it to have been called.
  for (let i = 0; i < 500 && port === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(port > 0);
  const body = await new Promise<string>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/api', agent: false }, (res) => {
      let data = '';
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve(data));
    }).on('error', reject);
  });
  assert.equal(body, 'request 1: GET /api HTTP/1.1\n');
  assert.equal(await running, 0);
  assert.equal(read().out, 'listening on fd 3\nserved 1\n');
}));
