// Wasm containers inside the same kernel sandbox, through hyrun's runc-compatible CLI with REAL crun
// and runc (each test runs against both). Bundles are built like FROM-scratch images: an empty
// rootfs plus the ctr_probe module, config.json from `<delegate> spec`, edited here.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrunBin, run, tempDir, type Result } from '../helpers.js';
import type { OciSpec } from '../../src/oci/spec.js';

const MiB = 1 << 20;
const probe = guest('ctr_probe');
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// One cache for the runtime dir per test file (built once, removed at the end), one state root.
const scratch = tempDir('hyrun-ctr-');
// Traversable by a user-namespaced container root (uid 100000 on the host).
chmodSync(scratch.path, 0o755);
const env = { ...process.env, HYRUN_CACHE_DIR: join(scratch.path, 'cache') };
const root = join(scratch.path, 'state');
let seq = 0;

after(() => scratch.cleanup());

interface Bundle { dir: string; rootfs: string; configPath: string; config: OciSpec }

/** A scratch-image bundle: rootfs = probe.wasm (+ extra files), config from `<delegate> spec`. */
function makeBundle(delegate: string, edit: (c: OciSpec) => void, files: Record<string, string | Buffer> = {}): Bundle {
  const dir = join(scratch.path, `bundle-${++seq}`);
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  copyFileSync(probe, join(rootfs, 'probe.wasm'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(rootfs, path, '..'), { recursive: true });
    writeFileSync(join(rootfs, path), content);
    if (path.startsWith('bin/')) chmodSync(join(rootfs, path), 0o755);
  }
  const r = run(delegate, ['spec'], { cwd: dir });
  assert.equal(r.status, 0, `${delegate} spec: ${r.stderr}`);
  const configPath = join(dir, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as OciSpec;
  config.process!.terminal = false;
  config.process!.args = ['/probe.wasm', 'hello'];
  config.annotations = { ...(config.annotations ?? {}), 'module.wasm.image/variant': 'compat' };
  edit(config);
  writeFileSync(configPath, JSON.stringify(config, null, '\t'));
  return { dir, rootfs, configPath, config };
}

const hy = (delegate: string, args: string[], opts: { timeout?: number } = {}): Result =>
  run(hyrunBin, ['--root', root, '--delegate', delegate, ...args], { env, timeout: opts.timeout ?? 120_000 });

/** `hyrun run` in the background, for signal tests: resolves with its exit status and output. */
function runBackground(delegate: string, b: Bundle, id: string) {
  const child = spawn(hyrunBin, ['--root', root, '--delegate', delegate, 'run', '--bundle', b.dir, id], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (code) => setImmediate(() => resolve({ code, stdout, stderr })));
  });
  return { child, done, out: () => stdout };
}

async function waitFor(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const stateOf = (delegate: string, id: string): { status: string; bundle: string; pid?: number; annotations?: Record<string, string> } | undefined => {
  const r = hy(delegate, ['state', id]);
  return r.status === 0 ? JSON.parse(r.stdout) : undefined;
};

/** Forced delete that never throws: every test ends with it, also on failure. */
const destroy = (delegate: string, id: string): void => {
  try {
    hy(delegate, ['delete', '--force', id]);
  } catch {
    // best effort
  }
};

/** `hyrun create` + `start` with the container's output going to a file (a pipe would keep spawnSync waiting). */
function createStarted(delegate: string, b: Bundle, id: string): { log: string } {
  const log = join(b.dir, `${id}.log`);
  const fd = openSync(log, 'w');
  try {
    const c = run(hyrunBin, ['--root', root, '--delegate', delegate, 'create', '--bundle', b.dir, id], { env, stdio: ['ignore', fd, fd], timeout: 120_000 });
    assert.equal(c.status, 0, `create failed: ${readFileSync(log, 'utf8')}`);
  } finally {
    closeSync(fd);
  }
  const s = hy(delegate, ['start', id]);
  assert.equal(s.status, 0, `start failed: ${s.stderr}`);
  return { log };
}

for (const delegate of ['crun', 'runc']) {
  describe(`Wasm containers with ${delegate}`, () => {
    before(() => {
      assert.ok(existsSync(probe), `${probe} missing: run npm run guests`);
    });

    test('hello: output and exit 0; proc_exit 42 -> 42; user config.json byte-identical', () => {
      const b = makeBundle(delegate, () => {});
      const before = sha(b.configPath);
      const id = `ctr-hello-${delegate}-${process.pid}`;
      try {
        const r = hy(delegate, ['run', '--bundle', b.dir, id]);
        assert.equal(r.stderr, '');
        assert.equal(r.stdout, 'hello from a wasm container\n');
        assert.equal(r.status, 0);
        const b42 = makeBundle(delegate, (c) => (c.process!.args = ['/probe.wasm', 'exit', '42']));
        const r42 = hy(delegate, ['run', '--bundle', b42.dir, `${id}-42`]);
        assert.equal(r42.status, 42, r42.stderr);
        assert.equal(sha(b.configPath), before);
      } finally {
        destroy(delegate, id);
        destroy(delegate, `${id}-42`);
      }
    });

    test('a .wat module runs (wabt ships in the runtime dir), a trap gives 134; a config written as ociVersion 1.2.0 is accepted', () => {
      const wat = [
        '(module',
        '  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))',
        '  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))',
        '  (memory (export "memory") 1)',
        '  (data (i32.const 16) "hello from wat\\n")',
        '  (func (export "_start")',
        '    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 15))',
        '    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))',
        '    (call $exit (i32.const 5))))',
      ].join('\n');
      const b = makeBundle(delegate, (c) => {
        c.ociVersion = '1.2.0'; // what newer tools write; crun 1.8.1 refuses it as is
        c.process!.args = ['/hi.wat'];
      }, { 'hi.wat': wat });
      const id = `ctr-wat-${delegate}-${process.pid}`;
      try {
        const r = hy(delegate, ['run', '--bundle', b.dir, id]);
        assert.equal(r.stdout, 'hello from wat\n', r.stderr);
        assert.equal(r.status, 5);
        assert.equal(JSON.parse(readFileSync(b.configPath, 'utf8')).ociVersion, '1.2.0');
        // A trap: 134 and one line on stderr, as the engine sees it.
        const trap = makeBundle(delegate, (c) => (c.process!.args = ['/trap.wat']), {
          'trap.wat': '(module (memory (export "memory") 1) (func (export "_start") unreachable))',
        });
        const t = hy(delegate, ['run', '--bundle', trap.dir, `${id}-trap`]);
        assert.equal(t.status, 134, t.stderr);
        assert.match(t.stderr, /^hyrun: wasm trap: .*unreachable/);
        assert.equal(t.stderr.trim().split('\n').length, 1, t.stderr);
      } finally {
        destroy(delegate, id);
        destroy(delegate, `${id}-trap`);
      }
    });

    test('the guest sees exactly process.args and process.env (node ignores NODE_OPTIONS from the image)', () => {
      const args = ['/probe.wasm', 'args', 'two words', '', 'ünïcode', '--flag=x'];
      const guestEnv = ['A=1', 'EMPTY=', 'WITH=EQ=UALS', 'NODE_OPTIONS=--no-such-node-flag', 'LANG=C.UTF-8'];
      const b = makeBundle(delegate, (c) => {
        c.process!.args = args;
        c.process!.env = guestEnv;
      });
      const id = `ctr-args-${delegate}-${process.pid}`;
      try {
        const r = hy(delegate, ['run', '--bundle', b.dir, id]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, [...args.map((a) => `arg ${a}`), ...guestEnv.map((e) => `env ${e}`)].join('\n') + '\n');
      } finally {
        destroy(delegate, id);
      }
    });

    test('a 300 KB environment reaches the guest intact (the spec is split under the 128 KiB per-string limit)', () => {
      const guestEnv = ['BIG1=' + 'a'.repeat(100_000), 'BIG2=' + 'b'.repeat(100_000), 'BIG3=' + 'c'.repeat(100_000), 'Z=end'];
      const b = makeBundle(delegate, (c) => {
        c.process!.args = ['/probe.wasm', 'args'];
        c.process!.env = guestEnv;
      });
      const id = `ctr-bigenv-${delegate}-${process.pid}`;
      try {
        const r = hy(delegate, ['run', '--bundle', b.dir, id]);
        assert.equal(r.status, 0, r.stderr.slice(0, 500));
        assert.ok(r.stdout === ['arg /probe.wasm', 'arg args', ...guestEnv.map((e) => `env ${e}`)].join('\n') + '\n', 'environment differs');
      } finally {
        destroy(delegate, id);
      }
    });

    test('the runtime dir is invisible to the guest: stat, open and listing of / all say absent', () => {
      const id = `ctr-hidden-${delegate}-${process.pid}`;
      const ids: string[] = [];
      try {
        const stat = makeBundle(delegate, (c) => (c.process!.args = ['/probe.wasm', 'stat', '/.hyrun', '/.hyrun/node', '/.hyrun/executor.cjs', '/probe.wasm']));
        ids.push(`${id}-stat`);
        const s = hy(delegate, ['run', '--bundle', stat.dir, `${id}-stat`]);
        assert.equal(s.status, 0, s.stderr);
        assert.equal(s.stdout, [
          '/.hyrun: absent (No such file or directory)',
          '/.hyrun/node: absent (No such file or directory)',
          '/.hyrun/executor.cjs: absent (No such file or directory)',
          '/probe.wasm: present',
        ].join('\n') + '\n');

        const cat = makeBundle(delegate, (c) => (c.process!.args = ['/probe.wasm', 'cat', '/.hyrun/executor.cjs']));
        ids.push(`${id}-cat`);
        const o = hy(delegate, ['run', '--bundle', cat.dir, `${id}-cat`]);
        assert.equal(o.stdout, 'cat failed: No such file or directory\n');
        assert.equal(o.status, 3);

        const ls = makeBundle(delegate, (c) => (c.process!.args = ['/probe.wasm', 'ls', '/']));
        ids.push(`${id}-ls`);
        const l = hy(delegate, ['run', '--bundle', ls.dir, `${id}-ls`]);
        assert.equal(l.status, 0, l.stderr);
        const names = l.stdout.trim().split('\n');
        assert.ok(names.includes('probe.wasm'), l.stdout);
        assert.ok(!names.includes('.hyrun'), `listing shows the runtime dir: ${l.stdout}`);
        // Nor through /proc's magic links to the executor's root and binary.
        const viaProc = makeBundle(delegate, (c) => (c.process!.args = ['/probe.wasm', 'stat', '/proc/1/root/.hyrun/node', '/proc/self/exe', '/proc/1/cwd/.hyrun']));
        ids.push(`${id}-proc`);
        const v = hy(delegate, ['run', '--bundle', viaProc.dir, `${id}-proc`]);
        assert.equal(v.status, 0, v.stderr);
        const lines = v.stdout.trim().split('\n');
        assert.equal(lines.length, 3, v.stdout);
        for (const line of lines) assert.match(line, /: absent \(/);
        // The module itself is never looked up in the runtime dir either.
        const direct = makeBundle(delegate, (c) => (c.process!.args = ['/.hyrun/executor.cjs']));
        ids.push(`${id}-direct`);
        const d = hy(delegate, ['run', '--bundle', direct.dir, `${id}-direct`]);
        assert.equal(d.status, 127, d.stderr);
      } finally {
        for (const i of ids) destroy(delegate, i);
      }
    });

    test('cwd: the module is found relative to process.cwd; file paths resolve from / (WASI p1 has no cwd)', () => {
      const b = makeBundle(delegate, (c) => {
        c.process!.cwd = '/app';
        c.process!.args = ['tool.wasm', 'cat', 'rel.txt'];
      }, { 'app/tool.wasm': readFileSync(probe), 'app/rel.txt': 'in /app\n', 'rel.txt': 'in /\n' });
      const id = `ctr-cwd-${delegate}-${process.pid}`;
      try {
        const r = hy(delegate, ['run', '--bundle', b.dir, id]);
        assert.equal(r.status, 0, r.stderr);
        // wasi-libc starts every program in "/" and strips the leading "/" before matching preopens,
        // so "rel.txt" and "/rel.txt" are the same request (docs/wasm-containers.md).
        assert.equal(r.stdout, 'in /\n');
      } finally {
        destroy(delegate, id);
      }
    });

    test('a bind-mounted volume is read and written by the guest; a read-only rootfs refuses writes; bundle unchanged', () => {
      const vol = join(scratch.path, `vol-${delegate}`);
      mkdirSync(vol, { recursive: true });
      writeFileSync(join(vol, 'in.txt'), 'from the host\n');
      const ids: string[] = [];
      const mount = { destination: '/data', type: 'bind', source: vol, options: ['rbind', 'rw'] };
      try {
        const rd = makeBundle(delegate, (c) => {
          c.mounts!.push(mount);
          c.process!.args = ['/probe.wasm', 'cat', '/data/in.txt'];
        });
        const cfgBefore = sha(rd.configPath);
        const modBefore = sha(join(rd.rootfs, 'probe.wasm'));
        ids.push(`ctr-vol-r-${delegate}-${process.pid}`);
        const r = hy(delegate, ['run', '--bundle', rd.dir, ids.at(-1)!]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, 'from the host\n');

        const wr = makeBundle(delegate, (c) => {
          c.mounts!.push(mount);
          c.process!.args = ['/probe.wasm', 'write', '/data/out.txt', 'written by wasm'];
        });
        ids.push(`ctr-vol-w-${delegate}-${process.pid}`);
        const w = hy(delegate, ['run', '--bundle', wr.dir, ids.at(-1)!]);
        assert.equal(w.stdout, 'write ok\n', w.stderr);
        assert.equal(readFileSync(join(vol, 'out.txt'), 'utf8'), 'written by wasm');

        const ro = makeBundle(delegate, (c) => {
          c.root!.readonly = true;
          c.process!.args = ['/probe.wasm', 'write', '/new.txt', 'x'];
        });
        ids.push(`ctr-ro-${delegate}-${process.pid}`);
        const o = hy(delegate, ['run', '--bundle', ro.dir, ids.at(-1)!]);
        assert.match(o.stdout, /^write failed: Read-only file system\n$/);
        assert.equal(o.status, 3);
        assert.ok(!existsSync(join(ro.rootfs, 'new.txt')));

        assert.equal(sha(rd.configPath), cfgBefore);
        assert.equal(sha(join(rd.rootfs, 'probe.wasm')), modBefore);
      } finally {
        for (const i of ids) destroy(delegate, i);
      }
    });

    test('linux.resources.memory.limit caps linear memory below the cgroup limit (grow fails, no OOM kill)', () => {
      const b = makeBundle(delegate, (c) => {
        c.linux!.resources = { ...(c.linux!.resources ?? {}), memory: { limit: 128 * MiB } };
        c.process!.args = ['/probe.wasm', 'grow', '512'];
      });
      const id = `ctr-mem-${delegate}-${process.pid}`;
      try {
        const r = hy(delegate, ['run', '--bundle', b.dir, id]);
        assert.equal(r.status, 0, `status ${r.status}: ${r.stderr}`);
        const m = /^grew to (\d+) MiB\n$/.exec(r.stdout);
        assert.ok(m, r.stdout);
        const got = Number(m[1]);
        assert.ok(got <= 64 && got >= 32, `linear memory reached ${got} MiB with a 128 MiB cgroup limit`);
      } finally {
        destroy(delegate, id);
      }
      // Without a limit the same guest gets all it asks for.
      const free = makeBundle(delegate, (c) => (c.process!.args = ['/probe.wasm', 'grow', '200']));
      try {
        const r = hy(delegate, ['run', '--bundle', free.dir, `${id}-free`]);
        assert.equal(r.stdout, 'grew to 200 MiB\n', r.stderr);
      } finally {
        destroy(delegate, `${id}-free`);
      }
    });

    // SIGUSR1 too: node would otherwise open its inspector (remote JS execution) instead of exiting.
    for (const [signal, status] of [['SIGTERM', 143], ['SIGKILL', 137], ['SIGUSR1', 138]] as const) {
      test(`kill ${signal} ends a busy-looping guest with ${status}`, async () => {
        const b = makeBundle(delegate, (c) => (c.process!.args = ['/probe.wasm', 'busy']));
        const id = `ctr-${signal.toLowerCase()}-${delegate}-${process.pid}`;
        const bg = runBackground(delegate, b, id);
        try {
          await waitFor('the guest to start looping', () => bg.out().includes('busy'));
          const k = hy(delegate, ['kill', id, signal]);
          assert.equal(k.status, 0, k.stderr);
          const r = await Promise.race([bg.done, sleep(60_000).then(() => null)]);
          assert.ok(r, `the container did not exit after ${signal}`);
          assert.equal(r.code, status, r.stderr);
          assert.doesNotMatch(r.stderr, /Debugger listening/);
        } finally {
          if (bg.child.exitCode === null) bg.child.kill('SIGKILL');
          destroy(delegate, id);
        }
      });
    }

    test('lifecycle: create/state/start/exec/kill/delete; state reports the user bundle; private bundle removed', async () => {
      const b = makeBundle(delegate, (c) => (c.process!.args = ['/probe.wasm', 'sleep', '600']), { 'tools/second.wasm': readFileSync(probe) });
      const before = sha(b.configPath);
      const id = `ctr-life-${delegate}-${process.pid}`;
      try {
        createStarted(delegate, b, id);
        assert.ok(existsSync(join(root, id, 'bundle', 'config.json')), 'private bundle missing');
        const st = stateOf(delegate, id);
        assert.equal(st?.status, 'running');
        assert.equal(st?.bundle, b.dir);
        assert.equal(st?.annotations?.['module.wasm.image/variant'], 'compat', 'state must show the user\'s annotations');

        // A second module in the same container: its output and exit status.
        const e1 = hy(delegate, ['exec', id, '/tools/second.wasm', 'hello']);
        assert.equal(e1.stdout, 'hello from a wasm container\n', e1.stderr);
        assert.equal(e1.status, 0);
        const e2 = hy(delegate, ['exec', id, '/tools/second.wasm', 'exit', '7']);
        assert.equal(e2.status, 7, e2.stderr);
        // The exec'd guest shares the container's filesystem view (and not the runtime dir).
        const e3 = hy(delegate, ['exec', id, '/probe.wasm', 'stat', '/tools/second.wasm', '/.hyrun']);
        assert.equal(e3.stdout, '/tools/second.wasm: present\n/.hyrun: absent (No such file or directory)\n', e3.stderr);
        // A bare module name is looked up from the exec's cwd (after PATH).
        const e6 = hy(delegate, ['exec', '--cwd', '/tools', id, 'second.wasm', 'exit', '3']);
        assert.equal(e6.status, 3, e6.stderr);
        // --process FILE, as containerd and CRI-O call it.
        const pfile = join(b.dir, 'exec-process.json');
        writeFileSync(pfile, JSON.stringify({ ...b.config.process, args: ['/tools/second.wasm', 'exit', '9'], env: ['X=1'] }));
        const e4 = hy(delegate, ['exec', '--process', pfile, id]);
        assert.equal(e4.status, 9, e4.stderr);
        // A missing module: one clear line, 127.
        const e5 = hy(delegate, ['exec', id, '/nope.wasm']);
        assert.equal(e5.status, 127);
        assert.match(e5.stderr, /\/nope\.wasm.*no such file/i);
        assert.equal(e5.stderr.trim().split('\n').length, 1, e5.stderr);

        assert.equal(hy(delegate, ['kill', id, 'SIGTERM']).status, 0);
        await waitFor('stopped', () => stateOf(delegate, id)?.status === 'stopped');
        const d = hy(delegate, ['delete', id]);
        assert.equal(d.status, 0, d.stderr);
        assert.ok(!existsSync(join(root, id)), 'state dir (with the private bundle) left behind');
        assert.equal(stateOf(delegate, id), undefined);
        assert.equal(sha(b.configPath), before, 'the user config.json changed');
      } finally {
        destroy(delegate, id);
      }
    });

    test('the sandbox settings apply: a non-root user, and a user namespace mapping root to 100000', () => {
      const ids: string[] = [];
      try {
        const user = makeBundle(delegate, (c) => {
          c.process!.user = { uid: 1000, gid: 1000 };
          c.process!.args = ['/probe.wasm', 'write', '/data/x', 'y'];
          c.root!.readonly = false;
          // Owned by root, mode 0755: uid 1000 may not write there.
          c.mounts!.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['mode=755', 'uid=0'] });
        });
        ids.push(`ctr-user-${delegate}-${process.pid}`);
        const u = hy(delegate, ['run', '--bundle', user.dir, ids.at(-1)!]);
        assert.equal(u.stdout, 'write failed: Permission denied\n', u.stderr);
        assert.equal(u.status, 3);

        const userns = makeBundle(delegate, (c) => {
          c.process!.args = ['/probe.wasm', 'hello'];
          c.linux!.namespaces = [...(c.linux!.namespaces ?? []), { type: 'user' }];
          c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          // A new user namespace may not mount sysfs or cgroupfs of the host's network/cgroup namespace.
          c.mounts = c.mounts!.filter((m) => m.type !== 'cgroup' && m.destination !== '/sys');
        });
        // As engines do for user-namespaced containers: the image belongs to the mapped root.
        for (const p of [userns.rootfs, join(userns.rootfs, 'probe.wasm')]) chownSync(p, 100000, 100000);
        ids.push(`ctr-userns-${delegate}-${process.pid}`);
        const n = hy(delegate, ['run', '--bundle', userns.dir, ids.at(-1)!]);
        assert.equal(n.stdout, 'hello from a wasm container\n', n.stderr);
        assert.equal(n.status, 0);
      } finally {
        for (const i of ids) destroy(delegate, i);
      }
    });

    test('rootless: an unprivileged user runs a Wasm container (runtime dir in its own data dir, copied)', () => {
      const uid = 1000;
      const home = join(scratch.path, `home-${delegate}`);
      const b = makeBundle(delegate, (c) => {
        c.linux!.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
        c.linux!.gidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
      });
      // A rootless config, as `<delegate> spec --rootless` writes it, with the probe as process.
      const specDir = join(scratch.path, `rootless-spec-${delegate}`);
      mkdirSync(specDir);
      const r0 = run(delegate, ['spec', '--rootless'], { cwd: specDir, timeout: 30_000 });
      assert.equal(r0.status, 0, r0.stderr);
      const rootless = JSON.parse(readFileSync(join(specDir, 'config.json'), 'utf8')) as OciSpec;
      rootless.process = { ...rootless.process!, terminal: false, args: ['/probe.wasm', 'hello'] };
      rootless.annotations = { 'module.wasm.image/variant': 'compat' };
      rootless.linux!.uidMappings = b.config.linux!.uidMappings;
      rootless.linux!.gidMappings = b.config.linux!.gidMappings;
      writeFileSync(b.configPath, JSON.stringify(rootless, null, '\t'));
      mkdirSync(home, { recursive: true });
      for (const p of [home, b.dir, b.rootfs, join(b.rootfs, 'probe.wasm'), b.configPath]) chownSync(p, uid, uid);
      const id = `ctr-rootless-${delegate}-${process.pid}`;
      try {
        const r = run('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'env', `HOME=${home}`, `XDG_RUNTIME_DIR=${home}`,
          hyrunBin, '--root', join(home, 'state'), '--delegate', delegate, 'run', '--bundle', b.dir, id],
        { env: { PATH: process.env.PATH }, timeout: 120_000 });
        assert.equal(r.stdout, 'hello from a wasm container\n', r.stderr);
        assert.equal(r.status, 0);
        const cache = join(home, '.local/share/hyrun');
        const dirs = readdirSync(cache).filter((n) => n.startsWith('runtime-'));
        assert.equal(dirs.length, 1);
        // node could not be hard-linked from /usr/bin (root's file): a private copy, linked in.
        assert.ok(readdirSync(join(cache, 'files')).some((n) => n.endsWith('-node')));
        assert.equal(statSync(join(cache, dirs[0]!, 'node')).nlink, 2);
        assert.ok(readdirSync(join(home, 'state')).every((n) => n.startsWith('@')), 'container state left behind');
      } finally {
        run(hyrunBin, ['--root', join(home, 'state'), '--delegate', delegate, 'delete', '--force', id], { env, timeout: 60_000 });
      }
    });

    test('exec of a Linux binary into a Wasm container runs it natively (a debug shell)', async () => {
      const b = makeBundle(delegate, (c) => (c.process!.args = ['/probe.wasm', 'sleep', '600']), { 'bin/busybox': readFileSync('/bin/busybox') });
      const id = `ctr-linexec-${delegate}-${process.pid}`;
      try {
        createStarted(delegate, b, id);
        const e = hy(delegate, ['exec', id, '/bin/busybox', 'echo', 'native side']);
        assert.equal(e.stdout, 'native side\n', e.stderr);
        assert.equal(e.status, 0);
        // PID 1 of the container is the executor (node through the loader from the runtime dir); its
        // command line shows what the user ran, as tools (ps, podman top) display it.
        const p = hy(delegate, ['exec', id, '/bin/busybox', 'cat', '/proc/1/cmdline']);
        assert.match(p.stdout, /^\/probe\.wasm sleep 600\0*$/);
        const comm = hy(delegate, ['exec', id, '/bin/busybox', 'cat', '/proc/1/comm']);
        assert.equal(comm.stdout, 'probe.wasm\n');
      } finally {
        destroy(delegate, id);
      }
    });

    test('nothing in the image becomes code in the executor: /etc/ld.so.preload and /etc/ssl/openssl.cnf are ignored', () => {
      const so = join(scratch.path, `evil-${delegate}.so`);
      const src = join(scratch.path, 'evil.c');
      writeFileSync(src, '#include <unistd.h>\n__attribute__((constructor)) static void f(void) { write(2, "NATIVE CODE RAN\\n", 16); }\n');
      const cc = run('gcc', ['-shared', '-fPIC', '-o', so, src]);
      assert.equal(cc.status, 0, cc.stderr);
      const provider = ['nodejs_conf = init', 'openssl_conf = init', '[init]', 'providers = p', '[p]', 'evil = e', '[e]', 'module = /evil.so', 'activate = 1', ''].join('\n');
      // What a Wasm guest with a writable rootfs could write for the next exec or restart.
      const b = makeBundle(delegate, () => {}, { 'evil.so': readFileSync(so), 'etc/ld.so.preload': '/evil.so\n', 'etc/ssl/openssl.cnf': provider });
      const id = `ctr-planted-${delegate}-${process.pid}`;
      try {
        const r = hy(delegate, ['run', '--bundle', b.dir, id]);
        assert.doesNotMatch(r.stderr, /NATIVE CODE RAN/);
        assert.equal(r.stdout, 'hello from a wasm container\n', r.stderr);
        assert.equal(r.status, 0);
      } finally {
        destroy(delegate, id);
      }
    });

    test('bad entrypoints: an ELF binary is refused with 126, a missing module gives 127; nothing left behind', () => {
      const elf = makeBundle(delegate, (c) => (c.process!.args = ['/bin/true']), { 'bin/true': readFileSync('/bin/true') });
      const id = `ctr-bad-${delegate}-${process.pid}`;
      try {
        const r = hy(delegate, ['run', '--bundle', elf.dir, id]);
        assert.equal(r.status, 126, r.stderr);
        assert.match(r.stderr, /\/bin\/true is not a Wasm module: it is an ELF executable/);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.ok(!existsSync(join(root, id)));
        const missing = makeBundle(delegate, (c) => (c.process!.args = ['/missing.wasm']));
        const m = hy(delegate, ['run', '--bundle', missing.dir, `${id}-m`]);
        assert.equal(m.status, 127, m.stderr);
        assert.match(m.stderr, /missing\.wasm/);
        const bare = makeBundle(delegate, (c) => (c.process!.args = ['nothing.wasm']));
        const n = hy(delegate, ['run', '--bundle', bare.dir, `${id}-n`]);
        assert.equal(n.status, 127, n.stderr);
        assert.match(n.stderr, /nothing\.wasm \(looked in PATH=/);
        // An address-space limit the Wasm engine cannot live with: refused at create, one line.
        const as = makeBundle(delegate, (c) => (c.process!.rlimits = [...(c.process!.rlimits ?? []), { type: 'RLIMIT_AS', soft: 4 * 2 ** 30, hard: 4 * 2 ** 30 }]));
        const a = hy(delegate, ['run', '--bundle', as.dir, `${id}-as`]);
        assert.notEqual(a.status, 0);
        assert.match(a.stderr, /RLIMIT_AS .* too small for a Wasm container/);
        assert.equal(a.stderr.trim().split('\n').length, 1, a.stderr);
        const np = makeBundle(delegate, (c) => (c.linux!.resources = { ...(c.linux!.resources ?? {}), pids: { limit: 5 } }));
        const p = hy(delegate, ['run', '--bundle', np.dir, `${id}-np`]);
        assert.notEqual(p.status, 0);
        assert.match(p.stderr, /pids\.limit \(5\) is too small for a Wasm container/);
        assert.ok(readdirSync(root).every((e) => !e.startsWith(id)), `left behind: ${readdirSync(root).join(' ')}`);
      } finally {
        destroy(delegate, id);
        destroy(delegate, `${id}-m`);
        destroy(delegate, `${id}-n`);
        destroy(delegate, `${id}-as`);
        destroy(delegate, `${id}-np`);
      }
    });
  });
}
