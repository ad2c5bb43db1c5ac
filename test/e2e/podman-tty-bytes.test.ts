// The bytes a terminal receives from Podman with `-t`, compared byte for byte (issue 14 §4: "a stray
// NUL byte precedes the output of a -t run"): a Linux image through hyrun against crun (and runc)
// itself, and a Wasm image through hyrun against the native build of the same C program (a Linux
// image with the programs at the same paths) run by crun. Each transcript is every byte a real
// pseudo-terminal got (engines/pty_drive.py), a NUL included; input is typed only once the prompt
// shows, so the order of the bytes is fixed.
//
// Paths: run -t without -i, run -it, run -d -t then the log (podman logs and the k8s-file log
// itself), create -it + start -ai (conmon's attach socket, attached before the start), exec -t
// without -i, exec -it, --log-driver none; journald where the host has a journal.
// The only difference allowed: Podman's own warning for every run of a wasi/wasm image ("image
// platform … does not match the expected platform"), printed on its stderr, which is the terminal;
// the native image is linux/amd64 and gets none, so it is taken out of the Wasm transcripts.
// Through hyrun means twice where runc is installed: with hyrun's default delegate (crun) and with
// runc as its delegate (what hyrun picks on hosts with hybrid cgroups), through a wrapper named
// hyrun that sets HYRUN_DELEGATE (conmon passes the environment on).
// Not here, because Podman refuses it for every runtime: `--log-driver passthrough` with -t
// ("cannot be used on a TTY").
// The NUL of the issue was not reproduced on any of these paths (nor with ctr, see containerd.test.ts,
// nor CRI, cri-containerd.test.ts, nor the OCI CLI with a console socket, oci-console.test.ts): these
// tests keep every byte of them equal to crun's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hyrunBin, run } from '../helpers.js';
import { PodmanEnv } from './engines/podman.js';
import { buildImages, buildNativeGuests, IMAGES } from './engines/images.js';
import { driveTty } from './engines/tty.js';
import { cannotRun, explain, waitUntil } from './engines/tools.js';

const skip = cannotRun(['podman', 'buildah', 'conmon', 'crun']);
const haveRunc = cannotRun(['runc']) === undefined;
/** The native builds of the Wasm images' programs, at the same paths (a Linux image, run by crun). */
const NATIVE = IMAGES.nativeGuests;

/** Every byte in one line: a NUL shows as \u0000, control characters escaped. */
const shown = (b: Buffer): string => JSON.stringify(b.toString('latin1'));

/** Podman's warning for a wasi/wasm image on a linux/amd64 host, as the terminal shows it. */
const PLATFORM_WARNING = /WARNING: image platform [^\r\n]* does not match the expected platform [^\r\n]*\r?\n/g;
const withoutPlatformWarning = (b: Buffer): Buffer => Buffer.from(b.toString('latin1').replace(PLATFORM_WARNING, ''), 'latin1');

/** A k8s-file log without its timestamps: "stream tag text" per line, every byte shown. */
const logLines = (file: string): string => shown(Buffer.from(readFileSync(file, 'latin1').replace(/^\S+ /gm, ''), 'latin1'));

describe('podman -t: a terminal gets the same bytes through hyrun as through crun', { skip, timeout: 900_000 }, () => {
  let env: PodmanEnv;
  let nativeReason: string | undefined;
  /** hyrun as Podman's runtime: [label, runtime], its default delegate first, then runc as its delegate. */
  const hyruns: [string, string][] = [];
  const names: string[] = [];
  const name = (what: string): string => {
    const n = `hyrun-ttyb-${what}-${process.pid}-${names.length}`;
    names.push(n);
    return n;
  };

  before(() => {
    env = new PodmanEnv({ prefix: 'hyrun-podman-ttyb-' });
    buildImages(env, ['busybox', 'wasmHello', 'wasmTty', 'wasmBusy']);
    hyruns.push(['through hyrun', env.runtime]);
    const runc = run('sh', ['-c', 'command -v runc']).stdout.trim();
    if (runc !== '') {
      const wrapper = join(env.dir, 'hyrun-on-runc', 'hyrun');
      mkdirSync(join(env.dir, 'hyrun-on-runc'));
      writeFileSync(wrapper, `#!/bin/sh\nHYRUN_DELEGATE=${runc} exec ${hyrunBin} "$@"\n`);
      chmodSync(wrapper, 0o755);
      hyruns.push(['through hyrun with runc as its delegate', wrapper]);
    }
    nativeReason = buildNativeGuests(env);
  });
  after(() => {
    for (const n of names) env?.podman(['rm', '--force', '--time', '0', n]);
    env?.cleanup();
  });

  /** The Linux runtimes compared: crun first (the reference), runc where installed. */
  const linuxPeers = (): string[] => (haveRunc ? ['crun', 'runc'] : ['crun']);

  /** `podman ARGS` with `runtime` on a fresh terminal; `expect`/`send` as driveTty. */
  const terminal = (runtime: string, args: string[], expect = '', send = ''): { bytes: Buffer; status: number | null } => {
    const r = driveTty(['podman', ...env.globalArgs(runtime), ...args], expect, send, { env: env.env });
    assert.equal(r.timedOut, false, `podman ${args.join(' ')} (${runtime}) did not end: ${shown(r.bytes)}`);
    return { bytes: r.bytes, status: r.status };
  };

  /** Linux: the transcript through hyrun equals crun's (and runc's), which equals `expected`. */
  const sameAsLinuxPeers = (args: string[], expected: string, status: number, expect = '', send = ''): void => {
    const reference = terminal('crun', args, expect, send);
    assert.deepEqual({ bytes: shown(reference.bytes), status: reference.status }, { bytes: shown(Buffer.from(expected, 'latin1')), status }, 'crun itself');
    for (const peer of linuxPeers().slice(1)) {
      const other = terminal(peer, args, expect, send);
      assert.deepEqual({ bytes: shown(other.bytes), status: other.status }, { bytes: shown(reference.bytes), status }, `${peer} itself`);
    }
    for (const [label, runtime] of hyruns) {
      const hyrun = terminal(runtime, args, expect, send);
      assert.deepEqual({ bytes: shown(hyrun.bytes), status: hyrun.status }, { bytes: shown(reference.bytes), status }, label);
    }
  };

  /** Wasm: hyrun running `wasmArgs` gives the bytes crun gives running `nativeArgs` (the native image). */
  const sameAsNative = (t: { skip: (r: string) => void }, wasmArgs: string[], nativeArgs: string[], expected: string, status: number, expect = '', send = ''): void => {
    if (nativeReason) return t.skip(nativeReason);
    const native = terminal('crun', nativeArgs, expect, send);
    assert.deepEqual({ bytes: shown(native.bytes), status: native.status }, { bytes: shown(Buffer.from(expected, 'latin1')), status }, 'the native build under crun');
    for (const [label, runtime] of hyruns) {
      const wasm = terminal(runtime, wasmArgs, expect, send);
      assert.deepEqual({ bytes: shown(withoutPlatformWarning(wasm.bytes)), status: wasm.status }, { bytes: shown(native.bytes), status }, `the Wasm build ${label}`);
    }
  };

  const LINUX_PROMPT = ['sh', '-c', 'echo "prompt:"; read line; printf "got [%s]\\tno newline" "$line"'];
  const LINUX_PROMPT_BYTES = 'prompt:\r\ntyped\r\ngot [typed]\tno newline';
  const TTY_BYTES = 'stdin tty: yes, stdout tty: yes\r\ntype a line:\r\ntyped\r\necho: [typed]\r\n';

  test('run -t without -i (--rm), Linux: hyrun gives crun\'s bytes', () => {
    sameAsLinuxPeers(['run', '--rm', '-t', IMAGES.busybox, 'sh', '-c', 'echo out; echo err >&2; printf "last\\tline"'], 'out\r\nerr\r\nlast\tline', 0);
  });

  test('run -t without -i (--rm), Wasm: hyrun gives the native build\'s bytes', (t) => {
    sameAsNative(t, ['run', '--rm', '-t', IMAGES.wasmHello], ['run', '--rm', '-t', NATIVE, '/hello.wasm'], 'hello from hyrun-test wasm\r\n', 0);
  });

  test('run -it, a line typed after the prompt, Linux', () => {
    sameAsLinuxPeers(['run', '--rm', '-it', IMAGES.busybox, ...LINUX_PROMPT], LINUX_PROMPT_BYTES, 0, 'prompt:', 'typed');
  });

  test('run -it, a line typed after the prompt, Wasm', (t) => {
    sameAsNative(t, ['run', '--rm', '-it', IMAGES.wasmTty], ['run', '--rm', '-it', NATIVE, '/tty.wasm'], TTY_BYTES, 0, 'type a line:', 'typed');
  });

  test('run -t --log-driver none, Linux and Wasm', (t) => {
    sameAsLinuxPeers(['run', '--rm', '-t', '--log-driver', 'none', IMAGES.busybox, 'echo', 'no log'], 'no log\r\n', 0);
    sameAsNative(t, ['run', '--rm', '-t', '--log-driver', 'none', IMAGES.wasmHello], ['run', '--rm', '-t', '--log-driver', 'none', NATIVE, '/hello.wasm'], 'hello from hyrun-test wasm\r\n', 0);
  });

  test('run -t --log-driver journald, Linux and Wasm', (t) => {
    if (!existsSync('/run/systemd/journal/socket')) return t.skip('no systemd journal on this host (Podman cannot log to journald)');
    sameAsLinuxPeers(['run', '--rm', '-t', '--log-driver', 'journald', IMAGES.busybox, 'echo', 'journal'], 'journal\r\n', 0);
    sameAsNative(t, ['run', '--rm', '-t', '--log-driver', 'journald', IMAGES.wasmHello], ['run', '--rm', '-t', '--log-driver', 'journald', NATIVE, '/hello.wasm'], 'hello from hyrun-test wasm\r\n', 0);
  });

  /** `run -d -t` to the end, then what `podman logs` prints and the k8s-file log's lines (without timestamps). */
  const detachedLog = (runtime: string, image: string, args: string[]): { logs: string; file: string } => {
    const n = name('log');
    env.mustPodman(['run', '-d', '-t', '--name', n, image, ...args], { runtime });
    env.mustPodman(['wait', n], { runtime });
    const logs = run('podman', [...env.globalArgs(runtime), 'logs', n], { env: env.env, encoding: 'latin1' });
    assert.equal(logs.status, 0, explain(logs));
    const path = env.mustPodman(['inspect', '--format', '{{.HostConfig.LogConfig.Path}}', n], { runtime }).stdout.trim();
    return { logs: shown(Buffer.from(logs.stdout, 'latin1')), file: logLines(path) };
  };

  test('run -d -t, then podman logs and the k8s-file log: Linux', () => {
    const args = ['sh', '-c', 'echo out; echo err >&2; printf "last"'];
    const reference = detachedLog('crun', IMAGES.busybox, args);
    assert.deepEqual(reference, { logs: shown(Buffer.from('out\r\nerr\r\nlast')), file: shown(Buffer.from('stdout F out\r\nstdout F err\r\nstdout P last\n')) }, 'crun itself');
    for (const peer of linuxPeers().slice(1)) assert.deepEqual(detachedLog(peer, IMAGES.busybox, args), reference, `${peer} itself`);
    for (const [label, runtime] of hyruns) assert.deepEqual(detachedLog(runtime, IMAGES.busybox, args), reference, label);
  });

  test('run -d -t, then podman logs and the k8s-file log: Wasm', (t) => {
    if (nativeReason) return t.skip(nativeReason);
    const native = detachedLog('crun', NATIVE, ['/hello.wasm']);
    assert.deepEqual(native, { logs: shown(Buffer.from('hello from hyrun-test wasm\r\n')), file: shown(Buffer.from('stdout F hello from hyrun-test wasm\r\n')) }, 'the native build under crun');
    for (const [label, runtime] of hyruns) assert.deepEqual(detachedLog(runtime, IMAGES.wasmHello, ['/hello.wasm']), native, `the Wasm build ${label}`);
  });

  /** `create -it` then `start -ai`: Podman attaches to conmon's attach socket before the process starts. */
  const attached = (runtime: string, image: string, args: string[], expect: string): { bytes: Buffer; status: number | null } => {
    const n = name('attach');
    env.mustPodman(['create', '-it', '--name', n, image, ...args], { runtime });
    return terminal(runtime, ['start', '-ai', n], expect, 'typed');
  };

  test('create -it + start -ai (attached through conmon), Linux', () => {
    const reference = attached('crun', IMAGES.busybox, LINUX_PROMPT, 'prompt:');
    assert.deepEqual({ bytes: shown(reference.bytes), status: reference.status }, { bytes: shown(Buffer.from(LINUX_PROMPT_BYTES)), status: 0 }, 'crun itself');
    for (const peer of linuxPeers().slice(1)) {
      const other = attached(peer, IMAGES.busybox, LINUX_PROMPT, 'prompt:');
      assert.deepEqual({ bytes: shown(other.bytes), status: other.status }, { bytes: shown(reference.bytes), status: 0 }, `${peer} itself`);
    }
    for (const [label, runtime] of hyruns) {
      const hyrun = attached(runtime, IMAGES.busybox, LINUX_PROMPT, 'prompt:');
      assert.deepEqual({ bytes: shown(hyrun.bytes), status: hyrun.status }, { bytes: shown(reference.bytes), status: 0 }, label);
    }
  });

  test('create -it + start -ai (attached through conmon), Wasm', (t) => {
    if (nativeReason) return t.skip(nativeReason);
    const native = attached('crun', NATIVE, ['/tty.wasm'], 'type a line:');
    assert.deepEqual({ bytes: shown(native.bytes), status: native.status }, { bytes: shown(Buffer.from(TTY_BYTES)), status: 0 }, 'the native build under crun');
    for (const [label, runtime] of hyruns) {
      const wasm = attached(runtime, IMAGES.wasmTty, ['/tty.wasm'], 'type a line:');
      assert.deepEqual({ bytes: shown(withoutPlatformWarning(wasm.bytes)), status: wasm.status }, { bytes: shown(native.bytes), status: 0 }, `the Wasm build ${label}`);
    }
  });

  /** A running container to exec into, started by `runtime`; ready once its log shows `ready`. */
  const running = (runtime: string, image: string, args: string[], ready: string): string => {
    const n = name('exec');
    env.mustPodman(['run', '-d', '--name', n, image, ...args], { runtime });
    waitUntil(`${n} to print ${ready}`, () => env.podman(['logs', n], { runtime }).stdout.includes(ready));
    return n;
  };

  test('exec -t without -i and exec -it, Linux', () => {
    const args = ['sh', '-c', 'echo ready; exec sleep 600'];
    const transcripts = (runtime: string): string[] => {
      const n = running(runtime, IMAGES.busybox, args, 'ready');
      if (runtime !== env.runtime && runtime !== 'crun' && runtime !== 'runc') {
        // The wrapper's containers are runc's (under hyrun's default root, as Podman passes no --root).
        const id = env.mustPodman(['inspect', '--format', '{{.Id}}', n], { runtime }).stdout.trim();
        const state = run('runc', ['--root', '/run/hyrun/@runc', 'state', id]);
        assert.equal(state.status, 0, `runc does not know ${n}: ${explain(state)}`);
      }
      const plain = terminal(runtime, ['exec', '-t', n, 'sh', '-c', 'printf "exec\\tout\\n"; echo err >&2; exit 3']);
      const typed = terminal(runtime, ['exec', '-it', n, ...LINUX_PROMPT], 'prompt:', 'typed');
      return [shown(plain.bytes), String(plain.status), shown(typed.bytes), String(typed.status)];
    };
    const reference = transcripts('crun');
    assert.deepEqual(reference, [shown(Buffer.from('exec\tout\r\nerr\r\n')), '3', shown(Buffer.from(LINUX_PROMPT_BYTES)), '0'], 'crun itself');
    for (const peer of linuxPeers().slice(1)) assert.deepEqual(transcripts(peer), reference, `${peer} itself`);
    for (const [label, runtime] of hyruns) assert.deepEqual(transcripts(runtime), reference, label);
  });

  test('exec -t without -i and exec -it, Wasm', (t) => {
    if (nativeReason) return t.skip(nativeReason);
    const transcripts = (runtime: string, image: string): string[] => {
      const n = running(runtime, image, ['/busy.wasm', 'sleep'], 'ready sleep');
      const plain = terminal(runtime, ['exec', '-t', n, '/exec.wasm', 'one', 'two words']);
      const typed = terminal(runtime, ['exec', '-it', n, '/tty.wasm'], 'type a line:', 'typed');
      return [shown(plain.bytes), String(plain.status), shown(typed.bytes), String(typed.status)];
    };
    const native = transcripts('crun', NATIVE);
    assert.deepEqual(native, [shown(Buffer.from('exec guest argc=3 one two words\r\n')), '7', shown(Buffer.from(TTY_BYTES)), '0'], 'the native build under crun');
    for (const [label, runtime] of hyruns) assert.deepEqual(transcripts(runtime, IMAGES.wasmBusy), native, `the Wasm build ${label}`);
  });
});
