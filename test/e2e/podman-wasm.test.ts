// Podman with hyrun as its OCI runtime, on Wasm images built the seed's way (FROM scratch, the
// module, CMD; buildah --annotation module.wasm.image/variant=compat --platform wasi/wasm).
// Podman 4.3 copies the image annotation into the container config, which is how hyrun knows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hyrunBin } from '../helpers.js';
import { cleanStderr, PodmanEnv } from './engines/podman.js';
import { buildImages, IMAGES } from './engines/images.js';
import { driveTty } from './engines/tty.js';
import { cannotRun, explain, parentPid, timed, waitUntil } from './engines/tools.js';

const skip = cannotRun(['podman', 'buildah', 'conmon', 'crun']);
const HELLO = 'hello from hyrun-test wasm\n';

describe('podman --runtime hyrun: Wasm images', { skip, timeout: 900_000 }, () => {
  let env: PodmanEnv;
  const names: string[] = [];
  const name = (what: string): string => {
    const n = `hyrun-wasm-${what}-${process.pid}`;
    names.push(n);
    return n;
  };

  before(() => {
    env = new PodmanEnv();
    buildImages(env, ['wasmHello', 'wasmHelloSmart', 'wasmAppSmart', 'wasmExit42', 'wasmBusy', 'wasmVolume', 'wasmTty', 'busyboxSmart']);
  });
  after(() => {
    for (const n of names) env?.podman(['rm', '--force', '--time', '0', n]);
    env?.cleanup();
  });

  test('the seed image is FROM scratch with only the module, compat variant, platform wasi/wasm', () => {
    const r = env.mustPodman(['image', 'inspect', '--format',
      '{{.Os}}/{{.Architecture}} {{index .Annotations "module.wasm.image/variant"}} {{json .Config.Cmd}}', IMAGES.wasmHello]);
    assert.equal(r.stdout.trim(), 'wasi/wasm compat ["/hello.wasm"]');
  });

  test('run of the Wasm image prints the module output and exits 0', () => {
    const r = env.podman(['run', '--rm', IMAGES.wasmHello]);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
    assert.equal(cleanStderr(r.stderr), '');
  });

  test('arguments after the image reach the module as argv', () => {
    const r = env.podman(['run', '--rm', IMAGES.wasmHello, '/hello.wasm', 'one', 'two words']);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, `${HELLO}arg1=one\narg2=two words\n`);
  });

  test('environment variables (-e) reach the module', () => {
    const r = env.podman(['run', '--rm', '-e', 'GREETING=hello there', IMAGES.wasmHello]);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, `${HELLO}GREETING=hello there\n`);
  });

  test('compat-smart on the Wasm image runs it as Wasm', () => {
    const r = env.podman(['run', '--rm', IMAGES.wasmHelloSmart]);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
  });

  test('compat-smart with the module at /app (no .wasm suffix) runs as Wasm, by its magic bytes', () => {
    const r = env.podman(['run', '--rm', IMAGES.wasmAppSmart]);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
  });

  test('podman --runtime bin/hyrun-wasm runs the Wasm image', () => {
    const r = env.podman(['run', '--rm', IMAGES.wasmHello], { runtime: `${hyrunBin}-wasm` });
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
  });

  test('runtime by name from containers.conf ([engine.runtimes] hyrun = [...]): podman --runtime hyrun', () => {
    const n = name('by-name');
    const r = env.podman(['run', '--name', n, IMAGES.wasmHello], { runtime: 'hyrun' });
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
    assert.equal(env.mustPodman(['inspect', '--format', '{{.OCIRuntime}}', n]).stdout.trim(), 'hyrun');
  });

  test('--cgroups=disabled (runtime_supports_nocgroup lists hyrun) runs the Wasm image', () => {
    const r = env.podman(['run', '--rm', '--cgroups=disabled', IMAGES.wasmHello]);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
  });

  test('compat-smart on a Linux image runs it as Linux', () => {
    const r = env.podman(['run', '--rm', IMAGES.busyboxSmart, 'sh', '-c', 'echo linux']);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, 'linux\n');
  });

  test('the guest exit code (proc_exit 42) and its stderr come back through podman', () => {
    const r = env.podman(['run', '--rm', IMAGES.wasmExit42]);
    assert.equal(r.status, 42, explain(r));
    assert.equal(r.stdout, 'about to exit 42\n');
    assert.match(cleanStderr(r.stderr), /^stderr line$/m);
  });

  for (const mode of ['spin', 'sleep']) {
    test(`podman stop of a busy Wasm container (${mode}) ends it with SIGTERM: exit 143, not 137`, (t) => {
      const n = name(`stop-${mode}`);
      const args = mode === 'sleep' ? ['/busy.wasm', 'sleep'] : [];
      env.mustPodman(['run', '--detach', '--name', n, IMAGES.wasmBusy, ...args]);
      waitUntil(`${n} to print ready`, () => env.podman(['logs', n]).stdout.includes(`ready ${mode}`));
      const stop = timed(() => env.podman(['stop', '--time', '30', n], { timeout: 90_000 }));
      assert.equal(stop.value.status, 0, explain(stop.value));
      t.diagnostic(`podman stop (${mode}) took ${stop.ms.toFixed(0)} ms`);
      const state = env.mustPodman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', n]);
      assert.equal(state.stdout.trim(), 'exited 143');
      assert.doesNotMatch(stop.value.stderr, /resorting to SIGKILL/);
    });
  }

  test('podman exec of a second .wasm in a running Wasm container: output and exit code', () => {
    const n = name('exec');
    env.mustPodman(['run', '--detach', '--name', n, IMAGES.wasmBusy, '/busy.wasm', 'sleep']);
    waitUntil(`${n} to print ready`, () => env.podman(['logs', n]).stdout.includes('ready sleep'));
    // The engine's subreaper (conmon) is the container process's parent, not a hyrun process.
    const [pid, conmonPid] = env.mustPodman(['inspect', '--format', '{{.State.Pid}} {{.State.ConmonPid}}', n]).stdout.trim().split(' ').map(Number);
    assert.equal(parentPid(pid!), conmonPid);
    const r = env.podman(['exec', n, '/exec.wasm', 'alpha', 'beta']);
    assert.equal(r.status, 7, explain(r));
    assert.equal(r.stdout, 'exec guest argc=3 alpha beta\n');
    const state = env.mustPodman(['inspect', '--format', '{{.State.Status}}', n]);
    assert.equal(state.stdout.trim(), 'running', 'the container keeps running after the exec');
  });

  test('podman exec -it of a .wasm in a running Wasm container: a terminal and typed input', () => {
    const n = name('exec-tty');
    env.mustPodman(['run', '--detach', '--name', n, IMAGES.wasmBusy, '/busy.wasm', 'sleep']);
    waitUntil(`${n} to print ready`, () => env.podman(['logs', n]).stdout.includes('ready sleep'));
    const r = driveTty(['podman', ...env.globalArgs(), 'exec', '-it', n, '/tty.wasm'], 'type a line:', 'exec tty', { env: env.env });
    assert.equal(r.timedOut, false, r.output);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /stdin tty: yes, stdout tty: yes/);
    assert.match(r.output, /echo: \[exec tty\]/);
  });

  test('pause/unpause, update and kill --signal INT of a running Wasm container (exit 130)', () => {
    const n = name('pause');
    env.mustPodman(['run', '--detach', '--name', n, IMAGES.wasmBusy, '/busy.wasm', 'sleep']);
    waitUntil(`${n} to print ready`, () => env.podman(['logs', n]).stdout.includes('ready sleep'));
    const status = (): string => env.mustPodman(['inspect', '--format', '{{.State.Status}}', n]).stdout.trim();
    env.mustPodman(['pause', n]);
    assert.equal(status(), 'paused');
    env.mustPodman(['unpause', n]);
    assert.equal(status(), 'running');
    const update = env.podman(['update', '--memory', '300m', n]);
    assert.equal(update.status, 0, explain(update));
    env.mustPodman(['kill', '--signal', 'INT', n]);
    waitUntil(`${n} to exit`, () => status() === 'exited');
    assert.equal(env.mustPodman(['inspect', '--format', '{{.State.ExitCode}}', n]).stdout.trim(), '130');
  });

  test('a Wasm container runs as a non-root user and under a memory limit', () => {
    const r = env.podman(['run', '--rm', '--user', '1000:1000', '--memory', '128m', IMAGES.wasmHello]);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
  });

  test('podman create, start -a (twice), wait and restart of Wasm containers', () => {
    const once = name('create');
    env.mustPodman(['create', '--name', once, IMAGES.wasmExit42]);
    for (let i = 0; i < 2; i++) {
      const r = env.podman(['start', '--attach', once]);
      assert.equal(r.status, 42, explain(r));
      assert.equal(r.stdout, 'about to exit 42\n');
    }
    assert.equal(env.mustPodman(['wait', once]).stdout.trim(), '42');
    const long = name('restart');
    env.mustPodman(['run', '--detach', '--name', long, IMAGES.wasmBusy, '/busy.wasm', 'sleep']);
    waitUntil(`${long} to print ready`, () => env.podman(['logs', long]).stdout.includes('ready sleep'));
    env.mustPodman(['restart', '--time', '20', long]);
    waitUntil(`${long} to print ready again`, () => env.podman(['logs', long]).stdout.split('ready sleep').length === 3);
    assert.equal(env.mustPodman(['inspect', '--format', '{{.State.Status}}', long]).stdout.trim(), 'running');
  });

  test('a volume (-v HOSTDIR:/data) is read and written by the guest', () => {
    const dir = join(env.dir, 'volume');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'in.txt'), 'from the host');
    const r = env.podman(['run', '--rm', '-v', `${dir}:/data`, IMAGES.wasmVolume]);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, 'read: from the host\n');
    assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'wasm saw: from the host');
  });

  test('a read-only volume (-v HOSTDIR:/data:ro) is readable but not writable by the guest', () => {
    const dir = join(env.dir, 'volume-ro');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'in.txt'), 'read only');
    const r = env.podman(['run', '--rm', '-v', `${dir}:/data:ro`, IMAGES.wasmVolume]);
    assert.equal(r.status, 3, explain(r));
    assert.equal(r.stdout, 'read: read only\n');
    assert.match(cleanStderr(r.stderr), /open \/data\/out.txt: Read-only file system/);
    assert.equal(existsSync(join(dir, 'out.txt')), false);
  });

  test('podman run -it: the guest sees a terminal and echoes a typed line', () => {
    const r = driveTty(['podman', ...env.globalArgs(), 'run', '--rm', '-it', IMAGES.wasmTty], 'type a line:', 'hello tty', { env: env.env });
    assert.equal(r.timedOut, false, r.output);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /stdin tty: yes, stdout tty: yes/);
    assert.match(r.output, /echo: \[hello tty\]/);
  });

  test('podman run without -t: the guest sees no terminal', () => {
    const r = env.podman(['run', '--rm', '-i', IMAGES.wasmTty], { input: 'piped line\n' });
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, 'stdin tty: no, stdout tty: no\ntype a line:\necho: [piped line]\n');
  });
});
