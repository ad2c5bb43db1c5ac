// Housekeeping around Wasm containers, with the real delegates: old runtime directories are
// collected once no container uses them (never the current one, never one a container was created
// with, never one whose users are unknown), and `update --memory` of a running Wasm container says
// what the running guest keeps. Each test has its own HYRUN_CACHE_DIR: a collection must never
// touch another checkout's runtime directories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrunBin, run, tempDir, type Result } from '../helpers.js';
import type { OciSpec } from '../../src/oci/spec.js';
import { runtimeDirUsers } from '../../src/handlers/runtime-gc.js';
import { DELEGATES, lastLogLine, waitFor } from './fixtures/oci.js';

/** A FROM-scratch Wasm bundle: the module alone in the rootfs, config from `<delegate> spec`. */
function wasmBundle(dir: string, delegate: string, module: string, edit: (c: OciSpec) => void = () => {}): string {
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  copyFileSync(module, join(dir, 'rootfs', 'app.wasm'));
  const r = run(delegate, ['spec'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as OciSpec;
  config.process!.terminal = false;
  config.process!.args = ['/app.wasm'];
  config.annotations = { 'module.wasm.image/variant': 'compat' };
  edit(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

/** A runtime directory as an older build would have left it. */
function plantRuntimeDir(cache: string, key: string, users: 'unknown' | string[]): string {
  const dir = join(cache, `runtime-${key}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'loader'), 'ld-linux-x86-64.so.2\n');
  if (users !== 'unknown') {
    const u = join(cache, 'users', `runtime-${key}`);
    mkdirSync(u, { recursive: true });
    users.forEach((stateDir, i) => writeFileSync(join(u, `user${i}`), stateDir + '\n'));
  }
  return dir;
}

const d = DELEGATES.find((x) => x.path);

test('old runtime dirs are collected when no container uses them; in-use, unknown and current ones stay', { skip: !d && 'neither crun nor runc is installed', timeout: 180_000 }, () => {
  const t = tempDir('hyrun-gc-');
  chmodSync(t.path, 0o755);
  const cache = join(t.path, 'cache');
  const root = join(t.path, 'root');
  const env = { ...process.env, HYRUN_CACHE_DIR: cache };
  // No pipes: a created container holds the stdio it was given until it ends.
  const h = (args: string[]): Result => run(hyrunBin, ['--root', root, '--delegate', d!.path!, ...args], { env, stdio: 'ignore' });
  try {
    // A container of an older build, still there: its record names its runtime dir.
    const oldContainer = join(t.path, 'other-root', 'old-ctr');
    const inUse = plantRuntimeDir(cache, '00000000000000bb', [oldContainer]);
    mkdirSync(oldContainer, { recursive: true });
    writeFileSync(join(oldContainer, 'hyrun.json'), JSON.stringify({ id: 'old-ctr', handler: 'wasm', data: { runtimeDir: inUse } }));
    const unused = plantRuntimeDir(cache, '00000000000000aa', []);
    const goneUser = plantRuntimeDir(cache, '00000000000000dd', [join(t.path, 'other-root', 'deleted-long-ago')]);
    const unknown = plantRuntimeDir(cache, '00000000000000cc', 'unknown');

    const b = wasmBundle(join(t.path, 'b1'), d!.path!, guest('eng_hello'));
    let r = h(['create', '--bundle', b, 'gc-one']);
    assert.equal(r.status, 0);
    const current = readdirSync(cache).filter((n) => n.startsWith('runtime-') && !n.startsWith('runtime-00000000000000')).map((n) => join(cache, n));
    assert.equal(current.length, 1, readdirSync(cache).join(' '));
    assert.deepEqual(runtimeDirUsers(current[0]!), [join(root, 'gc-one')]);
    assert.deepEqual([existsSync(unused), existsSync(goneUser), existsSync(inUse), existsSync(unknown)], [false, false, true, true]);

    // The old container is deleted: the next create collects its dir. The current one stays.
    run('rm', ['-rf', oldContainer]);
    r = h(['create', '--bundle', b, 'gc-two']);
    assert.equal(r.status, 0);
    assert.deepEqual([existsSync(inUse), existsSync(unknown), existsSync(current[0]!)], [false, true, true]);
    assert.deepEqual(runtimeDirUsers(current[0]!).sort(), [join(root, 'gc-one'), join(root, 'gc-two')]);

    // Deleting unregisters; the current dir is never collected, even unused.
    assert.equal(h(['delete', '--force', 'gc-one']).status, 0);
    assert.equal(h(['delete', '--force', 'gc-two']).status, 0);
    assert.deepEqual(runtimeDirUsers(current[0]!), []);
    r = h(['create', '--bundle', b, 'gc-three']);
    assert.equal(r.status, 0);
    assert.equal(existsSync(current[0]!), true);
    // The lock is released after each create.
    assert.equal(existsSync(join(cache, '.gc.lock')), false);
  } finally {
    for (const id of ['gc-one', 'gc-two', 'gc-three']) h(['delete', '--force', id]);
    t.cleanup();
  }
});

test('update --memory of a running Wasm container: the cgroup changes, and one line says the guest keeps its cap until the next start', { skip: !d && 'neither crun nor runc is installed', timeout: 180_000 }, async () => {
  const t = tempDir('hyrun-upd-');
  chmodSync(t.path, 0o755);
  const root = join(t.path, 'root');
  const log = join(t.path, 'log.json');
  const env = { ...process.env, HYRUN_CACHE_DIR: join(t.path, 'cache') };
  const h = (args: string[], input?: string): Result =>
    run(hyrunBin, ['--root', root, '--delegate', d!.path!, '--log', log, '--log-format', 'json', ...args], { env, input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  const id = 'upd-busy';
  const MiB = 1 << 20;
  try {
    const b = wasmBundle(join(t.path, 'b'), d!.path!, guest('eng_busy'), (c) => {
      (c.linux as { resources?: unknown }).resources = { memory: { limit: 512 * MiB } };
    });
    const quiet = { env, stdio: 'ignore' as const };
    assert.equal(run(hyrunBin, ['--root', root, '--delegate', d!.path!, 'create', '--bundle', b, id], quiet).status, 0);
    assert.equal(h(['start', id]).status, 0);
    const pid = await waitFor('running', () => {
      const s = h(['state', id]);
      return s.status === 0 && JSON.parse(s.stdout).status === 'running' ? (JSON.parse(s.stdout).pid as number) : undefined;
    });
    const record = (): { data: { memoryLimit?: number } } => JSON.parse(readFileSync(join(root, id, 'hyrun.json'), 'utf8'));
    const capBefore = record().data.memoryLimit;
    assert.equal(capBefore, 448 * MiB);

    let r = h(['update', '--memory', String(256 * MiB), id]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    // Captured stderr (as an engine reads it): the bare line, no "hyrun: " (src/runtime/log.ts).
    assert.match(lines[0]!, new RegExp(`^warning: container ${id}: .*linear-memory cap \\(${capBefore} bytes\\) was fixed when it started; the new cap \\(${192 * MiB} bytes\\) applies from the next start`));
    const last = lastLogLine(log);
    assert.equal(last.level, 'warning');
    assert.equal(`warning: ${last.msg}`, lines[0]);
    // The delegate did update the cgroup (v1: memory.limit_in_bytes of the container's group).
    const memLine = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l)) ??
      readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
    assert.ok(memLine, 'the container has a memory cgroup');
    const path = memLine.split(':').slice(2).join(':');
    const v1 = join('/sys/fs/cgroup/memory', path, 'memory.limit_in_bytes');
    const file = existsSync(v1) ? v1 : join('/sys/fs/cgroup', path, 'memory.max');
    assert.equal(Number(readFileSync(file, 'utf8').trim()), 256 * MiB, file);
    // New exec processes get the new cap.
    assert.equal(record().data.memoryLimit, 192 * MiB);

    // The same through --resources on stdin (the shim's and CRI-O's form).
    r = h(['update', '--resources', '-', id], JSON.stringify({ memory: { limit: 384 * MiB } }));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /linear-memory cap \(201326592 bytes\) was fixed when it started/);
    assert.equal(record().data.memoryLimit, 320 * MiB);
    // An update that does not touch memory says nothing.
    r = h(['update', '--cpu-share', '512', id]);
    assert.deepEqual([r.status, r.stderr], [0, '']);
  } finally {
    h(['delete', '--force', id]);
    t.cleanup();
  }
});
