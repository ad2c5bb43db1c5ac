// The sandboxed resolver on its own: real host trees in a temp dir, every refusal rule checked.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync, renameSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { resolve, SandboxRoot, MAX_SYMLINK_EXPANSIONS, type DirectoryAnchor } from '../../src/wasi/resolve.js';
import { WasiError } from '../../src/wasi/errors.js';
import { ERRNO } from '../../src/wasi/constants.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir('hyrun-resolve-');
after(tmp.cleanup);
// tmp/outside/secret  — must never be reachable
// tmp/box             — the preopen
const box = join(tmp.path, 'box');
mkdirSync(join(tmp.path, 'outside'));
writeFileSync(join(tmp.path, 'outside/secret'), 'secret');
mkdirSync(join(box, 'a/b'), { recursive: true });
mkdirSync(join(box, '.hyrun-runtime'));
writeFileSync(join(box, '.hyrun-runtime/exec'), 'x');
writeFileSync(join(box, 'a/file'), 'hello');
symlinkSync('b', join(box, 'a/to-b'));
symlinkSync('../file', join(box, 'a/b/up-file'));
symlinkSync('../outside/secret', join(box, 'rel-out'));
symlinkSync(join(tmp.path, 'outside/secret'), join(box, 'abs-out'));
symlinkSync('/', join(box, 'root-link'));
symlinkSync('../../outside', join(box, 'a/dir-out'));
symlinkSync('loop2', join(box, 'loop1'));
symlinkSync('loop1', join(box, 'loop2'));
symlinkSync('missing-target', join(box, 'dangling'));
symlinkSync('.hyrun-runtime', join(box, 'to-hidden'));
symlinkSync('a/', join(box, 'to-a-slash'));
// A chain of links each pointing to the next: long but legal until the limit.
for (let i = 0; i < MAX_SYMLINK_EXPANSIONS + 1; i++) symlinkSync(i === 0 ? 'a/file' : `chain${i - 1}`, join(box, `chain${i}`));

// A preopen the guest calls /data: the capability rules (no absolute targets, `..` bounded).
const root = new SandboxRoot(box, '/data', ['/data/.hyrun-runtime']);
/** What a directory descriptor opened on root-relative `rel` would carry. */
const anchor = (rel: string[]): DirectoryAnchor => {
  const st = lstatSync(join(box, ...rel), { bigint: true });
  return { rel, dev: st.dev, ino: st.ino, zone: 'data' };
};
const refuses = (path: string, errno: number, follow = true, create = false): void => {
  assert.throws(() => resolve(root, null, path, { follow, create }), (e: unknown) => {
    assert.ok(e instanceof WasiError, `expected WasiError for ${path}, got ${e}`);
    assert.equal(e.errno, errno, `errno for ${JSON.stringify(path)}`);
    return true;
  });
};

test('plain paths resolve to host paths inside the root', () => {
  const r = resolve(root, null, 'a/b', { follow: true });
  assert.equal(r.hostPath, join(box, 'a/b'));
  assert.deepEqual(r.rel, ['a', 'b']);
  assert.equal(r.name, 'b');
  assert.ok(r.stat?.isDirectory());
  const f = resolve(root, null, './a//./file', { follow: false });
  assert.equal(f.hostPath, join(box, 'a/file'));
  assert.ok(f.stat?.isFile());
});

test('missing last component resolves with stat null; missing intermediate is NOENT', () => {
  const r = resolve(root, null, 'a/new', { follow: true });
  assert.equal(r.stat, null);
  assert.equal(r.name, 'new');
  refuses('nope/new', ERRNO.NOENT);
  refuses('', ERRNO.NOENT);
});

test('absolute paths, NUL bytes and .. above the root are refused', () => {
  refuses('/etc/passwd', ERRNO.NOTCAPABLE);
  refuses('/', ERRNO.NOTCAPABLE);
  refuses('..', ERRNO.NOTCAPABLE);
  refuses('../outside/secret', ERRNO.NOTCAPABLE);
  refuses('a/../../outside/secret', ERRNO.NOTCAPABLE);
  refuses('a/b/../../..', ERRNO.NOTCAPABLE);
  refuses('a\0/file', ERRNO.INVAL);
  refuses('a/' + './'.repeat(3000) + 'file', ERRNO.NAMETOOLONG);
  // Just under the limit, a path of many components still resolves (and quickly).
  assert.equal(resolve(root, null, './'.repeat(2000) + 'a/file', { follow: false }).hostPath, join(box, 'a/file'));
});

test('.. inside the root works and names directories', () => {
  const r = resolve(root, null, 'a/b/..', { follow: false });
  assert.deepEqual(r.rel, ['a']);
  assert.equal(r.name, null);
  assert.equal(resolve(root, anchor(['a']), 'b/../file', { follow: false }).hostPath, join(box, 'a/file'));
  // Relative to a directory descriptor, `..` stops at that directory, not at the preopen.
  assert.throws(() => resolve(root, anchor(['a', 'b']), '../file', { follow: false }), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  assert.throws(() => resolve(root, anchor(['a', 'b']), 'up-file', { follow: true }), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  assert.deepEqual(resolve(root, null, '.', { follow: false }).rel, []);
});

test('symlinks are expanded by the resolver, inside the root only', () => {
  assert.equal(resolve(root, null, 'a/to-b', { follow: true }).hostPath, join(box, 'a/b'));
  assert.ok(resolve(root, null, 'a/to-b', { follow: false }).stat?.isSymbolicLink());
  assert.equal(resolve(root, null, 'a/b/up-file', { follow: true }).hostPath, join(box, 'a/file'));
  assert.equal(resolve(root, null, 'a/to-b/../file', { follow: false }).hostPath, join(box, 'a/file'));
  refuses('rel-out', ERRNO.NOTCAPABLE);
  refuses('abs-out', ERRNO.NOTCAPABLE);
  refuses('root-link', ERRNO.NOTCAPABLE);
  refuses('root-link/etc/passwd', ERRNO.NOTCAPABLE);
  refuses('a/dir-out/secret', ERRNO.NOTCAPABLE);
  refuses('rel-out/', ERRNO.NOTCAPABLE, false); // a trailing slash forces following
  refuses('root-link/.', ERRNO.NOTCAPABLE, false);
  // Not following the last component leaves the dangerous link itself, harmlessly.
  assert.ok(resolve(root, null, 'abs-out', { follow: false }).stat?.isSymbolicLink());
});

test('loops and over-long chains are LOOP; a dangling link names its missing target', () => {
  refuses('loop1', ERRNO.LOOP);
  refuses('loop1/x', ERRNO.LOOP, false);
  assert.equal(resolve(root, null, `chain${MAX_SYMLINK_EXPANSIONS - 1}`, { follow: true }).hostPath, join(box, 'a/file'));
  refuses(`chain${MAX_SYMLINK_EXPANSIONS}`, ERRNO.LOOP);
  const d = resolve(root, null, 'dangling', { follow: true });
  assert.equal(d.stat, null);
  assert.equal(d.hostPath, join(box, 'missing-target'));
});

test('trailing slashes require directories', () => {
  refuses('a/file/', ERRNO.NOTDIR);
  refuses('a/file/.', ERRNO.NOTDIR);
  const r = resolve(root, null, 'a/b/', { follow: false });
  assert.ok(r.mustBeDir && r.stat?.isDirectory());
  const s = resolve(root, null, 'to-a-slash', { follow: true });
  assert.ok(s.mustBeDir, 'a link whose text ends in / requires a directory');
  assert.equal(s.hostPath, join(box, 'a'));
});

test('hidden paths look absent, by any route, and cannot be created', () => {
  refuses('.hyrun-runtime', ERRNO.NOENT);
  refuses('.hyrun-runtime/exec', ERRNO.NOENT);
  refuses('a/../.hyrun-runtime/exec', ERRNO.NOENT);
  refuses('.hyrun-runtime/..', ERRNO.NOENT);
  refuses('to-hidden', ERRNO.NOENT);
  refuses('to-hidden/exec', ERRNO.NOENT);
  refuses('.hyrun-runtime', ERRNO.ACCES, false, true);
  // The hidden set is per guest path: under another preopen name the same tree is not hidden.
  const other = new SandboxRoot(box, '/other', ['/data/.hyrun-runtime']);
  assert.ok(resolve(other, null, '.hyrun-runtime/exec', { follow: true }).stat?.isFile());
  const nested = new SandboxRoot(box, '/data', ['/data/a/b']);
  assert.throws(() => resolve(nested, null, 'a/to-b', { follow: true }), (e: any) => e.errno === ERRNO.NOENT);
});

test('a guest root ("/"): absolute links restart at the root, `..` at the root is the root, nothing leads out', () => {
  const groot = new SandboxRoot(box, '/', ['/.hyrun-runtime']);
  const at = (path: string, base: DirectoryAnchor | null = null, follow = true) => resolve(groot, base, path, { follow });
  assert.deepEqual(at('root-link').rel, []);
  assert.equal(at('root-link').hostPath, box);
  assert.equal(at('root-link/a/file').hostPath, join(box, 'a/file'));
  assert.equal(at('..').hostPath, box);
  assert.equal(at('../../a/file').hostPath, join(box, 'a/file'));
  assert.equal(at('a/../../../a/file').hostPath, join(box, 'a/file'));
  // From a directory descriptor `..` may climb to the root (the guest holds the root anyway).
  assert.equal(at('../../a/file', anchor(['a', 'b'])).hostPath, join(box, 'a/file'));
  assert.equal(at('up-file', anchor(['a', 'b'])).hostPath, join(box, 'a/file'));
  // The host's absolute path means nothing inside: it is looked up under the root, where it is missing.
  assert.throws(() => at('abs-out'), (e: any) => e.errno === ERRNO.NOENT);
  assert.throws(() => at('rel-out'), (e: any) => e.errno === ERRNO.NOENT);
  // An absolute path given by the guest is still refused (wasi-libc makes paths relative to a preopen).
  assert.throws(() => at('/a/file'), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  // Chains of absolute links, to files and directories, resolve inside; hidden stays hidden.
  mkdirSync(join(box, 'links'), { recursive: true });
  symlinkSync('/a/file', join(box, 'links/abs-file'));
  symlinkSync('/a', join(box, 'links/abs-dir'));
  symlinkSync('/links/abs-dir/b/../file', join(box, 'links/abs-chain'));
  symlinkSync('/links/abs-chain', join(box, 'links/abs-chain2'));
  symlinkSync('/.hyrun-runtime/exec', join(box, 'links/abs-hidden'));
  assert.equal(at('links/abs-file').hostPath, join(box, 'a/file'));
  assert.equal(at('links/abs-dir/file').hostPath, join(box, 'a/file'));
  assert.equal(at('links/abs-chain2').hostPath, join(box, 'a/file'));
  assert.throws(() => at('links/abs-hidden'), (e: any) => e.errno === ERRNO.NOENT);
  assert.ok(at('links/abs-file', null, false).stat?.isSymbolicLink());
});

test('a container-style root (host "/" as guest "/"): paths map 1:1, procfs and sysfs are closed but for the informational files', () => {
  const container = new SandboxRoot('/', '/', ['/.hyrun']);
  const at = (path: string, follow = true) => resolve(container, null, path, { follow });
  const acces = (path: string, follow = true) => assert.throws(() => at(path, follow), (e: any) => e.errno === ERRNO.ACCES, path);
  assert.equal(at('etc/passwd').hostPath, '/etc/passwd');
  assert.equal(at('etc/../etc/./passwd').hostPath, '/etc/passwd');
  assert.deepEqual(at('.').rel, []);
  assert.equal(at('.').hostPath, '/');
  assert.equal(at('..').hostPath, '/');
  for (const p of ['proc/self/root/etc/passwd', 'proc/self/cwd', 'proc/self', 'proc/1/mem', 'proc/thread-self/../mem',
    'proc/self/mem', 'proc/kcore', 'proc/sysrq-trigger', 'proc/self/environ', 'proc/self/mountinfo', 'proc/sys/kernel/hostname',
    'sys/kernel', 'sys/fs/cgroup', 'proc/cpuinfo/', 'proc/cpuinfo/x']) acces(p);
  acces('proc/self/root', false);
  assert.throws(() => at('.hyrun/x'), (e: any) => e.errno === ERRNO.NOENT);
  const proc = at('proc');
  assert.equal(proc.zone, 'procRoot');
  assert.equal(at('sys').zone, 'closed');
  const info = at('proc/cpuinfo');
  assert.ok(info.stat?.isFile());
  assert.equal(info.parentZone, 'procRoot');
  assert.equal(at('etc/passwd').zone, 'data');
});

test('a directory descriptor is re-verified: moved or swapped for a symlink, it is NOENT, never followed', () => {
  mkdirSync(join(box, 'held/inner'), { recursive: true });
  const held = anchor(['held']);
  const inner = anchor(['held', 'inner']);
  assert.equal(resolve(root, held, 'inner', { follow: true }).hostPath, join(box, 'held/inner'));
  renameSync(join(box, 'held'), join(box, 'held-moved'));
  symlinkSync('../outside', join(box, 'held'));
  assert.throws(() => resolve(root, held, 'secret', { follow: true }), (e: any) => e.errno === ERRNO.NOENT);
  assert.throws(() => resolve(root, inner, 'x', { follow: true }), (e: any) => e.errno === ERRNO.NOENT);
  // A guest rename is reported to the root, which moves the anchors along.
  root.track(held);
  root.track(inner);
  root.moved(['held'], ['held-moved']);
  assert.deepEqual(inner.rel, ['held-moved', 'inner']);
  assert.equal(resolve(root, inner, '.', { follow: true }).hostPath, join(box, 'held-moved/inner'));
  root.untrack(held);
  root.untrack(inner);
  assert.ok(root.hidesBelow([]));
  assert.ok(!root.hidesBelow(['held-moved']));
});
