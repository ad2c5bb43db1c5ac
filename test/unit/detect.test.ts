// Detection rules (docs/detection.md), exhaustively: annotations, binary name, sandbox exclusion,
// and the smart modes' entrypoint resolution inside the rootfs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detect, resolveInRoot, resolveEntrypoint } from '../../src/handlers/detect.js';
import type { OciSpec } from '../../src/oci/spec.js';
import { tempDir } from '../helpers.js';

const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

function rootfs(): { path: string; cleanup: () => void } {
  const t = tempDir('hyrun-detect-');
  const r = t.path;
  for (const d of ['bin', 'app', 'usr/local/bin', 'etc']) mkdirSync(join(r, d), { recursive: true });
  writeFileSync(join(r, 'app/module'), WASM); // Wasm bytes, no suffix
  writeFileSync(join(r, 'app/plain.wasm'), 'not even wasm');
  writeFileSync(join(r, 'bin/sh'), '\x7fELF....');
  writeFileSync(join(r, 'usr/local/bin/tool'), WASM);
  symlinkSync('/app/module', join(r, 'bin/abs-link'));
  symlinkSync('../app/plain.wasm', join(r, 'bin/rel-link'));
  symlinkSync('../../../../../../../app/module', join(r, 'bin/escape-link')); // clamps at the rootfs top
  symlinkSync('loop-b', join(r, 'bin/loop-a'));
  symlinkSync('loop-a', join(r, 'bin/loop-b'));
  writeFileSync(join(r, 'etc/passwd'), 'root:x:0:0::/:/bin/sh\n');
  return t;
}

const cfg = (args: string[] | undefined, annotations?: Record<string, string | undefined>, env?: string[], cwd = '/'): OciSpec => ({
  ociVersion: '1.0.2',
  root: { path: 'rootfs' },
  process: { args, env: env ?? ['PATH=/usr/local/bin:/bin'], cwd, user: { uid: 0, gid: 0 } },
  ...(annotations ? { annotations: annotations as Record<string, string> } : {}),
});

const H = 'run.oci.handler';
const V = 'module.wasm.image/variant';

test('no annotation is Linux; plain hyrun', () => {
  const t = rootfs();
  try {
    assert.equal(detect({ config: cfg(['/app/module']), rootfs: t.path, invokedAs: 'hyrun' }).handler, 'linux');
    assert.equal(detect({ config: cfg(['x.wasm']), rootfs: t.path, invokedAs: 'hyrun' }).handler, 'linux');
  } finally { t.cleanup(); }
});

test('forced modes: run.oci.handler=wasm and variant=compat are Wasm whatever the entrypoint', () => {
  const t = rootfs();
  try {
    for (const a of [{ [H]: 'wasm' }, { [V]: 'compat' }]) {
      assert.equal(detect({ config: cfg(['/bin/sh'], a), rootfs: t.path, invokedAs: 'hyrun' }).handler, 'wasm');
      assert.equal(detect({ config: cfg(undefined, a), rootfs: t.path, invokedAs: 'hyrun' }).handler, 'wasm');
    }
  } finally { t.cleanup(); }
});

test('hyrun-wasm makes every non-sandbox container Wasm', () => {
  const t = rootfs();
  try {
    assert.equal(detect({ config: cfg(['/bin/sh']), rootfs: t.path, invokedAs: 'hyrun-wasm' }).handler, 'wasm');
    assert.equal(detect({ config: cfg(['/bin/sh'], { [H]: 'wasm-smart' }), rootfs: t.path, invokedAs: 'hyrun-wasm' }).handler, 'wasm');
  } finally { t.cleanup(); }
});

test('pod sandboxes are never Wasm (containerd and CRI-O keys), whatever else says so', () => {
  const t = rootfs();
  try {
    for (const sb of [{ 'io.kubernetes.cri.container-type': 'sandbox' }, { 'io.kubernetes.cri-o.ContainerType': 'sandbox' }]) {
      for (const extra of [{}, { [H]: 'wasm' }, { [V]: 'compat' }, { [H]: 'wasm-smart' }]) {
        const d = detect({ config: cfg(['/app/module'], { ...sb, ...extra }), rootfs: t.path, invokedAs: 'hyrun-wasm' });
        assert.equal(d.handler, 'linux', JSON.stringify({ sb, extra }));
      }
    }
    // A container (not sandbox) in a pod is still detected.
    const c = detect({ config: cfg(['/bin/sh'], { 'io.kubernetes.cri.container-type': 'container', [H]: 'wasm' }), rootfs: t.path, invokedAs: 'hyrun' });
    assert.equal(c.handler, 'wasm');
  } finally { t.cleanup(); }
});

test('smart modes: suffix, magic bytes, PATH, cwd, symlinks', () => {
  const t = rootfs();
  const smart = (args: string[] | undefined, env?: string[], cwd?: string) =>
    [{ [H]: 'wasm-smart' }, { [V]: 'compat-smart' }].map((a) => detect({ config: cfg(args, a, env, cwd), rootfs: t.path, invokedAs: 'hyrun' }).handler);
  try {
    assert.deepEqual(smart(['/bin/sh']), ['linux', 'linux']);
    assert.deepEqual(smart(['/missing.wasm']), ['wasm', 'wasm'], 'suffix alone is enough (as crun)');
    assert.deepEqual(smart(['hello.WAT']), ['wasm', 'wasm']);
    assert.deepEqual(smart(['/app/module']), ['wasm', 'wasm'], 'magic bytes without a suffix');
    assert.deepEqual(smart(['tool']), ['wasm', 'wasm'], 'found through PATH');
    assert.deepEqual(smart(['tool'], ['PATH=/bin']), ['linux', 'linux'], 'not on this PATH');
    assert.deepEqual(smart(['module'], ['PATH=/bin'], '/app'), ['wasm', 'wasm'], 'bare name relative to cwd');
    assert.deepEqual(smart(['./module'], undefined, '/app'), ['wasm', 'wasm']);
    assert.deepEqual(smart(['/bin/abs-link']), ['wasm', 'wasm'], 'absolute symlink resolved inside the rootfs');
    assert.deepEqual(smart(['/bin/rel-link']), ['wasm', 'wasm'], 'symlink target ends in .wasm');
    assert.deepEqual(smart(['/bin/escape-link']), ['wasm', 'wasm'], '.. clamps at the rootfs top');
    assert.deepEqual(smart(['/bin/loop-a']), ['linux', 'linux'], 'symlink loops are not followed forever');
    assert.deepEqual(smart(['/etc/passwd']), ['linux', 'linux']);
    assert.deepEqual(smart([]), ['linux', 'linux']);
    assert.deepEqual(smart(undefined), ['linux', 'linux']);
  } finally { t.cleanup(); }
});

test('run.oci.handler wins over the variant; other handler values are left to the delegate', () => {
  const t = rootfs();
  try {
    const d = (a: Record<string, string>) => detect({ config: cfg(['/bin/sh'], a), rootfs: t.path, invokedAs: 'hyrun' }).handler;
    assert.equal(d({ [H]: 'wasm-smart', [V]: 'compat' }), 'linux');
    assert.equal(d({ [H]: 'wasm', [V]: 'compat-smart' }), 'wasm');
    assert.equal(d({ [H]: 'krun' }), 'linux');
    assert.equal(d({ [H]: 'krun', [V]: 'compat' }), 'wasm');
    assert.equal(d({ [V]: 'something-else' }), 'linux');
    assert.equal(d({ [`${V}.foo`]: 'compat' }), 'linux', 'only the exact key counts');
  } finally { t.cleanup(); }
});

test('resolveInRoot never leaves the rootfs', () => {
  const t = rootfs();
  try {
    symlinkSync('/etc/../../../../etc/passwd', join(t.path, 'bin/dotdot'));
    assert.equal(resolveInRoot(t.path, '/bin/dotdot'), '/etc/passwd');
    assert.equal(resolveInRoot(t.path, '/../../bin/sh'), '/bin/sh');
    assert.equal(resolveInRoot(t.path, '/nope/x'), undefined);
    assert.equal(resolveInRoot(t.path, '/bin/loop-a'), undefined);
    const e = resolveEntrypoint(cfg(['/bin/abs-link']), t.path);
    assert.deepEqual(e, { guestPath: '/app/module', hostPath: join(t.path, 'app/module') });
  } finally { t.cleanup(); }
});
