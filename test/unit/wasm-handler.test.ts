// The Wasm handler's pure parts: runtime directory, private config, exec rewriting, memory cap.
// (The end-to-end behaviour inside real crun/runc containers is in test/e2e/wasm-container.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, repoRoot } from '../helpers.js';
import {
  executorSpec, linearMemoryCap, privateConfig, specEnv, wasmHandler, type ContainerSpec,
} from '../../src/handlers/wasm.js';
import { defaultCacheDir, ensureRuntimeDir, executorCommand, parseLdd, patchLoader } from '../../src/handlers/runtime-dir.js';
import { RUNTIME_MOUNT, SPEC_ENV } from '../../src/wasm/engine.js';
import { ociVersionFor } from '../../src/oci/config.js';
import type { OciSpec } from '../../src/oci/spec.js';
import type { ContainerRecord, DelegateInfo } from '../../src/handlers/types.js';

const crun: DelegateInfo = { path: '/usr/bin/crun', kind: 'crun', version: 'crun version 1.8.1' };
const runc: DelegateInfo = { path: '/usr/sbin/runc', kind: 'runc', version: 'runc version 1.1.5+ds1' };

function userConfig(): OciSpec {
  return {
    ociVersion: '1.2.0',
    process: {
      terminal: false, user: { uid: 1000, gid: 1000 }, args: ['/app.wasm', 'a b', ''], env: ['PATH=/bin', 'SECRET=x=y'],
      cwd: '/work', capabilities: { bounding: ['CAP_KILL'] }, noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'h',
    mounts: [{ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rw'] }],
    annotations: { 'module.wasm.image/variant': 'compat', 'run.oci.handler': 'wasm', 'io.example/keep': 'yes' },
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }], resources: { memory: { limit: 256 * 1024 * 1024 } }, maskedPaths: ['/proc/kcore'] },
    hooks: { prestart: [{ path: '/bin/true' }] },
  };
}

/** Reassembles the spec the way executor-main does (SPEC_ENV, SPEC_ENV_1, …, in order). */
const decodeSpec = (all: string[] | undefined): ContainerSpec => {
  // The executor's own setting beside the spec (wrapProcess): one malloc arena.
  const env = (all ?? []).filter((e) => e !== 'MALLOC_ARENA_MAX=1');
  assert.ok(env.length >= 1);
  const b64 = env.map((e, i) => {
    const name = i === 0 ? SPEC_ENV : `${SPEC_ENV}_${i}`;
    assert.ok(e.startsWith(`${name}=`), `unexpected env entry ${e.slice(0, 40)}`);
    assert.ok(Buffer.byteLength(e) < 128 * 1024, 'an env string over MAX_ARG_STRLEN');
    return e.slice(name.length + 1);
  }).join('');
  return JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as ContainerSpec;
};

test('parseLdd finds the loader and every resolved library, skipping the vDSO', () => {
  const out = [
    '\tlinux-vdso.so.1 (0x00007ffd)',
    '\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f4df2908000)',
    '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f4df23fe000)',
    '\t/lib64/ld-linux-x86-64.so.2 (0x00007f4df2921000)',
  ].join('\n');
  assert.deepEqual(parseLdd(out), {
    loader: '/lib64/ld-linux-x86-64.so.2',
    libs: ['/lib/x86_64-linux-gnu/libdl.so.2', '/lib/x86_64-linux-gnu/libc.so.6'],
  });
  assert.throws(() => parseLdd('\tlibfoo.so => not found\n\t/lib64/ld.so (0x1)'), /missing/);
  assert.throws(() => parseLdd('\tstatically linked'), /loader/);
});

test('linear memory cap leaves room for node, never below one page, none without a limit', () => {
  const MiB = 1 << 20;
  assert.equal(linearMemoryCap(undefined), undefined);
  assert.equal(linearMemoryCap(-1), undefined);
  assert.equal(linearMemoryCap(0), undefined);
  assert.equal(linearMemoryCap(1024 * MiB), 960 * MiB);
  assert.equal(linearMemoryCap(128 * MiB), 64 * MiB);
  assert.equal(linearMemoryCap(64 * MiB), 32 * MiB);
  assert.equal(linearMemoryCap(100_000), 65536);
  assert.equal(linearMemoryCap(1000 * MiB + 12345)! % 65536, 0);
});

test('ociVersion is lowered only for crun older than 1.14.3 and only when too new', () => {
  assert.equal(ociVersionFor('1.2.0', crun), '1.1.0');
  assert.equal(ociVersionFor('1.1.1', crun), '1.1.0');
  assert.equal(ociVersionFor('1.1.0', crun), '1.1.0');
  assert.equal(ociVersionFor('1.0.2-dev', crun), '1.0.2-dev');
  assert.equal(ociVersionFor('1.2.0', runc), '1.2.0');
  // crun dropped its version check in 1.14.3; releases before it still refuse 1.2 configs.
  assert.equal(ociVersionFor('1.2.0', { kind: 'crun', version: 'crun version 1.14.3' }), '1.2.0');
  assert.equal(ociVersionFor('1.2.0', { kind: 'crun', version: 'crun version 1.14.2' }), '1.1.0');
  assert.equal(ociVersionFor('1.2.0', { kind: 'crun', version: 'crun version 1.9' }), '1.1.0');
  // The delegate's version costs a spawn: a config every crun accepts must not ask for it.
  const unasked = { kind: 'crun', get version(): string { throw new Error('version read'); } };
  assert.equal(ociVersionFor('1.0.2-dev', unasked), '1.0.2-dev');
});

test('private config of a component: its transpiled form mounted read-only inside the runtime mount; spec and record carry its digest', () => {
  const rt = { path: '/var/lib/hyrun/runtime-x', loader: 'ld-linux-x86-64.so.2' };
  const component = { dir: '/var/lib/hyrun/components/jco-transpile@0.15.0.g1/ab12', digest: 'ab12' };
  const { config, data } = privateConfig({ config: userConfig(), rootfs: '/b/rootfs', delegate: crun }, rt, component);
  assert.deepEqual(config.mounts!.slice(-2), [
    { destination: RUNTIME_MOUNT, type: 'bind', source: rt.path, options: ['rbind', 'ro', 'nosuid', 'nodev'] },
    { destination: `${RUNTIME_MOUNT}/component`, type: 'bind', source: component.dir, options: ['rbind', 'ro', 'nosuid', 'nodev'] },
  ]);
  assert.deepEqual(decodeSpec(config.process!.env).transpiled, { dir: `${RUNTIME_MOUNT}/component`, digest: 'ab12' });
  assert.equal(data.componentDigest, 'ab12');
  // An exec'd process of the same container is told the same.
  assert.deepEqual(executorSpec({ user: { uid: 0, gid: 0 }, cwd: '/', args: ['/app'] }, undefined, data.componentDigest).transpiled, { dir: `${RUNTIME_MOUNT}/component`, digest: 'ab12' });
  // A module's container has neither.
  const plain = privateConfig({ config: userConfig(), rootfs: '/b/rootfs', delegate: crun }, rt);
  assert.equal(decodeSpec(plain.config.process!.env).transpiled, undefined);
  assert.equal(plain.config.mounts!.at(-1)!.destination, RUNTIME_MOUNT);
  assert.equal(plain.data.componentDigest, undefined);
});

test('private config: executor as process, absolute root, runtime mount; everything else kept; user config untouched', () => {
  const user = userConfig();
  const before = JSON.stringify(user);
  const rt = { path: '/var/lib/hyrun/runtime-x', loader: 'ld-linux-x86-64.so.2' };
  const { config, data } = privateConfig({ config: user, rootfs: '/b/rootfs', delegate: crun }, rt);
  assert.equal(JSON.stringify(user), before, 'the user config object was modified');

  assert.equal(config.ociVersion, '1.1.0');
  assert.deepEqual(config.root, { path: '/b/rootfs', readonly: true });
  assert.deepEqual(config.process!.args, executorCommand(rt));
  assert.equal(config.process!.args![0], `${RUNTIME_MOUNT}/ld-linux-x86-64.so.2`);
  const spec = decodeSpec(config.process!.env);
  // Beside the spec, only the executor's malloc setting (wasm.ts wrapProcess).
  assert.deepEqual(config.process!.env!.filter((e) => !e.startsWith('HYRUN_EXECUTOR_SPEC')), ['MALLOC_ARENA_MAX=1']);
  assert.equal(spec.module, '/app.wasm');
  assert.deepEqual(spec.args, ['/app.wasm', 'a b', '']);
  assert.deepEqual(spec.env, ['PATH=/bin', 'SECRET=x=y']);
  assert.deepEqual(spec.preopens, [{ hostPath: '/', guestPath: '/' }]);
  assert.deepEqual(spec.hiddenPaths, [RUNTIME_MOUNT]);
  assert.equal(spec.memoryLimit, 192 * (1 << 20));
  assert.equal(data.memoryLimit, spec.memoryLimit);
  assert.equal(data.rootfs, '/b/rootfs');

  // Kept as the user wrote them.
  const { process: p, ...rest } = config;
  const { process: up, ...urest } = user;
  assert.deepEqual(p!.user, up!.user);
  assert.equal(p!.cwd, '/work');
  assert.deepEqual(p!.capabilities, up!.capabilities);
  assert.equal(p!.noNewPrivileges, true);
  assert.deepEqual(rest.mounts!.slice(0, -1), urest.mounts);
  assert.deepEqual(rest.mounts!.at(-1), { destination: RUNTIME_MOUNT, type: 'bind', source: rt.path, options: ['rbind', 'ro', 'nosuid', 'nodev'] });
  assert.deepEqual(rest.linux, urest.linux);
  assert.deepEqual(rest.hooks, urest.hooks);
  // Wasm annotations are not shown to the delegate (a Wasm-enabled crun would act on them); others stay.
  assert.deepEqual(rest.annotations, { 'io.example/keep': 'yes' });
  assert.equal(urest.annotations!['module.wasm.image/variant'], 'compat');
  assert.equal(rest.hostname, 'h');
});

test('private config refuses an address-space rlimit too small for the Wasm engine', () => {
  const rt = { path: '/x', loader: 'ld.so' };
  const small = userConfig();
  small.process!.rlimits = [{ type: 'RLIMIT_AS', soft: 4 * 2 ** 30, hard: 4 * 2 ** 30 }];
  assert.throws(() => privateConfig({ config: small, rootfs: '/r', delegate: runc }, rt), /RLIMIT_AS \(4294967296 bytes\) is too small/);
  const big = userConfig();
  big.process!.rlimits = [{ type: 'RLIMIT_AS', soft: 64 * 2 ** 30, hard: 64 * 2 ** 30 }, { type: 'RLIMIT_NOFILE', soft: 10, hard: 10 }];
  assert.doesNotThrow(() => privateConfig({ config: big, rootfs: '/r', delegate: runc }, rt));
});

test('private config refuses thread limits node cannot start under (it would hang, deaf to SIGTERM)', () => {
  const rt = { path: '/x', loader: 'ld.so' };
  const nproc = userConfig();
  nproc.process!.rlimits = [{ type: 'RLIMIT_NPROC', soft: 5, hard: 5 }];
  assert.throws(() => privateConfig({ config: nproc, rootfs: '/r', delegate: runc }, rt), /RLIMIT_NPROC \(5\) is too small/);
  const pids = userConfig();
  pids.linux!.resources = { pids: { limit: 10 } };
  assert.throws(() => privateConfig({ config: pids, rootfs: '/r', delegate: runc }, rt), /pids\.limit \(10\) is too small/);
  const ok = userConfig();
  ok.linux!.resources = { pids: { limit: 2048 } };
  ok.process!.rlimits = [{ type: 'RLIMIT_NPROC', soft: 4096, hard: 4096 }];
  assert.doesNotThrow(() => privateConfig({ config: ok, rootfs: '/r', delegate: runc }, rt));
  const unlimited = userConfig();
  unlimited.linux!.resources = { pids: { limit: -1 } };
  assert.doesNotThrow(() => privateConfig({ config: unlimited, rootfs: '/r', delegate: runc }, rt));
});

test('private config refuses an empty process.args and a user mount at the runtime path', () => {
  const rt = { path: '/x', loader: 'ld.so' };
  const noArgs = userConfig();
  noArgs.process!.args = [];
  assert.throws(() => privateConfig({ config: noArgs, rootfs: '/r', delegate: runc }, rt), /process\.args is empty/);
  const clash = userConfig();
  clash.mounts!.push({ destination: '/.hyrun/', type: 'tmpfs', source: 'tmpfs' });
  assert.throws(() => privateConfig({ config: clash, rootfs: '/r', delegate: runc }, rt), /reserved/);
});

test('prepare writes a private bundle under the state dir (0600) and refuses an ELF entrypoint with 126', async () => {
  const t = tempDir();
  try {
    const rootfs = join(t.path, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    copyFileSync('/bin/true', join(rootfs, 'bin/true'));
    const dist = fakeDist(t.path);
    const cache = join(t.path, 'cache');
    const stateDir = join(t.path, 'state');
    mkdirSync(stateDir);
    const prev = process.env.HYRUN_CACHE_DIR;
    process.env.HYRUN_CACHE_DIR = cache;
    try {
      const user = userConfig();
      const ctx = { id: 'c1', bundle: t.path, config: user, rootfs, stateDir, delegate: runc };
      // The handler finds the bundles next to its own module; give it the fake ones through the cache
      // by preparing the runtime dir first with the same key inputs.
      const rt = ensureRuntimeDir({ cacheDir: cache, distDir: dist });
      assert.ok(existsSync(join(rt.path, 'node')));
      const elf = userConfig();
      elf.process!.args = ['/bin/true'];
      await assert.rejects(wasmHandler.prepare({ ...ctx, config: elf }), (e: Error & { exitCode?: number }) => {
        assert.match(e.message, /\/bin\/true is not a Wasm module: it is an ELF executable/);
        assert.equal(e.exitCode, 126);
        return true;
      });
      if (!existsSync(join(repoRoot, 'dist/executor.cjs'))) return; // the real bundles are not built yet
      const out = await wasmHandler.prepare(ctx);
      assert.equal(out.bundle, join(stateDir, 'bundle'));
      const written = join(out.bundle, 'config.json');
      assert.equal(statSync(written).mode & 0o777, 0o600);
      const cfg = JSON.parse(readFileSync(written, 'utf8')) as OciSpec;
      assert.equal(cfg.root!.path, rootfs);
      assert.equal((out.data as { rootfs?: string }).rootfs, rootfs);
    } finally {
      if (prev === undefined) delete process.env.HYRUN_CACHE_DIR;
      else process.env.HYRUN_CACHE_DIR = prev;
    }
  } finally {
    t.cleanup();
  }
});

function fakeDist(dir: string): string {
  const dist = join(dir, 'dist');
  mkdirSync(dist, { recursive: true });
  writeFileSync(join(dist, 'executor.cjs'), `// fake executor ${dir}\n`);
  writeFileSync(join(dist, 'worker.cjs'), '// fake worker\n');
  writeFileSync(join(dist, 'executor-main.cjs'), '// fake executor bundle\n');
  writeFileSync(join(dist, 'worker-main.cjs'), '// fake worker bundle\n');
  writeFileSync(join(dist, 'http-worker.cjs'), '// fake HTTP serving thread\n');
  writeFileSync(join(dist, 'net-worker.cjs'), '// fake net thread bundle\n');
  return dist;
}

test('runtime dir: node, loader and libraries, world-readable, reused while inputs are unchanged', () => {
  const t = tempDir();
  try {
    const dist = fakeDist(t.path);
    const cache = join(t.path, 'cache');
    const a = ensureRuntimeDir({ cacheDir: cache, distDir: dist });
    assert.equal(a.loader, 'ld-linux-x86-64.so.2');
    for (const f of ['node', a.loader, 'executor.cjs', 'worker.cjs', 'http-worker.cjs', 'lib/libc.so.6', 'lib/libstdc++.so.6']) {
      assert.ok(existsSync(join(a.path, f)), `${f} missing from the runtime dir`);
      assert.ok((statSync(join(a.path, f)).mode & 0o004) !== 0, `${f} not world-readable`);
    }
    assert.equal(ensureRuntimeDir({ cacheDir: cache, distDir: dist }).path, a.path);
    // Code caches go along when the build made them (and a build that adds them gets a new dir).
    assert.ok(!existsSync(join(a.path, 'worker-main.cjs.cache')));
    writeFileSync(join(dist, 'worker-main.cjs.cache'), 'cache');
    writeFileSync(join(dist, 'executor-main.cjs.cache'), 'cache');
    const cached = ensureRuntimeDir({ cacheDir: cache, distDir: dist });
    assert.notEqual(cached.path, a.path);
    for (const f of ['executor-main.cjs', 'worker-main.cjs', 'executor-main.cjs.cache', 'worker-main.cjs.cache']) {
      assert.ok(existsSync(join(cached.path, f)), `${f} missing from the runtime dir`);
    }
    // No wabt beside this fake dist: a stub ends module lookup inside the runtime dir.
    const stub = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(join(a.path, 'node_modules/wabt/index.js'))})`], { encoding: 'utf8' });
    assert.notEqual(stub.status, 0);
    assert.match(stub.stderr, /wabt is not installed with hyrun/);
    writeFileSync(join(dist, 'executor.cjs'), '// rebuilt\n');
    const b = ensureRuntimeDir({ cacheDir: cache, distDir: dist });
    assert.notEqual(b.path, a.path, 'a new build must get a new runtime dir');
    assert.equal(readFileSync(join(b.path, 'executor.cjs'), 'utf8'), '// rebuilt\n');
  } finally {
    t.cleanup();
  }
});

test('runtime dir on another filesystem than node: one private copy, hard-linked by every build', { skip: !existsSync('/dev/shm') }, () => {
  const t = tempDir();
  const cache = mkdtempSync('/dev/shm/hyrun-test-cache-');
  try {
    const dist = fakeDist(t.path);
    const a = ensureRuntimeDir({ cacheDir: cache, distDir: dist });
    writeFileSync(join(dist, 'executor.cjs'), '// rebuilt\n');
    const b = ensureRuntimeDir({ cacheDir: cache, distDir: dist });
    assert.notEqual(a.path, b.path);
    const copies = readdirSync(join(cache, 'files')).filter((n) => n.endsWith('-node'));
    assert.equal(copies.length, 1, `copies of node: ${copies.join(' ')}`);
    assert.equal(statSync(join(b.path, 'node')).nlink, 3, 'node should be the store copy linked into both dirs');
    assert.equal(statSync(join(b.path, 'node')).ino, statSync(join(a.path, 'node')).ino);
  } finally {
    rmSync(cache, { recursive: true, force: true });
    t.cleanup();
  }
});

test('the loader copy reads no preload file from the image; the host loader is untouched', () => {
  const host = readFileSync('/lib64/ld-linux-x86-64.so.2');
  const patched = patchLoader(host);
  assert.equal(patched.length, host.length);
  assert.equal(patched.indexOf('/etc/ld.so.preload\0'), -1);
  assert.ok(patched.indexOf(`${RUNTIME_MOUNT}/no.preload\0`) > 0);
  assert.throws(() => patchLoader(Buffer.from('no such path here')), /exactly once/);
  assert.throws(() => patchLoader(Buffer.from('/etc/ld.so.preload\0 and /etc/ld.so.preload\0')), /exactly once/);
  const t = tempDir();
  try {
    const rt = ensureRuntimeDir({ cacheDir: join(t.path, 'cache'), distDir: fakeDist(t.path) });
    const loader = readFileSync(join(rt.path, rt.loader));
    assert.equal(loader.indexOf('/etc/ld.so.preload\0'), -1);
    assert.ok(existsSync(join(rt.path, 'openssl.cnf')));
    assert.ok(readFileSync('/lib64/ld-linux-x86-64.so.2').equals(host), 'the host loader changed');
    // The patched loader still runs node.
    const r = spawnSync(join(rt.path, rt.loader), ['--inhibit-cache', '--library-path', join(rt.path, 'lib'), join(rt.path, 'node'), '-e', 'console.log(1+1)'], { encoding: 'utf8' });
    assert.equal(r.stdout, '2\n', r.stderr);
  } finally {
    t.cleanup();
  }
});

test('runtime dir location: HYRUN_CACHE_DIR, /var/lib/hyrun for root, the user data dir otherwise', () => {
  assert.equal(defaultCacheDir({ HYRUN_CACHE_DIR: '/c' }, 0), '/c');
  assert.equal(defaultCacheDir({}, 0), '/var/lib/hyrun');
  assert.equal(defaultCacheDir({ HOME: '/home/u' }, 1000), '/home/u/.local/share/hyrun');
  assert.equal(defaultCacheDir({ HOME: '/home/u', XDG_DATA_HOME: '/x' }, 1000), '/x/hyrun');
  assert.equal(defaultCacheDir({}, 1000), '/tmp/hyrun-1000');
});

test('runtime dir: concurrent creators end up with one complete directory and no leftovers', async () => {
  const t = tempDir();
  try {
    const dist = fakeDist(t.path);
    const cache = join(t.path, 'cache');
    const mod = new URL('../../src/handlers/runtime-dir.js', import.meta.url).href;
    const code = `const m = await import(${JSON.stringify(mod)}); process.stdout.write(m.ensureRuntimeDir({ cacheDir: ${JSON.stringify(cache)}, distDir: ${JSON.stringify(dist)} }).path);`;
    const runOne = () => new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d));
      c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`creator exited ${code}`))));
    });
    const paths = await Promise.all([runOne(), runOne(), runOne(), runOne()]);
    assert.equal(new Set(paths).size, 1, `different dirs: ${paths.join(', ')}`);
    assert.deepEqual(readdirSync(cache), [paths[0]!.split('/').at(-1)]);
    assert.ok(existsSync(join(paths[0]!, 'loader')));
  } finally {
    t.cleanup();
  }
});

test('exec: a Wasm module is wrapped in the executor; a Linux binary or unknown name passes through', async () => {
  const t = tempDir();
  try {
    const rootfs = join(t.path, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    copyFileSync('/bin/true', join(rootfs, 'bin/true'));
    writeFileSync(join(rootfs, 'tool'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const record: ContainerRecord = {
      id: 'c', delegate: runc.path, delegateKind: 'runc', handler: 'wasm', bundle: '/b', created: '',
      data: { rootfs, runtimeDir: '/rt', loader: 'ld-linux-x86-64.so.2', memoryLimit: 1 << 24 },
    };
    const base = { user: { uid: 0, gid: 0 }, cwd: '/', env: ['PATH=/bin:/'], terminal: false };
    const exec = (args: string[]) => wasmHandler.prepareExec!({ record, stateDir: t.path, delegate: runc, process: { ...base, args } });

    const w = await exec(['/second.wasm', 'x']);
    assert.deepEqual(w.args, executorCommand({ loader: 'ld-linux-x86-64.so.2' }));
    const spec = decodeSpec(w.env);
    assert.deepEqual(spec.args, ['/second.wasm', 'x']);
    assert.deepEqual(spec.env, ['PATH=/bin:/']);
    assert.equal(spec.memoryLimit, 1 << 24);
    assert.equal(w.cwd, '/');

    const magic = await exec(['tool']); // found through PATH, Wasm by its magic bytes
    assert.equal(decodeSpec(magic.env).module, 'tool');

    assert.deepEqual((await exec(['/bin/true'])).args, ['/bin/true']);
    assert.deepEqual((await exec(['true'])).args, ['true']);
    assert.deepEqual((await exec(['nothing-here'])).args, ['nothing-here']);
  } finally {
    t.cleanup();
  }
});

test('a big environment is split over several variables, each under the kernel 128 KiB limit', () => {
  const big = ['HUGE=' + 'x'.repeat(300_000), 'B=2'];
  const env = specEnv(executorSpec({ user: { uid: 0, gid: 0 }, cwd: '/', args: ['m.wasm'], env: big }, undefined));
  assert.ok(env.length >= 4, `only ${env.length} variables`);
  assert.deepEqual(decodeSpec(env).env, big);
  assert.equal(specEnv(executorSpec({ user: { uid: 0, gid: 0 }, cwd: '/', args: ['m.wasm'], env: [] }, undefined)).length, 1);
});

test('executor spec: env and args exactly as given, root preopen, runtime dir hidden', () => {
  const s = executorSpec({ user: { uid: 0, gid: 0 }, cwd: '/', args: ['m.wasm'], env: [] }, undefined);
  // inContainer: the container's network namespace is the boundary, so wasi:sockets and outbound HTTP are allowed.
  assert.deepEqual(s, { module: 'm.wasm', args: ['m.wasm'], env: [], preopens: [{ hostPath: '/', guestPath: '/' }], hiddenPaths: ['/.hyrun'], inContainer: true });
});
