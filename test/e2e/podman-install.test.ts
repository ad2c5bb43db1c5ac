// Podman with the drop-in `hyrun install podman` wrote: `podman --runtime hyrun` works by name, no
// path on the command line. Podman 4.3 reads drop-ins only from /etc/containers/containers.conf.d
// (not when CONTAINERS_CONF is set), so the test gives podman a private mount namespace in which a
// temporary copy of /etc/containers is bind-mounted over it; the machine's files are never touched.
// In that namespace the machine's node binaries are covered by an empty file and PATH has no node:
// the installed copy must run on the node it carries (its node/ directory), for the CLI, conmon's
// calls and the executor of every Wasm container.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hyrun, run, type Result } from '../helpers.js';
import { PodmanEnv, cleanStderr } from './engines/podman.js';
import { buildImages, IMAGES } from './engines/images.js';
import { cannotRun, engineFiles, explain } from './engines/tools.js';

const skip = cannotRun(['podman', 'buildah', 'crun', 'unshare', 'mount', 'script']);
const HELLO = 'hello from hyrun-test wasm\n';

describe('Podman with hyrun install podman (runtime by name)', { skip, timeout: 600_000 }, () => {
  let env: PodmanEnv;
  let etc = '';
  let prefix = '';

  /** The machine's node binaries, covered by an empty file in podman's namespace. */
  const nodes = ['/usr/bin/node', '/usr/bin/nodejs', '/usr/local/bin/node', '/usr/local/bin/nodejs'].filter((p) => existsSync(p));
  /** A shell prelude for that namespace: the test's /etc/containers ($0), no node to be found. */
  const namespace = () => `mount --bind "$0" /etc/containers && for n in ${nodes.join(' ')}; do mount --bind "${join(env.dir, 'empty')}" "$n" || exit 99; done; ` +
    'if command -v node >/dev/null && node --version >/dev/null 2>&1; then echo "node still runs" >&2; exit 98; fi; ';
  const noNodeEnv = (): NodeJS.ProcessEnv => {
    const { CONTAINERS_CONF: _ignored, ...rest } = env.env;
    return { ...rest, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  };

  /** podman in a private mount namespace where /etc/containers is the test's copy and node is hidden. */
  const podman = (args: string[], runtime = 'hyrun'): Result => {
    const globals = ['--root', env.root, '--runroot', env.runroot, '--storage-driver', env.driver, '--tmpdir', env.tmp, '--runtime', runtime];
    return run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${namespace()}exec podman "$@"`, etc, ...globals, ...args],
      { env: noNodeEnv(), timeout: 120_000 });
  };

  before(() => {
    env = new PodmanEnv({ prefix: 'hyrun-podman-install-' });
    buildImages(env, ['busybox', 'wasmHello', 'wasmBusy']);
    etc = join(env.dir, 'etc-containers');
    if (existsSync('/etc/containers')) cpSync('/etc/containers', etc, { recursive: true });
    else mkdirSync(etc);
    // The harness's settings (ulimits this machine allows, no network, cgroupfs), no runtimes.
    writeFileSync(join(etc, 'containers.conf'), readFileSync(join(engineFiles, 'containers.conf'), 'utf8'));
    writeFileSync(join(env.dir, 'empty'), '');
    prefix = join(env.dir, 'prefix');
    const r = hyrun(['install', 'podman', '--config', join(etc, 'containers.conf'), '--prefix', prefix]);
    assert.equal(r.status, 0, explain(r));
  });
  after(() => env?.cleanup());

  test('the copy carries its node, and runs it where the machine\'s node is hidden', () => {
    const id = readlinkSync(join(prefix, 'lib/hyrun/current'));
    assert.ok(existsSync(join(prefix, 'lib/hyrun', id, 'node/loader')));
    const r = run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${namespace()}exec "$1" --version`, etc, join(prefix, 'bin/hyrun')], { env: noNodeEnv() });
    assert.equal(r.status, 0, explain(r));
    assert.match(r.stdout, new RegExp(`^node: \\S+ at ${prefix}/lib/hyrun/${id}/node/node `, 'm'));
  });

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
      const g = ['--root', env.root, '--runroot', env.runroot, '--storage-driver', env.driver, '--tmpdir', env.tmp, '--runtime', 'hyrun'];
      const line = ['podman', ...g, 'exec', '-it', 'exec-it', '/nope'].map((a) => `'${a}'`).join(' ');
      const r = run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${namespace()}exec script -qec "$1" /dev/null`, etc, line], { env: noNodeEnv(), timeout: 120_000 });
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
