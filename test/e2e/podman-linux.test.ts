// Podman with hyrun as its OCI runtime, on Linux images (hyrun delegates to crun/runc): output,
// exit codes, compat-smart on a Linux image, exec, stop, and a terminal (-it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hyrunBin } from '../helpers.js';
import { PodmanEnv } from './engines/podman.js';
import { buildImages, IMAGES } from './engines/images.js';
import { driveTty } from './engines/tty.js';
import { cannotRun, explain, parentPid, waitUntil } from './engines/tools.js';

const skip = cannotRun(['podman', 'buildah', 'conmon', 'crun']);

describe('podman --runtime hyrun: Linux images', { skip, timeout: 600_000 }, () => {
  let env: PodmanEnv;

  before(() => {
    env = new PodmanEnv();
    buildImages(env, ['busybox', 'busyboxSmart']);
  });
  after(() => env?.cleanup());

  test('run prints the command output and exits 0', () => {
    const r = env.podman(['run', '--rm', IMAGES.busybox, 'echo', 'hi']);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, 'hi\n');
  });

  test('the exit code and stderr of the container process come back', () => {
    const r = env.podman(['run', '--rm', IMAGES.busybox, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.status, 3, explain(r));
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /^err$/m);
  });

  test('podman records hyrun as the container runtime', () => {
    const name = `hyrun-linux-inspect-${process.pid}`;
    try {
      const r = env.podman(['run', '--name', name, IMAGES.busybox, 'true']);
      assert.equal(r.status, 0, explain(r));
      const inspect = env.mustPodman(['inspect', '--format', '{{.OCIRuntime}} {{.State.ExitCode}}', name]);
      assert.equal(inspect.stdout.trim(), `${hyrunBin} 0`);
    } finally {
      env.podman(['rm', '--force', name]);
    }
  });

  test('compat-smart on a Linux image still runs it as Linux (sh -c works)', () => {
    const config = env.mustPodman(['image', 'inspect', '--format', '{{index .Annotations "module.wasm.image/variant"}}', IMAGES.busyboxSmart]);
    assert.equal(config.stdout.trim(), 'compat-smart');
    const r = env.podman(['run', '--rm', IMAGES.busyboxSmart, 'sh', '-c', 'echo linux $((6 * 7)); uname -s']);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, 'linux 42\nLinux\n');
  });

  test('exec of a Linux binary in a running Linux container: output and exit code', () => {
    const name = `hyrun-linux-exec-${process.pid}`;
    try {
      env.mustPodman(['run', '--detach', '--name', name, IMAGES.busybox, 'sleep', '600']);
      const [pid, conmonPid] = env.mustPodman(['inspect', '--format', '{{.State.Pid}} {{.State.ConmonPid}}', name]).stdout.trim().split(' ').map(Number);
      assert.equal(parentPid(pid!), conmonPid, 'conmon is the parent of the container process');
      const ok = env.podman(['exec', name, 'sh', '-c', 'echo exec says hi; cat /proc/1/cmdline | tr "\\0" " "; echo']);
      assert.equal(ok.status, 0, explain(ok));
      assert.equal(ok.stdout, 'exec says hi\nsleep 600 \n');
      const failing = env.podman(['exec', name, 'sh', '-c', 'exit 5']);
      assert.equal(failing.status, 5, explain(failing));
      const state = env.mustPodman(['inspect', '--format', '{{.State.Status}}', name]);
      assert.equal(state.stdout.trim(), 'running');
    } finally {
      env.podman(['rm', '--force', '--time', '0', name]);
    }
  });

  test('stop of a Linux container that handles SIGTERM exits 143', () => {
    const name = `hyrun-linux-stop-${process.pid}`;
    try {
      // A shell as PID 1 with a TERM trap: the signal must reach it through hyrun's kill.
      env.mustPodman(['run', '--detach', '--name', name, IMAGES.busybox, 'sh', '-c',
        'trap "exit 143" TERM; echo ready; while true; do sleep 0.1; done']);
      waitUntil('the container to print ready', () => env.podman(['logs', name]).stdout.includes('ready'));
      const stop = env.podman(['stop', '--time', '20', name]);
      assert.equal(stop.status, 0, explain(stop));
      const code = env.mustPodman(['inspect', '--format', '{{.State.ExitCode}}', name]);
      assert.equal(code.stdout.trim(), '143');
    } finally {
      env.podman(['rm', '--force', '--time', '0', name]);
    }
  });

  test('--cgroups=disabled: the container runs without a cgroup of its own', () => {
    const r = env.podman(['run', '--rm', '--cgroups=disabled', IMAGES.busybox, 'sh', '-c', 'echo no cgroups']);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, 'no cgroups\n');
  });

  test('a missing entrypoint is reported by podman as not found (127)', () => {
    const r = env.podman(['run', '--rm', IMAGES.busybox, '/nonexistent']);
    assert.equal(r.status, 127, explain(r));
    assert.match(r.stderr, /not found/);
  });

  test('stop of a container that ignores SIGTERM falls back to SIGKILL (137) after --time', () => {
    const name = `hyrun-linux-stop-kill-${process.pid}`;
    try {
      env.mustPodman(['run', '--detach', '--name', name, IMAGES.busybox, 'sleep', '600']); // PID 1: SIGTERM ignored
      const stop = env.podman(['stop', '--time', '1', name]);
      assert.equal(stop.status, 0, explain(stop));
      assert.equal(env.mustPodman(['inspect', '--format', '{{.State.ExitCode}}', name]).stdout.trim(), '137');
    } finally {
      env.podman(['rm', '--force', '--time', '0', name]);
    }
  });

  test('run -it gives the container a terminal and passes typed input', () => {
    const r = driveTty(
      ['podman', ...env.globalArgs(), 'run', '--rm', '-it', IMAGES.busybox, 'sh', '-c', 'tty; echo prompt:; read line; echo "got [$line]"'],
      'prompt:', 'typed text', { env: env.env },
    );
    assert.equal(r.timedOut, false, r.output);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /\/dev\/pts\/\d+/);
    assert.match(r.output, /got \[typed text\]/);
  });
});
