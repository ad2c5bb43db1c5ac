// Podman with hyrun as its OCI runtime, on WASI 0.2 command component images built the seed's way
// (FROM scratch, the component, CMD; buildah --annotation module.wasm.image/variant=compat-smart
// --platform wasi/wasm). The entrypoint is named /app: hyrun knows it is a component by its header.
// (issue 16 §4)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { connectionRefused, DEFAULT_COMPONENT_CACHE, forgetTranspiled, HTTP_HANDLER, httpGet, inFlightEcho, sha256File, transpiledIn, uniqueComponent, type HttpReply } from './engines/components.js';
import { cleanStderr, PodmanEnv } from './engines/podman.js';
import { buildWasmImage } from './engines/images.js';
import { cannotRun, explain, timed, waitFor, waitUntil } from './engines/tools.js';

const skip = cannotRun(['podman', 'buildah', 'conmon', 'crun']);
const IMAGE = 'localhost/hyrun-test/component-cli:latest';

describe('podman --runtime hyrun: command component images', { skip, timeout: 900_000 }, () => {
  let env: PodmanEnv;
  // Podman's conmon drops HYRUN_CACHE_DIR: the host's default cache (engines/components.ts).
  const cache = DEFAULT_COMPONENT_CACHE;
  let app = '';
  const digests: string[] = [];
  const names: string[] = [];
  const name = (what: string): string => {
    const n = `hyrun-comp-${what}-${process.pid}`;
    names.push(n);
    return n;
  };

  before(() => {
    env = new PodmanEnv({ prefix: 'hyrun-podman-comp-' });
    const unique = (n: string): string => {
      const p = uniqueComponent(n, join(env.dir, `${n}.wasm`));
      digests.push(sha256File(p));
      return p;
    };
    app = unique('comp_cli.component');
    buildWasmImage(env, {
      tag: IMAGE,
      files: { app, 'exit.wasm': unique('comp_exit.component'), 'volume.wasm': unique('eng_volume.component'), 'loop.wasm': unique('rt_loop.component') },
      cmd: ['/app'],
      variant: 'compat-smart',
    });
  });
  after(() => {
    for (const n of names) env?.podman(['rm', '--force', '--time', '0', n]);
    env?.cleanup();
    forgetTranspiled(cache, digests);
  });

  test('run: the component (by its header, named /app) gets the arguments and -e; transpiled outside the container', () => {
    const r = env.podman(['run', '--rm', '-e', 'GREETING=hello there', IMAGE, '/app', 'one', 'two words']);
    assert.equal(r.status, 0, explain(r));
    assert.match(r.stdout, /^argc=3\nargv\[1\]=one\nargv\[2\]=two words\n/);
    assert.match(r.stdout, /^env GREETING=hello there$/m);
    assert.match(r.stdout, /^random ok$/m);
    assert.equal(cleanStderr(r.stderr), '');
    assert.ok(transpiledIn(cache).has(sha256File(app)), `no transpiled form of this run's /app in ${cache}`);
  });

  test('a second run transpiles nothing (the cache is unchanged)', () => {
    const before = transpiledIn(cache).get(sha256File(app));
    assert.ok(before !== undefined);
    const r = env.podman(['run', '--rm', IMAGE]);
    assert.equal(r.status, 0, explain(r));
    assert.match(r.stdout, /^argc=1\n/);
    assert.equal(transpiledIn(cache).get(sha256File(app)), before);
  });

  test('exit-with-code 42 comes back through podman', () => {
    const r = env.podman(['run', '--rm', IMAGE, '/exit.wasm', '42']);
    assert.equal(r.status, 42, explain(r));
    assert.equal(r.stdout, 'exiting with 42\n');
  });

  test('a volume (-v HOSTDIR:/data): read and written by the component', () => {
    const dir = join(env.dir, 'volume');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, 'in.txt'), 'from the host');
    const r = env.podman(['run', '--rm', '-v', `${dir}:/data`, IMAGE, '/volume.wasm']);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, 'read: from the host\n');
    assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'wasm saw: from the host');
  });

  test('podman stop of a busy component ends it with SIGTERM: exit 143, no SIGKILL', (t) => {
    const n = name('stop');
    env.mustPodman(['run', '--detach', '--name', n, IMAGE, '/loop.wasm']);
    waitUntil(`${n} to print spinning`, () => env.podman(['logs', n]).stdout.includes('spinning'), 90_000);
    const stop = timed(() => env.podman(['stop', '--time', '30', n], { timeout: 90_000 }));
    assert.equal(stop.value.status, 0, explain(stop.value));
    t.diagnostic(`podman stop took ${stop.ms.toFixed(0)} ms`);
    assert.equal(env.mustPodman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', n]).stdout.trim(), 'exited 143');
    assert.doesNotMatch(stop.value.stderr, /resorting to SIGKILL/);
  });
});

describe('podman --runtime hyrun: an HTTP component image (wasi:http/incoming-handler)', { skip, timeout: 900_000 }, () => {
  let env: PodmanEnv;
  const names: string[] = [];
  // The default address of a served component is 0.0.0.0:8080 in the container; published on the
  // host's 8080 as the issue says, or on a free port when another run holds 8080.
  let hostPort = 8080;

  before(async () => {
    env = new PodmanEnv({ prefix: 'hyrun-podman-http-' });
    buildWasmImage(env, { tag: HTTP_IMAGE, files: { 'app.wasm': HTTP_HANDLER }, cmd: ['/app.wasm'] });
    if (!(await portFree(8080))) hostPort = await freePort();
  });
  after(() => {
    for (const n of names) env?.podman(['rm', '--force', '--time', '0', n]);
    env?.cleanup();
  });

  test('podman run -p HOST:8080 of an HTTP component answers on the host; podman stop lets the request under way finish, exit 0', async (t) => {
    t.diagnostic(`host port ${hostPort}`);
    const n = `hyrun-comp-http-${process.pid}`;
    names.push(n);
    // The harness's containers.conf says netns none: this container gets Podman's bridge.
    env.mustPodman(['run', '--detach', '--name', n, '--network', 'bridge', '-p', `${hostPort}:8080`, HTTP_IMAGE]);
    let hello: HttpReply | undefined;
    await waitFor(`HTTP on 127.0.0.1:${hostPort}`, async () => { hello = await httpGet('127.0.0.1', hostPort, '/hello'); return true; }, 90_000);
    assert.equal(hello?.status, 200);
    assert.equal(hello?.body, 'hello from C\n');
    assert.match(env.mustPodman(['logs', n]).stderr, /serving HTTP on http:\/\/0\.0\.0\.0:8080\//);

    const echo = inFlightEcho('127.0.0.1', hostPort, 'in flight;', ' and done');
    await echo.echoed;
    const stop = spawnPodman(env, ['stop', '--time', '30', n]);
    // SIGTERM reached the component: it stopped accepting...
    await connectionRefused('127.0.0.1', hostPort);
    // ...and the request under way still completes.
    echo.finish();
    const r = await echo.reply;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'in flight; and done');
    const stopped = await stop;
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.doesNotMatch(stopped.stderr, /resorting to SIGKILL/);
    assert.equal(env.mustPodman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', n]).stdout.trim(), 'exited 0');
  });
});

const HTTP_IMAGE = 'localhost/hyrun-test/component-http:latest';

const portFree = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
});
const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
});

/** A podman command run in the background (the test talks HTTP meanwhile). */
function spawnPodman(env: PodmanEnv, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('podman', [...env.globalArgs(), ...args], { env: env.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

const SOCKETS_IMAGE = 'localhost/hyrun-test/component-sockets:latest';

describe('podman --runtime hyrun: wasi:sockets in a component container (the network namespace is the boundary)', { skip, timeout: 900_000 }, () => {
  let env: PodmanEnv;
  const names: string[] = [];
  const cache = DEFAULT_COMPONENT_CACHE;
  const digests: string[] = [];

  before(() => {
    env = new PodmanEnv({ prefix: 'hyrun-podman-sockets-' });
    const app = uniqueComponent('comp_sockets.component', join(env.dir, 'sockets.wasm'));
    digests.push(sha256File(app));
    buildWasmImage(env, { tag: SOCKETS_IMAGE, files: { 'sockets.wasm': app }, cmd: ['/sockets.wasm'] });
  });
  after(() => {
    for (const n of names) env?.podman(['rm', '--force', '--time', '0', n]);
    env?.cleanup();
    forgetTranspiled(cache, digests);
  });

  test('no grant needed inside: the component listens on 0.0.0.0:7000, -p forwards the host\'s connection, it answers', async () => {
    const hostPort = await freePort();
    const n = `hyrun-comp-sockets-${process.pid}`;
    names.push(n);
    env.mustPodman(['run', '--detach', '--name', n, '--network', 'bridge', '-p', `${hostPort}:7000`, SOCKETS_IMAGE, '/sockets.wasm', 'tcp-server', '0.0.0.0', '7000']);
    await waitFor(`${n} to listen`, () => env.podman(['logs', n]).stdout.includes('listening 7000'), 90_000);
    // Podman's port forwarder accepts before the container does: a connection it could not pass on
    // is closed at once, with nothing read; then try again.
    let reply = '';
    await waitFor(`an echo through 127.0.0.1:${hostPort}`, async () => {
      reply = await new Promise<string>((resolve) => {
        const c = connect(hostPort, '127.0.0.1', () => c.end('hi from the host'));
        let got = '';
        c.on('data', (d) => { got += d; });
        c.on('close', () => resolve(got));
        c.on('error', () => resolve(''));
      });
      return reply !== '';
    }, 60_000);
    assert.equal(reply, 'echo:hi from the host');
    assert.equal(env.mustPodman(['wait', n]).stdout.trim(), '0');
    const logs = env.mustPodman(['logs', n]);
    assert.match(logs.stdout, /^request: hi from the host$/m);
    assert.equal(cleanStderr(logs.stderr), '');
  });

  test('name lookup inside: localhost resolves through the container\'s own resolver', () => {
    const r = env.podman(['run', '--rm', '--network', 'bridge', SOCKETS_IMAGE, '/sockets.wasm', 'lookup', 'localhost']);
    assert.equal(r.status, 0, explain(r));
    assert.match(r.stdout, /127\.0\.0\.1|::1/);
  });
});
