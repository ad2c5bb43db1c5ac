// The OCI command line as plain functions: flag parsing, signals, config validation, features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_FLAGS, GLOBAL_FLAGS, parseFlags } from '../../src/cli/oci/parse.js';
import { parseSignal } from '../../src/runtime/lifecycle.js';
import { loadBundle, validateId, versionAtLeast } from '../../src/oci/config.js';
import { delegateGlobalArgs, delegateInfo, delegateRoot } from '../../src/runtime/delegate.js';
import { fallbackFeatures, isFeatures, withHyrun } from '../../src/oci/features.js';
import { OciError } from '../../src/oci/errors.js';
import { tempDir } from '../helpers.js';

const throwsOci = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof OciError && re.test(e.message));

test('global flags stop at the command; both --flag value and --flag=value', () => {
  const g = parseFlags(['--root', '/r', '--log=/l.json', '--log-format', 'json', '--systemd-cgroup', 'create', '--bundle', 'b', 'id'], GLOBAL_FLAGS, { context: 'global', stopAtPositional: true });
  assert.deepEqual(g.flags, { root: '/r', log: '/l.json', 'log-format': 'json', 'systemd-cgroup': true });
  assert.deepEqual(g.positionals, ['create', '--bundle', 'b', 'id']);
  throwsOci(() => parseFlags(['--bogus', 'create'], GLOBAL_FLAGS, { context: 'global', stopAtPositional: true }), /unknown global flag --bogus/);
});

test('command flags: short aliases, booleans with =true/false, repeated values, missing value', () => {
  const c = parseFlags(['-b', '/b', '--pid-file=/p', '--no-pivot=false', '--no-new-keyring=true', 'id'], COMMAND_FLAGS.create!, { context: 'create' });
  assert.deepEqual(c.flags, { bundle: '/b', 'pid-file': '/p', 'no-pivot': false, 'no-new-keyring': true });
  assert.deepEqual(c.positionals, ['id']);
  const d = parseFlags(['id', '--force'], COMMAND_FLAGS.delete!, { context: 'delete' });
  assert.equal(d.flags.force, true, 'flags after the id are accepted for fixed-arity commands');
  const e = parseFlags(['-e', 'A=1', '--env=B=2', '-t', 'ctr', 'sh', '-c', 'echo --force'], COMMAND_FLAGS.exec!, { context: 'exec', stopAtPositional: true });
  assert.deepEqual(e.flags.env, ['A=1', 'B=2']);
  assert.deepEqual(e.positionals, ['ctr', 'sh', '-c', 'echo --force'], 'exec stops at the id: the command keeps its flags');
  assert.deepEqual(e.raw, ['--env=A=1', '--env=B=2', '--tty']);
  throwsOci(() => parseFlags(['--pid-file'], COMMAND_FLAGS.create!, { context: 'create' }), /needs a value/);
  throwsOci(() => parseFlags(['--frobnicate', 'id'], COMMAND_FLAGS.create!, { context: 'create' }), /^create: unknown flag --frobnicate/);
  throwsOci(() => parseFlags(['--detach=maybe', 'id'], COMMAND_FLAGS.run!, { context: 'run' }), /takes no value/);
});

test('signals: names with and without SIG, any case, numbers; default TERM; garbage refused', () => {
  assert.equal(parseSignal(undefined), 15);
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('SIGKILL'), 9);
  assert.equal(parseSignal('sigusr1'), 10);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('34'), 34);
  throwsOci(() => parseSignal('SIGNOPE'), /invalid signal "SIGNOPE"/);
  throwsOci(() => parseSignal('0'), /invalid signal/);
  throwsOci(() => parseSignal('65'), /invalid signal/);
});

test('container ids follow runc', () => {
  assert.equal(validateId('a-b_c.d+e', 'create'), 'a-b_c.d+e');
  throwsOci(() => validateId('a/b', 'create'), /invalid container id "a\/b"/);
  throwsOci(() => validateId('..', 'create'), /invalid container id/);
  throwsOci(() => validateId('@crun', 'create'), /invalid container id/);
  throwsOci(() => validateId(undefined, 'start'), /missing container id/);
});

test('config.json problems are one line naming the file and what to do', () => {
  const t = tempDir('hyrun-cfg-');
  try {
    const b = t.path;
    throwsOci(() => loadBundle(join(b, 'nope')), /bundle .*nope does not exist/);
    throwsOci(() => loadBundle(b), /config .*config.json does not exist/);
    writeFileSync(join(b, 'config.json'), '{\n  "ociVersion": "1.0.2",\n  "root": {"path": "rootfs"},,\n}');
    throwsOci(() => loadBundle(b), /is not valid JSON: .* at line 3 column \d+/);
    writeFileSync(join(b, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } } }));
    throwsOci(() => loadBundle(b), /"root.path" is missing/);
    writeFileSync(join(b, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', root: { path: 'rootfs' }, process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } } }));
    throwsOci(() => loadBundle(b), /rootfs .*rootfs \(root.path in .*\) does not exist/);
    mkdirSync(join(b, 'rootfs'));
    assert.equal(loadBundle(b).rootfs, join(b, 'rootfs'));
    writeFileSync(join(b, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', root: { path: 'rootfs' }, process: { args: [], cwd: '/', user: { uid: 0, gid: 0 } } }));
    throwsOci(() => loadBundle(b), /process.args/);
    writeFileSync(join(b, 'config.json'), '[]');
    throwsOci(() => loadBundle(b), /must be a JSON object|ociVersion/);
  } finally { t.cleanup(); }
});

test('versions compare numerically', () => {
  assert.ok(versionAtLeast('1.2.0', '1.2.0'));
  assert.ok(versionAtLeast('1.10.0', '1.2.0'));
  assert.ok(versionAtLeast('1.2.1-rc.1', '1.2.0'));
  assert.ok(!versionAtLeast('1.1.0', '1.2.0'));
  assert.ok(!versionAtLeast('1.0.2-dev', '1.2.0'));
});

test('delegate flags: own root per delegate, log passed on, cgroup manager translated for runc', () => {
  const crun = delegateInfo('/usr/bin/crun', 'crun');
  const runc = delegateInfo('/usr/sbin/runc', 'runc');
  assert.equal(delegateRoot('/run/hyrun', crun), '/run/hyrun/@crun');
  const o = { root: '/r', log: '/l', logFormat: 'json' as const, debug: false, systemdCgroup: false, cgroupManager: 'systemd' };
  assert.deepEqual(delegateGlobalArgs(o, crun), ['--root', '/r/@crun', '--log', '/l', '--log-format', 'json', '--cgroup-manager=systemd']);
  assert.deepEqual(delegateGlobalArgs(o, runc), ['--root', '/r/@runc', '--log', '/l', '--log-format', 'json', '--systemd-cgroup']);
  assert.deepEqual(delegateGlobalArgs({ ...o, log: undefined, logFormat: 'text', cgroupManager: 'disabled' }, runc), ['--root', '/r/@runc']);
  assert.deepEqual(delegateGlobalArgs({ ...o, log: undefined, cgroupManager: 'cgroupfs', debug: true, rootless: 'auto' }, runc),
    ['--root', '/r/@runc', '--log-format', 'json', '--debug', '--rootless=auto']);
});

test('features: hyrun adds its annotation and the detection keys as potentially unsafe', () => {
  const f = withHyrun({ ...fallbackFeatures('1.1.0'), potentiallyUnsafeConfigAnnotations: ['run.oci.'] });
  assert.ok(isFeatures(f));
  assert.equal(f.annotations?.['run.oci.hyrun.wasm'], 'true');
  for (const k of ['module.wasm.image/variant', 'run.oci.handler', 'io.kubernetes.cri.container-type', 'io.kubernetes.cri-o.ContainerType', 'run.oci.']) {
    assert.ok(f.potentiallyUnsafeConfigAnnotations?.includes(k), k);
  }
});

test('exec without --process: the container process with overrides, env merged by key (as runc)', async () => {
  const { processFromFlags, userView } = await import('../../src/runtime/lifecycle.js');
  const t = tempDir('hyrun-exec-');
  try {
    writeFileSync(join(t.path, 'config.json'), JSON.stringify({
      ociVersion: '1.0.2', root: { path: 'rootfs' },
      process: { terminal: true, consoleSize: { height: 1, width: 1 }, user: { uid: 0, gid: 0 }, args: ['init'], env: ['PATH=/bin', 'A=1'], cwd: '/', capabilities: { bounding: ['CAP_KILL'] } },
    }));
    const record = { id: 'x', delegate: '/usr/bin/crun', delegateKind: 'crun' as const, handler: 'linux' as const, bundle: t.path, created: '' };
    const flags = {
      args: ['sh', '-c', 'x'], detach: false, preserveFds: 0, tty: false, env: ['A=2', 'B=3'], cwd: '/tmp', user: '5:6',
      additionalGids: ['7'], caps: ['CAP_NET_ADMIN'], noNewPrivs: true, cgroup: [], ignorePaused: false,
    };
    const p = processFromFlags(record, flags);
    assert.deepEqual(p.args, ['sh', '-c', 'x']);
    assert.deepEqual(p.env, ['PATH=/bin', 'A=2', 'B=3']);
    assert.equal(p.terminal, false);
    assert.equal(p.consoleSize, undefined);
    assert.equal(p.cwd, '/tmp');
    assert.deepEqual(p.user, { uid: 5, gid: 6, additionalGids: [7] });
    assert.deepEqual(p.capabilities?.bounding, ['CAP_KILL', 'CAP_NET_ADMIN']);
    assert.equal(p.noNewPrivileges, true);
    throwsOci(() => processFromFlags(record, { ...flags, user: 'root' }), /invalid --user "root"/);
    const s = userView({ ociVersion: '1.0.0', id: 'x', status: 'running', pid: 3, bundle: '/run/hyrun/x/bundle' }, record);
    assert.equal(s.bundle, t.path);
    assert.equal(s.pid, 3);
  } finally { t.cleanup(); }
});

test('delegate choice: overrides must exist; kinds come from the binary name', async () => {
  const { resolveDelegate } = await import('../../src/runtime/delegate.js');
  throwsOci(() => resolveDelegate('/nonexistent'), /delegate runtime \/nonexistent not found or not executable/);
  throwsOci(() => resolveDelegate('/tmp'), /not found or not executable/);
  const r = resolveDelegate('runc');
  assert.equal(r.kind, 'runc');
  assert.ok(r.path.startsWith('/'));
  assert.match(r.version, /runc version/);
});

test('the JSON log line is what go-runc reads: level, msg, RFC 3339 time', async () => {
  const { Logger } = await import('../../src/runtime/log.js');
  const t = tempDir('hyrun-log-');
  const origWrite = process.stderr.write.bind(process.stderr);
  try {
    const file = join(t.path, 'log.json');
    process.stderr.write = (() => true) as typeof process.stderr.write;
    new Logger(file, 'json', false).error('container "x" does not exist');
    new Logger(file, 'json', false).debug('not written without --debug');
    process.stderr.write = origWrite;
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    const l = JSON.parse(lines[0]!);
    assert.equal(l.level, 'error');
    assert.equal(l.msg, 'container "x" does not exist');
    assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  } finally {
    process.stderr.write = origWrite;
    t.cleanup();
  }
});
