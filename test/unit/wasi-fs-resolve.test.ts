// The sandboxed resolver on its own: real host trees in a temp dir, every refusal rule checked.
// Results are held descriptors plus a name; the tests name the host file they reach through
// /proc/self/fd (a test's view, never the resolver's).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants, mkdirSync, openSync, readlinkSync, realpathSync, writeFileSync, symlinkSync, renameSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { resolve, SandboxRoot, MAX_SYMLINK_EXPANSIONS, type DirectoryAnchor, type Resolved, type ResolveOptions } from '../../src/wasi/resolve.js';
import { WasiError } from '../../src/wasi/errors.js';
import { ERRNO } from '../../src/wasi/constants.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir('hyrun-resolve-');
const held: number[] = [];
after(() => {
  for (const fd of held) closeSync(fd);
  tmp.cleanup();
});
const openDir = (path: string): number => {
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  held.push(fd);
  return fd;
};
const makeRoot = (host: string, guest: string, hidden: string[] = []): SandboxRoot => new SandboxRoot(openDir(host), host, guest, hidden);
/** The host path a result names (through its held directory), and releases it. */
const hostOf = (r: Resolved): string => {
  try {
    const dir = readlinkSync(`/proc/self/fd/${r.mount?.fd ?? r.dirFd}`);
    return r.name === null || r.mount !== undefined ? dir : join(dir, r.name);
  } finally {
    r.release();
  }
};
// tmp/outside/secret  — must never be reachable
// tmp/box             — the preopen
const box = join(tmp.path, 'box');
const boxReal = realpathSync(tmp.path) + '/box';
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
const root = makeRoot(box, '/data', ['/data/.hyrun-runtime']);
/** What a directory descriptor opened on root-relative `rel` would carry. */
const anchor = (rel: string[], from = box): DirectoryAnchor => {
  const fd = openDir(join(from, ...rel));
  const st = fstatSync(fd);
  return { rel, hostFd: fd, devNumber: st.dev, inoNumber: st.ino, zone: 'data', readOnly: false };
};
/** resolve() and where it leads on the host. */
const at = (r: SandboxRoot, base: DirectoryAnchor | null, path: string, options: ResolveOptions): string => hostOf(resolve(r, base, path, options));
const refuses = (path: string, errno: number, follow = true, create = false): void => {
  assert.throws(() => resolve(root, null, path, { follow, create }), (e: unknown) => {
    assert.ok(e instanceof WasiError, `expected WasiError for ${path}, got ${e}`);
    assert.equal(e.errno, errno, `errno for ${JSON.stringify(path)}`);
    return true;
  });
};

test('plain paths resolve to a held directory and a name inside the root', () => {
  const r = resolve(root, null, 'a/b', { follow: true });
  assert.deepEqual(r.rel, ['a', 'b']);
  assert.equal(r.name, 'b');
  assert.ok(r.stat?.isDirectory());
  assert.equal(hostOf(r), join(boxReal, 'a/b'));
  const f = resolve(root, null, './a//./file', { follow: false });
  assert.ok(f.stat?.isFile());
  assert.equal(hostOf(f), join(boxReal, 'a/file'));
});

test('missing last component resolves with stat null; missing intermediate is NOENT', () => {
  const r = resolve(root, null, 'a/new', { follow: true });
  assert.equal(r.stat, null);
  assert.equal(r.name, 'new');
  r.release();
  refuses('nope/new', ERRNO.NOENT);
  refuses('', ERRNO.NOENT);
});

test('absolute paths, NUL bytes, over-long paths (in bytes) and .. above the root are refused', () => {
  refuses('/etc/passwd', ERRNO.NOTCAPABLE);
  refuses('/', ERRNO.NOTCAPABLE);
  refuses('..', ERRNO.NOTCAPABLE);
  refuses('../outside/secret', ERRNO.NOTCAPABLE);
  refuses('a/../../outside/secret', ERRNO.NOTCAPABLE);
  refuses('a/b/../../..', ERRNO.NOTCAPABLE);
  refuses('a\0/file', ERRNO.INVAL);
  refuses('a/' + './'.repeat(3000) + 'file', ERRNO.NAMETOOLONG);
  // Measured in UTF-8 bytes: 4,089 UTF-16 units but 4,103 bytes is too long, never cut short.
  writeFileSync(join(box, '€€'), 'victim');
  refuses('./'.repeat(2041) + '€€€€€€€', ERRNO.NAMETOOLONG, false, true);
  refuses('./'.repeat(2041) + '€€€€€/../../..', ERRNO.NAMETOOLONG);
  // Just under the limit, a path of many components still resolves (and quickly).
  assert.equal(at(root, null, './'.repeat(2000) + 'a/file', { follow: false }), join(boxReal, 'a/file'));
});

test('.. inside the root works and names directories; a directory descriptor bounds it', () => {
  const r = resolve(root, null, 'a/b/..', { follow: false });
  assert.deepEqual(r.rel, ['a']);
  assert.equal(r.name, null);
  assert.equal(hostOf(r), join(boxReal, 'a'));
  assert.equal(at(root, anchor(['a']), 'b/../file', { follow: false }), join(boxReal, 'a/file'));
  // Relative to a directory descriptor, `..` stops at that directory, not at the preopen.
  assert.throws(() => resolve(root, anchor(['a', 'b']), '../file', { follow: false }), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  assert.throws(() => resolve(root, anchor(['a', 'b']), 'up-file', { follow: true }), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  const dot = resolve(root, null, '.', { follow: false });
  assert.deepEqual(dot.rel, []);
  dot.release();
});

test('symlinks are expanded by the resolver, inside the root only', () => {
  assert.equal(at(root, null, 'a/to-b', { follow: true }), join(boxReal, 'a/b'));
  const link = resolve(root, null, 'a/to-b', { follow: false });
  assert.ok(link.stat?.isSymbolicLink());
  link.release();
  assert.equal(at(root, null, 'a/b/up-file', { follow: true }), join(boxReal, 'a/file'));
  assert.equal(at(root, null, 'a/to-b/../file', { follow: false }), join(boxReal, 'a/file'));
  refuses('rel-out', ERRNO.NOTCAPABLE);
  refuses('abs-out', ERRNO.NOTCAPABLE);
  refuses('root-link', ERRNO.NOTCAPABLE);
  refuses('root-link/etc/passwd', ERRNO.NOTCAPABLE);
  refuses('a/dir-out/secret', ERRNO.NOTCAPABLE);
  refuses('rel-out/', ERRNO.NOTCAPABLE, false); // a trailing slash forces following
  refuses('root-link/.', ERRNO.NOTCAPABLE, false);
  // Not following the last component leaves the dangerous link itself, harmlessly.
  const abs = resolve(root, null, 'abs-out', { follow: false });
  assert.ok(abs.stat?.isSymbolicLink());
  abs.release();
});

test('loops and over-long chains are LOOP; a dangling link names its missing target', () => {
  refuses('loop1', ERRNO.LOOP);
  refuses('loop1/x', ERRNO.LOOP, false);
  assert.equal(at(root, null, `chain${MAX_SYMLINK_EXPANSIONS - 1}`, { follow: true }), join(boxReal, 'a/file'));
  refuses(`chain${MAX_SYMLINK_EXPANSIONS}`, ERRNO.LOOP);
  const d = resolve(root, null, 'dangling', { follow: true });
  assert.equal(d.stat, null);
  assert.equal(hostOf(d), join(boxReal, 'missing-target'));
});

test('trailing slashes require directories', () => {
  refuses('a/file/', ERRNO.NOTDIR);
  refuses('a/file/.', ERRNO.NOTDIR);
  const r = resolve(root, null, 'a/b/', { follow: false });
  assert.ok(r.mustBeDir && r.stat?.isDirectory());
  r.release();
  const s = resolve(root, null, 'to-a-slash', { follow: true });
  assert.ok(s.mustBeDir, 'a link whose text ends in / requires a directory');
  assert.equal(hostOf(s), join(boxReal, 'a'));
});

test('hidden paths look absent, by any route, and cannot be created', () => {
  refuses('.hyrun-runtime', ERRNO.NOENT);
  refuses('.hyrun-runtime/exec', ERRNO.NOENT);
  refuses('a/../.hyrun-runtime/exec', ERRNO.NOENT);
  refuses('.hyrun-runtime/..', ERRNO.NOENT);
  refuses('to-hidden', ERRNO.NOENT);
  refuses('to-hidden/exec', ERRNO.NOENT);
  refuses('.hyrun-runtime', ERRNO.ACCES, false, true);
  // Recognised by inode too: another name for the same directory (a bind mount, a rename by
  // someone else) leads nowhere.
  const hiddenFd = anchor(['.hyrun-runtime']);
  assert.throws(() => resolve(root, hiddenFd, '..', { follow: true }), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  // The hidden set is per guest path: under another preopen name the same tree is not hidden.
  const other = makeRoot(box, '/other', ['/data/.hyrun-runtime']);
  const r = resolve(other, null, '.hyrun-runtime/exec', { follow: true });
  assert.ok(r.stat?.isFile());
  r.release();
  const nested = makeRoot(box, '/data', ['/data/a/b']);
  assert.throws(() => resolve(nested, null, 'a/to-b', { follow: true }), (e: any) => e.errno === ERRNO.NOENT);
  // A hidden name whose directory does not exist yet is matched by its place once it does.
  const later = makeRoot(box, '/data', ['/data/made-later/x']);
  mkdirSync(join(box, 'made-later/x'), { recursive: true });
  assert.throws(() => resolve(later, null, 'made-later/x', { follow: true }), (e: any) => e.errno === ERRNO.NOENT);
});

test('a guest root ("/"): absolute links restart at the root, `..` at the root is the root, nothing leads out', () => {
  const groot = makeRoot(box, '/', ['/.hyrun-runtime']);
  const to = (path: string, base: DirectoryAnchor | null = null, follow = true): string => at(groot, base, path, { follow });
  const r = resolve(groot, null, 'root-link', { follow: true });
  assert.deepEqual(r.rel, []);
  assert.equal(hostOf(r), boxReal);
  assert.equal(to('root-link/a/file'), join(boxReal, 'a/file'));
  assert.equal(to('..'), boxReal);
  assert.equal(to('../../a/file'), join(boxReal, 'a/file'));
  assert.equal(to('a/../../../a/file'), join(boxReal, 'a/file'));
  // From a directory descriptor below the root, `..` may not climb above it (capability rules),
  // written or from a relative symlink; an absolute symlink restarts at the root.
  assert.throws(() => to('../../a/file', anchor(['a', 'b'])), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  assert.throws(() => to('up-file', anchor(['a', 'b'])), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  mkdirSync(join(box, 'd/nested'), { recursive: true });
  writeFileSync(join(box, 'd/nested/file'), 'n');
  symlinkSync('../..', join(box, 'd/nested/up2'));
  assert.throws(() => to('nested/../nested/../../d/nested/file', anchor(['d'])), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  assert.throws(() => to('nested/../../d/nested/file', anchor(['d'])), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  assert.throws(() => to('nested/up2/d', anchor(['d'])), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  assert.equal(to('nested/up2', anchor(['d']), false), join(boxReal, 'd/nested/up2'));
  assert.equal(to('nested/../nested/file', anchor(['d'])), join(boxReal, 'd/nested/file'));
  // The root's own descriptor, opened again (path_open of "."), is the root too.
  assert.equal(to('../a/file', anchor([])), join(boxReal, 'a/file'));
  // The host's absolute path means nothing inside: it is looked up under the root, where it is missing.
  assert.throws(() => to('abs-out'), (e: any) => e.errno === ERRNO.NOENT);
  assert.throws(() => to('rel-out'), (e: any) => e.errno === ERRNO.NOENT);
  // An absolute path given by the guest is still refused (wasi-libc makes paths relative to a preopen).
  assert.throws(() => to('/a/file'), (e: any) => e.errno === ERRNO.NOTCAPABLE);
  // Chains of absolute links, to files and directories, resolve inside; hidden stays hidden.
  mkdirSync(join(box, 'links'), { recursive: true });
  symlinkSync('/a/file', join(box, 'links/abs-file'));
  symlinkSync('/a', join(box, 'links/abs-dir'));
  symlinkSync('/links/abs-dir/b/../file', join(box, 'links/abs-chain'));
  symlinkSync('/links/abs-chain', join(box, 'links/abs-chain2'));
  symlinkSync('/.hyrun-runtime/exec', join(box, 'links/abs-hidden'));
  assert.equal(to('links/abs-file'), join(boxReal, 'a/file'));
  assert.equal(to('links/abs-dir/file'), join(boxReal, 'a/file'));
  assert.equal(to('links/abs-chain2'), join(boxReal, 'a/file'));
  assert.throws(() => to('links/abs-hidden'), (e: any) => e.errno === ERRNO.NOENT);
  // From a descriptor below the root, an absolute link restarts at the root all the same.
  assert.equal(to('abs-dir/file', anchor(['links'])), join(boxReal, 'a/file'));
  assert.equal(to('abs-dir/../../a/file', anchor(['links'])), join(boxReal, 'a/file'));
  const l = resolve(groot, null, 'links/abs-file', { follow: false });
  assert.ok(l.stat?.isSymbolicLink());
  l.release();
});

test('a container-style root (host "/" as guest "/"): paths map 1:1, procfs and sysfs are closed but for the informational files', () => {
  const container = makeRoot('/', '/', ['/.hyrun']);
  const to = (path: string, follow = true): string => at(container, null, path, { follow });
  const acces = (path: string, follow = true) => assert.throws(() => resolve(container, null, path, { follow }), (e: any) => e.errno === ERRNO.ACCES, path);
  assert.equal(to('etc/passwd'), '/etc/passwd');
  assert.equal(to('etc/../etc/./passwd'), '/etc/passwd');
  assert.equal(to('.'), '/');
  assert.equal(to('..'), '/');
  for (const p of ['proc/self/root/etc/passwd', 'proc/self/cwd', 'proc/self', 'proc/1/mem', 'proc/thread-self/../mem',
    'proc/self/mem', 'proc/kcore', 'proc/sysrq-trigger', 'proc/self/environ', 'proc/self/mountinfo', 'proc/sys/kernel/hostname',
    'sys/kernel', 'sys/fs/cgroup', 'proc/cpuinfo/', 'proc/cpuinfo/x']) acces(p);
  acces('proc/self/root', false);
  assert.throws(() => resolve(container, null, '.hyrun/x', { follow: true }), (e: any) => e.errno === ERRNO.NOENT);
  const zoneOf = (path: string): string => {
    const r = resolve(container, null, path, { follow: true });
    r.release();
    return r.zone;
  };
  assert.equal(zoneOf('proc'), 'procRoot');
  assert.equal(zoneOf('sys'), 'closed');
  const info = resolve(container, null, 'proc/cpuinfo', { follow: true });
  assert.ok(info.stat?.isFile());
  assert.equal(info.parentZone, 'procRoot');
  info.release();
  assert.equal(zoneOf('etc/passwd'), 'data');
});

test('a directory descriptor holds its directory: moved, or its name swapped for a symlink, lookups stay in it', () => {
  mkdirSync(join(box, 'held/inner'), { recursive: true });
  const heldDir = anchor(['held']);
  const inner = anchor(['held', 'inner']);
  assert.equal(at(root, heldDir, 'inner', { follow: true }), join(boxReal, 'held/inner'));
  renameSync(join(box, 'held'), join(box, 'held-moved'));
  symlinkSync('../outside', join(box, 'held'));
  // The old name now leads out: the descriptor does not follow it, it is still on held-moved.
  const secret = resolve(root, heldDir, 'secret', { follow: true });
  assert.equal(secret.stat, null);
  assert.equal(hostOf(secret), join(boxReal, 'held-moved/secret'));
  assert.equal(at(root, heldDir, 'inner', { follow: true }), join(boxReal, 'held-moved/inner'));
  assert.equal(at(root, inner, '.', { follow: true }), join(boxReal, 'held-moved/inner'));
  // A guest rename is reported to the root, which moves the anchors' bookkeeping along.
  root.track(heldDir);
  root.track(inner);
  root.moved(['held'], ['held-moved']);
  assert.deepEqual(inner.rel, ['held-moved', 'inner']);
  root.untrack(heldDir);
  root.untrack(inner);
  assert.ok(root.hidesBelow([]));
  assert.ok(!root.hidesBelow(['held-moved']));
});
