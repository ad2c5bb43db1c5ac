// Read-only preopens and preopens mounted below `/`, on the WASI host itself (imports called
// directly on a bare memory): every change through or under a read-only one is ROFS, reading
// works, fdstat advertises no write rights, and every way of naming a place (the volume's own
// preopen, `/` plus its path, `..`, a symlink in the root, a writable mount below a read-only
// one) reaches the same files under the same rule.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { WasiHost } from '../../src/wasi/host.js';
import { ERRNO, LOOKUPFLAGS, OFLAGS, RIGHTS } from '../../src/wasi/constants.js';
import { CHANGE_RIGHTS, DIRECTORY_INHERITING_RIGHTS, DIRECTORY_RIGHTS } from '../../src/wasi/directory.js';
import { FILE_RIGHTS, WRITE_RIGHTS } from '../../src/wasi/file.js';
import type { Preopen } from '../../src/wasi/context.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir('hyrun-wasi-ro-');
after(tmp.cleanup);

const PATH = 1024, PATH2 = 2048, OUT = 64, BUF = 4096, IOV = 128, NUM = 256;
const READ_FILE = RIGHTS.FD_READ | RIGHTS.FD_SEEK | RIGHTS.FD_FILESTAT_GET | RIGHTS.FD_FILESTAT_SET_TIMES;

function host(preopens: Preopen[]) {
  const h = new WasiHost({ args: [], env: [], preopens });
  const memory = new WebAssembly.Memory({ initial: 1 });
  h.context.bindMemory(memory);
  const bytes = new Uint8Array(memory.buffer);
  const dv = new DataView(memory.buffer);
  const w = h.imports as Record<string, (...a: any[]) => number>;
  const put = (p: string, at = PATH): number => {
    const b = Buffer.from(p);
    bytes.set(b, at);
    return b.length;
  };
  const open = (dirfd: number, p: string, oflags = 0, base = READ_FILE, inh = 0n): { errno: number; fd: number } => {
    const errno = w.path_open(dirfd, LOOKUPFLAGS.SYMLINK_FOLLOW, PATH, put(p), oflags, base, inh, 0, OUT);
    return { errno, fd: dv.getUint32(OUT, true) };
  };
  const fdstat = (fd: number) => {
    assert.equal(w.fd_fdstat_get(fd, OUT), 0);
    return { base: dv.getBigUint64(OUT + 8, true), inh: dv.getBigUint64(OUT + 16, true) };
  };
  const read = (fd: number): string => {
    dv.setUint32(IOV, BUF, true);
    dv.setUint32(IOV + 4, 200, true);
    assert.equal(w.fd_read(fd, IOV, 1, NUM), 0);
    return Buffer.from(bytes.subarray(BUF, BUF + dv.getUint32(NUM, true))).toString();
  };
  const write = (fd: number, text: string): number => {
    const b = Buffer.from(text);
    bytes.set(b, BUF);
    dv.setUint32(IOV, BUF, true);
    dv.setUint32(IOV + 4, b.length, true);
    return w.fd_write(fd, IOV, 1, NUM);
  };
  const mkdir = (dirfd: number, p: string): number => w.path_create_directory(dirfd, PATH, put(p));
  const unlink = (dirfd: number, p: string): number => w.path_unlink_file(dirfd, PATH, put(p));
  const rmdir = (dirfd: number, p: string): number => w.path_remove_directory(dirfd, PATH, put(p));
  const rename = (fd1: number, a: string, fd2: number, b: string): number => w.path_rename(fd1, PATH, put(a), fd2, PATH2, put(b, PATH2));
  const link = (fd1: number, a: string, fd2: number, b: string): number => w.path_link(fd1, 0, PATH, put(a), fd2, PATH2, put(b, PATH2));
  const symlink = (text: string, fd: number, p: string): number => w.path_symlink(PATH, put(text), fd, PATH2, put(p, PATH2));
  const times = (fd: number, p: string): number => w.path_filestat_set_times(fd, 0, PATH, put(p), 0n, 0n, 0b0101);
  return { h, w, open, fdstat, read, write, mkdir, unlink, rmdir, rename, link, symlink, times };
}

/** rootfs (with a decoy data/ the volume hides), a read-only volume, a writable one mounted inside it. */
function layout() {
  const base = join(tmp.path, `t${Math.random().toString(36).slice(2)}`);
  const root = join(base, 'root'), ro = join(base, 'ro'), rw = join(base, 'rw');
  mkdirSync(join(root, 'data', 'w'), { recursive: true });
  mkdirSync(join(root, 'tmp'));
  writeFileSync(join(root, 'data', 'in.txt'), 'decoy in the rootfs');
  writeFileSync(join(root, 'tmp', 'scratch'), 'scratch');
  symlinkSync('/data', join(root, 'ln'));
  mkdirSync(join(ro, 'sub', 'deep'), { recursive: true });
  mkdirSync(join(ro, 'w'));
  writeFileSync(join(ro, 'in.txt'), 'volume file');
  symlinkSync('/tmp', join(ro, 'to-tmp'));
  mkdirSync(rw);
  // Names and types below the volume, never following its links (to-tmp is absolute, for the guest).
  const walk = (dir: string, prefix = ''): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    [`${prefix}${e.name}:${e.isDirectory() ? 'd' : e.isSymbolicLink() ? 'l' : 'f'}`, ...(e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [])]);
  const snapshot = (): string => JSON.stringify(walk(ro).sort()) + readFileSync(join(ro, 'in.txt'), 'utf8');
  return { root, ro, rw, snapshot };
}

test('a read-only volume below `/`: reads work; every change, by any spelling, is ROFS; nothing changes', () => {
  const l = layout();
  const before = l.snapshot();
  // fd 3 = `/`, fd 4 = `/data` (read-only), fd 5 = `/data/w` (writable, below the read-only one).
  const t = host([{ hostPath: l.root, guestPath: '/' }, { hostPath: l.ro, guestPath: '/data', readOnly: true }, { hostPath: l.rw, guestPath: '/data/w' }]);

  // Rights: `/` has them all; `/data` advertises nothing that changes; `/data/w` has them all again.
  assert.equal(t.fdstat(3).base, DIRECTORY_RIGHTS);
  // `/data` holds a writable mount (`/data/w`), so it keeps directory rights; `/data/sub` has none.
  assert.equal(t.fdstat(4).base, DIRECTORY_RIGHTS);
  const sub0 = t.open(4, 'sub', OFLAGS.DIRECTORY, DIRECTORY_RIGHTS, DIRECTORY_INHERITING_RIGHTS);
  assert.equal(sub0.errno, 0);
  const ro = t.fdstat(sub0.fd);
  assert.equal(ro.base & CHANGE_RIGHTS, 0n);
  assert.equal(ro.inh & (CHANGE_RIGHTS | WRITE_RIGHTS), 0n);
  assert.equal(ro.base, DIRECTORY_RIGHTS & ~CHANGE_RIGHTS);
  assert.equal(t.mkdir(sub0.fd, 'x'), ERRNO.ROFS);
  assert.equal(t.w.fd_filestat_set_times(4, 0n, 0n, 0b0101), ERRNO.ROFS);
  assert.equal(t.fdstat(5).base, DIRECTORY_RIGHTS);
  assert.equal(t.fdstat(5).inh, DIRECTORY_INHERITING_RIGHTS);

  // The same file by the volume's preopen and through `/` (the volume, not the rootfs's decoy).
  for (const [fd, p] of [[4, 'in.txt'], [3, 'data/in.txt'], [3, './data/../data/in.txt'], [3, 'ln/in.txt']] as const) {
    const f = t.open(fd, p);
    assert.equal(f.errno, 0, `${fd} ${p}`);
    assert.equal(t.read(f.fd), 'volume file', `${fd} ${p}`);
    assert.equal(t.fdstat(f.fd).base & (WRITE_RIGHTS | RIGHTS.FD_FILESTAT_SET_TIMES), 0n, 'no write rights on a read-only file');
    assert.equal(t.write(f.fd, 'x'), ERRNO.ROFS);
    assert.equal(t.w.fd_pwrite(f.fd, IOV, 1, 0n, NUM), ERRNO.ROFS);
    assert.equal(t.w.fd_filestat_set_size(f.fd, 0n), ERRNO.ROFS);
    assert.equal(t.w.fd_allocate(f.fd, 0n, 10n), ERRNO.ROFS);
    assert.equal(t.w.fd_filestat_set_times(f.fd, 0n, 0n, 0b0101), ERRNO.ROFS);
    assert.equal(t.w.fd_close(f.fd), 0);
  }
  // Opening to write, truncating, creating.
  // A preopen other than `/` is a capability for its own subtree: `..` above it is NOTCAPABLE.
  assert.equal(t.open(5, '../in.txt').errno, ERRNO.NOTCAPABLE);
  for (const [fd, p] of [[4, 'in.txt'], [3, 'data/in.txt'], [3, 'ln/in.txt']] as const) {
    assert.equal(t.open(fd, p, 0, READ_FILE | RIGHTS.FD_WRITE).errno, ERRNO.ROFS, `${fd} ${p} for writing`);
    assert.equal(t.open(fd, p, OFLAGS.TRUNC).errno, ERRNO.ROFS, `${fd} ${p} TRUNC`);
    assert.equal(t.open(fd, p.replace('in.txt', 'new.txt'), OFLAGS.CREAT, FILE_RIGHTS).errno, ERRNO.ROFS);
    assert.equal(t.mkdir(fd, p.replace('in.txt', 'newdir')), ERRNO.ROFS);
    assert.equal(t.unlink(fd, p), ERRNO.ROFS);
    assert.equal(t.times(fd, p), ERRNO.ROFS);
    assert.equal(t.symlink('in.txt', fd, p.replace('in.txt', 'sl')), ERRNO.ROFS);
    assert.equal(t.link(fd, p, fd, p.replace('in.txt', 'hl')), ERRNO.ROFS);
    assert.equal(t.rename(fd, p, fd, p.replace('in.txt', 'moved')), ERRNO.ROFS);
  }
  assert.equal(t.rmdir(4, 'sub/deep'), ERRNO.ROFS);
  assert.equal(t.rmdir(3, 'data/sub/deep'), ERRNO.ROFS);
  // Moving in and out.
  assert.equal(t.rename(3, 'tmp/scratch', 4, 'scratch'), ERRNO.ROFS);
  assert.equal(t.rename(3, 'tmp/scratch', 3, 'data/scratch'), ERRNO.ROFS);
  assert.equal(t.rename(4, 'in.txt', 3, 'tmp/taken'), ERRNO.ROFS);
  assert.equal(t.rename(3, 'data/sub', 3, 'tmp/sub'), ERRNO.ROFS);
  assert.equal(t.link(3, 'tmp/scratch', 3, 'data/scratch'), ERRNO.ROFS);
  // A directory opened below the volume through `/` is read-only too.
  const sub = t.open(3, 'data/sub', OFLAGS.DIRECTORY, DIRECTORY_RIGHTS, DIRECTORY_INHERITING_RIGHTS);
  assert.equal(sub.errno, 0);
  assert.equal(t.fdstat(sub.fd).base & CHANGE_RIGHTS, 0n);
  assert.equal(t.mkdir(sub.fd, 'x'), ERRNO.ROFS);
  assert.equal(t.w.fd_filestat_set_times(sub.fd, 0n, 0n, 0b0101), ERRNO.ROFS);
  // The mount points themselves can be neither removed nor renamed.
  assert.equal(t.rmdir(3, 'data'), ERRNO.BUSY);
  assert.equal(t.rename(3, 'data', 3, 'tmp/data'), ERRNO.BUSY);
  assert.equal(t.rename(3, 'tmp', 3, 'data'), ERRNO.BUSY);
  assert.equal(t.rmdir(3, 'data/w'), ERRNO.BUSY);
  assert.equal(l.snapshot(), before, 'the read-only volume is unchanged');

  // A symlink in the read-only volume to the writable rootfs leads there, as in a kernel mount:
  // the file is not in the volume. The writable mount below it takes changes by either name.
  assert.equal(t.open(3, 'data/to-tmp/made-through-link', OFLAGS.CREAT, FILE_RIGHTS).errno, 0);
  assert.ok(existsSync(join(l.root, 'tmp', 'made-through-link')));
  // `/data` itself keeps its rights (a writable mount lies below it); a change is judged where it lands.
  assert.equal(t.open(4, 'to-tmp/made-through-data', OFLAGS.CREAT, FILE_RIGHTS).errno, 0);
  assert.ok(existsSync(join(l.root, 'tmp', 'made-through-data')));
  assert.equal(t.open(3, 'data/w/by-root', OFLAGS.CREAT, FILE_RIGHTS).errno, 0);
  assert.equal(t.mkdir(5, 'by-preopen'), 0);
  assert.deepEqual(readdirSync(l.rw).sort(), ['by-preopen', 'by-root']);
  assert.deepEqual(readdirSync(join(l.root, 'data', 'w')), [], 'not the rootfs directory under the mount');
  assert.equal(l.snapshot(), before);
  t.h.dispose();
});

test('a read-only preopen on its own (and `/` itself read-only with a writable volume in it)', () => {
  const l = layout();
  const before = l.snapshot();
  const t = host([{ hostPath: l.ro, guestPath: '/data', readOnly: true }]);
  assert.equal(t.fdstat(3).base, DIRECTORY_RIGHTS & ~CHANGE_RIGHTS);
  const f = t.open(3, 'in.txt');
  assert.equal(f.errno, 0);
  assert.equal(t.read(f.fd), 'volume file');
  assert.equal(t.open(3, 'in.txt', OFLAGS.TRUNC).errno, ERRNO.ROFS);
  assert.equal(t.open(3, 'in.txt', 0, READ_FILE | RIGHTS.FD_WRITE).errno, ERRNO.ROFS);
  assert.equal(t.open(3, 'new', OFLAGS.CREAT, FILE_RIGHTS).errno, ERRNO.ROFS);
  assert.equal(t.open(3, 'missing').errno, ERRNO.NOENT, 'a lookup is still a lookup');
  assert.equal(t.mkdir(3, 'sub'), ERRNO.ROFS, 'ROFS before EEXIST: the directory has no right to create');
  assert.equal(t.unlink(3, 'in.txt'), ERRNO.ROFS);
  assert.equal(l.snapshot(), before);
  t.h.dispose();

  const u = host([{ hostPath: l.root, guestPath: '/', readOnly: true }, { hostPath: l.rw, guestPath: '/tmp' }]);
  assert.equal(u.open(3, 'tmp/ok', OFLAGS.CREAT, FILE_RIGHTS).errno, 0);
  assert.equal(u.open(4, 'ok2', OFLAGS.CREAT, FILE_RIGHTS).errno, 0);
  assert.equal(u.open(3, 'new', OFLAGS.CREAT, FILE_RIGHTS).errno, ERRNO.ROFS);
  assert.equal(u.unlink(3, 'tmp/../ln'), ERRNO.ROFS, '`..` from the writable mount into the read-only root');
  assert.equal(u.unlink(4, '../ln'), ERRNO.NOTCAPABLE, '`..` above a preopen other than `/`');
  assert.deepEqual(readdirSync(l.rw).sort(), ['ok', 'ok2']);
  u.h.dispose();
});

test('a nested guest path whose parent directory is missing stays a preopen of its own', () => {
  const l = layout();
  const t = host([{ hostPath: l.root, guestPath: '/' }, { hostPath: l.ro, guestPath: '/nowhere/data', readOnly: true }]);
  assert.equal(t.open(4, 'in.txt').errno, 0);
  assert.equal(t.open(3, 'nowhere/data/in.txt').errno, ERRNO.NOENT);
  assert.equal(t.open(4, 'new', OFLAGS.CREAT, FILE_RIGHTS).errno, ERRNO.ROFS);
  t.h.dispose();
});
