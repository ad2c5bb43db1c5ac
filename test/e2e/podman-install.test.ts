// Podman with the drop-in `hyrun install podman` wrote: `podman --runtime hyrun` works by name, no
// path on the command line. Podman 4.3 reads drop-ins only from /etc/containers/containers.conf.d
// (not when CONTAINERS_CONF is set), so the test gives podman a private mount namespace in which a
// temporary copy of /etc/containers is bind-mounted over it; the machine's files are never touched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hyrun, type Result } from '../helpers.js';
import { cleanStderr, copyEtcContainers, PodmanEnv, runWithEtcContainers } from './engines/podman.js';
import { buildImages, IMAGES } from './engines/images.js';
import { cannotRun, engineFiles, explain } from './engines/tools.js';

const skip = cannotRun(['podman', 'buildah', 'crun', 'unshare', 'mount', 'script']);
const HELLO = 'hello from hyrun-test wasm\n';

describe('Podman with hyrun install podman (runtime by name)', { skip, timeout: 600_000 }, () => {
  let env: PodmanEnv;
  let etc = '';
  let prefix = '';

  /** podman in a private mount namespace where /etc/containers is the test's copy. */
  const podman = (args: string[], runtime = 'hyrun'): Result => runWithEtcContainers(etc, env.env, ['podman', ...env.globalArgs(runtime), ...args]);

  before(() => {
    env = new PodmanEnv({ prefix: 'hyrun-podman-install-' });
    buildImages(env, ['busybox', 'wasmHello', 'wasmBusy']);
    // The harness's settings (ulimits this machine allows, no network, cgroupfs), no runtimes.
    etc = copyEtcContainers(env.dir, readFileSync(join(engineFiles, 'containers.conf'), 'utf8'));
    prefix = join(env.dir, 'prefix');
    const r = hyrun(['install', 'podman', '--config', join(etc, 'containers.conf'), '--prefix', prefix]);
    assert.equal(r.status, 0, explain(r));
  });
  after(() => env?.cleanup());

  test('the seed image runs with --runtime hyrun (the image annotation makes it Wasm); podman records the runtime by name', () => {
    const r = podman(['run', '--name', 'by-name', IMAGES.wasmHello]);
    try {
      assert.equal(r.status, 0, explain(r));
      assert.equal(r.stdout, HELLO);
      assert.equal(cleanStderr(r.stderr), '');
      const inspect = podman(['inspect', '--format', '{{.OCIRuntime}}', 'by-name']);
      assert.equal(inspect.stdout.trim(), 'hyrun', explain(inspect));
    } finally {
      podman(['rm', '--force', 'by-name']);
    }
  });

  test('a Linux image under --runtime hyrun, and the Wasm image under --runtime hyrun-wasm', () => {
    const linux = podman(['run', '--rm', IMAGES.busybox, 'sh', '-c', 'echo linux; exit 3']);
    assert.equal(linux.status, 3, explain(linux));
    assert.equal(linux.stdout, 'linux\n');
    const wasm = podman(['run', '--rm', IMAGES.wasmHello], 'hyrun-wasm');
    assert.equal(wasm.status, 0, explain(wasm));
    assert.equal(wasm.stdout, HELLO);
  });

  test('podman exec -it of a missing binary in a Wasm container: 127 and one line (runtime_supports_json), not conmon\'s JSON error and 255', () => {
    const started = podman(['run', '-d', '--name', 'exec-it', IMAGES.wasmBusy, '/busy.wasm', 'sleep']);
    try {
      assert.equal(started.status, 0, explain(started));
      // A terminal, as a user typing it has: util-linux script(1) gives the command a pty.
      const line = ['podman', ...env.globalArgs('hyrun'), 'exec', '-it', 'exec-it', '/nope'].map((a) => `'${a}'`).join(' ');
      const r = runWithEtcContainers(etc, env.env, ['script', '-qec', line, '/dev/null']);
      assert.equal(r.status, 127, explain(r));
      assert.match(r.stdout, /executable file `\/nope` not found/);
      assert.doesNotMatch(r.stdout, /conmon bytes|readObjectStart/);
    } finally {
      podman(['rm', '--force', '--time', '0', 'exec-it']);
    }
  });

  test('after hyrun install podman --uninstall the name is unknown again', () => {
    const un = hyrun(['install', 'podman', '--config', join(etc, 'containers.conf'), '--prefix', prefix, '--uninstall']);
    assert.equal(un.status, 0, explain(un));
    const r = podman(['run', '--rm', IMAGES.wasmHello]);
    assert.notEqual(r.status, 0, explain(r));
    assert.match(r.stderr, /hyrun/);
    assert.equal(existsSync(prefix), false);
  });
});
