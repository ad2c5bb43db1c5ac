// The fd_*/path_* imports called directly (no guest module): a WasiHost bound to a bare
// WebAssembly.Memory, arguments written into it by hand. Covers what guests cannot easily set up:
// fifos and character devices, the O_NOFOLLOW/inode re-check, readdir snapshots and hidden
// entries in subdirectories, and the rights arithmetic of path_open.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, writeFileSync, renameSync, rmSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { WasiHost } from '../../src/wasi/host.js';
import { ERRNO, FILETYPE, OFLAGS, RIGHTS, FDFLAGS, WHENCE, LOOKUPFLAGS } from '../../src/wasi/constants.js';
import { DIRECTORY_RIGHTS, DIRECTORY_INHERITING_RIGHTS } from '../../src/wasi/directory.js';
import { FILE_RIGHTS } from '../../src/wasi/file.js';
import { openResolved, resolve } from '../../src/wasi/resolve.js';
import { PreopenDescriptor } from '../../src/wasi/preopen.js';
import { WasiError } from '../../src/wasi/errors.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir('hyrun-fs-imports-');
after(tmp.cleanup);

// Scratch layout in guest memory.
const PATH = 1024, OUT = 64, BUF = 4096, IOV = 128, NUM = 256;

function setup(files: (root: string) => void, hiddenPaths: string[] = []) {
  const root = join(tmp.path, `t${Math.random().toString(36).slice(2)}`);
  mkdirSync(root);
  files(root);
  const host = new WasiHost({ args: [], env: [], preopens: [{ hostPath: root, guestPath: '/' }], hiddenPaths });
  const memory = new WebAssembly.Memory({ initial: 1 });
  host.context.bindMemory(memory);
  const bytes = new Uint8Array(memory.buffer);
  const dv = new DataView(memory.buffer);
  const w = host.imports as Record<string, (...a: any[]) => number>;
  const putPath = (p: string): number => {
    const b = Buffer.from(p);
    bytes.set(b, PATH);
    return b.length;
  };
  const open = (p: string, oflags = 0, base = FILE_RIGHTS, inh = 0n, fdflags = 0, dirfd = 3, lookup = LOOKUPFLAGS.SYMLINK_FOLLOW): { errno: number; fd: number } => {
    const len = putPath(p);
    const errno = w.path_open(dirfd, lookup, PATH, len, oflags, base, inh, fdflags, OUT);
    return { errno, fd: dv.getUint32(OUT, true) };
  };
  const fdstat = (fd: number) => {
    assert.equal(w.fd_fdstat_get(fd, OUT), 0);
    return { filetype: bytes[OUT], flags: dv.getUint16(OUT + 2, true), base: dv.getBigUint64(OUT + 8, true), inh: dv.getBigUint64(OUT + 16, true) };
  };
  const write = (fd: number, data: string): { errno: number; n: number } => {
    const b = Buffer.from(data);
    bytes.set(b, BUF);
    dv.setUint32(IOV, BUF, true);
    dv.setUint32(IOV + 4, b.length, true);
    const errno = w.fd_write(fd, IOV, 1, NUM);
    return { errno, n: dv.getUint32(NUM, true) };
  };
  const read = (fd: number, len: number): { errno: number; text: string } => {
    dv.setUint32(IOV, BUF, true);
    dv.setUint32(IOV + 4, len, true);
    const errno = w.fd_read(fd, IOV, 1, NUM);
    return { errno, text: Buffer.from(bytes.subarray(BUF, BUF + dv.getUint32(NUM, true))).toString() };
  };
  const readdirNames = (fd: number, cookie = 0n): string[] => {
    assert.equal(w.fd_readdir(fd, BUF, 2048, cookie, NUM), 0);
    const used = dv.getUint32(NUM, true);
    const names: string[] = [];
    for (let p = 0; p + 24 <= used;) {
      const len = dv.getUint32(BUF + p + 16, true);
      names.push(Buffer.from(bytes.subarray(BUF + p + 24, BUF + p + 24 + len)).toString());
      p += 24 + len;
    }
    return names;
  };
  return { root, host, w, open, fdstat, write, read, readdirNames, putPath, dv, bytes };
}

test('preopen fd 3 has wasmtime-style directory rights; opened files get requested ∩ inheriting', () => {
  const t = setup((r) => writeFileSync(join(r, 'f'), 'data'));
  const pre = t.fdstat(3);
  assert.equal(pre.filetype, FILETYPE.DIRECTORY);
  assert.equal(pre.base, DIRECTORY_RIGHTS);
  assert.equal(pre.inh, DIRECTORY_INHERITING_RIGHTS);
  assert.ok(t.host.context.fds.get(3) instanceof PreopenDescriptor);
  // Asking for everything yields only file rights on a file.
  const all = (1n << 64n) - 1n;
  const f = t.open('f', 0, all, all);
  assert.equal(f.errno, 0);
  assert.equal(t.fdstat(f.fd).base, FILE_RIGHTS);
  // A directory handed only FD_READ to inherit: a file below gets at most FD_READ.
  assert.equal(t.w.fd_fdstat_set_rights(3, DIRECTORY_RIGHTS, RIGHTS.FD_READ), 0);
  const g = t.open('f', 0, RIGHTS.FD_READ | RIGHTS.FD_WRITE);
  assert.equal(g.errno, 0);
  assert.equal(t.fdstat(g.fd).base, RIGHTS.FD_READ);
  assert.equal(t.write(g.fd, 'x').errno, ERRNO.NOTCAPABLE);
  assert.equal(t.read(g.fd, 10).text, 'data');
  // And rights, once dropped, cannot come back.
  assert.equal(t.w.fd_fdstat_set_rights(3, DIRECTORY_RIGHTS, DIRECTORY_INHERITING_RIGHTS), ERRNO.NOTCAPABLE);
  t.host.dispose();
});

test('character devices and fifos open through a preopen; they do not seek', () => {
  const t = setup((r) => execFileSync('mkfifo', [join(r, 'fifo')]));
  // NONBLOCK so that opening the fifo for reading does not wait for a writer.
  const rd = t.open('fifo', 0, RIGHTS.FD_READ | RIGHTS.FD_SEEK | RIGHTS.FD_TELL, 0n, FDFLAGS.NONBLOCK);
  assert.equal(rd.errno, 0);
  const wr = t.open('fifo', 0, RIGHTS.FD_WRITE | RIGHTS.FD_SEEK);
  assert.equal(wr.errno, 0);
  assert.equal(t.fdstat(rd.fd).filetype, FILETYPE.UNKNOWN, 'preview1 has no fifo type');
  assert.deepEqual(t.write(wr.fd, 'through the pipe'), { errno: 0, n: 16 });
  assert.deepEqual(t.read(rd.fd, 100), { errno: 0, text: 'through the pipe' });
  assert.equal(t.read(rd.fd, 100).errno, ERRNO.AGAIN, 'empty non-blocking fifo');
  assert.equal(t.w.fd_seek(rd.fd, 0n, WHENCE.SET, NUM), ERRNO.SPIPE);
  assert.equal(t.w.fd_tell(rd.fd, NUM), ERRNO.SPIPE);
  t.host.dispose();

  const dev = new WasiHost({ args: [], env: [], preopens: [{ hostPath: '/dev', guestPath: '/dev' }] });
  const memory = new WebAssembly.Memory({ initial: 1 });
  dev.context.bindMemory(memory);
  const dv = new DataView(memory.buffer);
  new Uint8Array(memory.buffer).set(Buffer.from('null'), PATH);
  const w = dev.imports as Record<string, (...a: any[]) => number>;
  assert.equal(w.path_open(3, 0, PATH, 4, 0, RIGHTS.FD_READ | RIGHTS.FD_WRITE, 0n, 0, OUT), 0);
  const fd = dv.getUint32(OUT, true);
  assert.equal(w.fd_fdstat_get(fd, OUT), 0);
  assert.equal(new Uint8Array(memory.buffer)[OUT], FILETYPE.CHARACTER_DEVICE);
  dv.setUint32(IOV, BUF, true);
  dv.setUint32(IOV + 4, 10, true);
  assert.equal(w.fd_read(fd, IOV, 1, NUM), 0);
  assert.equal(dv.getUint32(NUM, true), 0, '/dev/null reads EOF');
  dev.dispose();
});

test('what is opened is the name in the held directory, never a symlink put there after the lookup', () => {
  const t = setup((r) => {
    writeFileSync(join(r, 'a'), 'original');
    writeFileSync(join(r, 'b'), 'replacement');
  });
  const pre = t.host.context.fds.get(3) as PreopenDescriptor;
  const target = resolve(pre.root, null, 'a', { follow: false });
  // Another process swaps the file: the open takes whatever is under that name in that directory
  // (inside the sandbox either way), as open(2) racing a rename would.
  renameSync(join(t.root, 'b'), join(t.root, 'a'));
  const opened = openResolved(target, 0);
  assert.equal(readFileSync(opened.fd, 'utf8'), 'replacement');
  closeSync(opened.fd);
  target.release();
  // A file swapped for a symlink: O_NOFOLLOW makes the open itself fail (ELOOP), nothing is followed.
  const again = resolve(pre.root, null, 'a', { follow: false });
  rmSync(join(t.root, 'a'));
  symlinkSync('/etc/passwd', join(t.root, 'a'));
  assert.throws(() => openResolved(again, 0), (e: any) => e.code === 'ELOOP');
  again.release();
  t.host.dispose();
});

test('fd_readdir: listing is a snapshot from cookie 0; hidden entries are left out at any depth', () => {
  const t = setup((r) => {
    mkdirSync(join(r, 'srv/.secret'), { recursive: true });
    writeFileSync(join(r, 'srv/visible'), '');
  }, ['/srv/.secret']);
  const d = t.open('srv', OFLAGS.DIRECTORY, RIGHTS.FD_READDIR | RIGHTS.PATH_OPEN);
  assert.equal(d.errno, 0);
  assert.deepEqual(t.readdirNames(d.fd).sort(), ['.', '..', 'visible']);
  writeFileSync(join(t.root, 'srv/later'), '');
  // Continuing from a cookie keeps the old snapshot (cookies stay consistent)…
  assert.deepEqual(t.readdirNames(d.fd, 2n), ['visible']);
  // …and a fresh listing from cookie 0 sees the new entry.
  assert.deepEqual(t.readdirNames(d.fd).sort(), ['.', '..', 'later', 'visible']);
  assert.equal(t.open('.secret', OFLAGS.DIRECTORY, RIGHTS.FD_READDIR, 0n, 0, d.fd).errno, ERRNO.NOENT);
  assert.equal(t.open('srv/.secret/../visible').errno, ERRNO.NOENT);
  t.host.dispose();
});

test('fd_close/fd_renumber on preopens, and a write through APPEND lands at the end', () => {
  const t = setup((r) => writeFileSync(join(r, 'log'), 'one\n'));
  const f = t.open('log', 0, FILE_RIGHTS, 0n, FDFLAGS.APPEND);
  assert.equal(f.errno, 0);
  assert.equal(t.write(f.fd, 'two\n').n, 4);
  writeFileSync(join(t.root, 'log'), 'one\ntwo\nexternal\n'); // someone else appends meanwhile
  t.write(f.fd, 'three\n');
  assert.equal(readFileSync(join(t.root, 'log'), 'utf8'), 'one\ntwo\nexternal\nthree\n');
  assert.equal(t.w.fd_close(3), 0);
  assert.equal(t.open('log').errno, ERRNO.BADF, 'preopen closed');
  assert.equal(t.w.fd_prestat_get(3, OUT), ERRNO.BADF);
  t.host.dispose();
});

test('path_open with SYNC/DSYNC needs FD_SYNC/FD_DATASYNC among the directory\'s inheriting rights', () => {
  const t = setup((r) => writeFileSync(join(r, 'f'), 'data'));
  const ok = t.open('f', 0, FILE_RIGHTS, 0n, FDFLAGS.DSYNC | FDFLAGS.SYNC);
  assert.equal(ok.errno, 0);
  assert.equal(t.fdstat(ok.fd).flags, FDFLAGS.DSYNC | FDFLAGS.SYNC);
  assert.deepEqual(t.write(ok.fd, 'synced'), { errno: 0, n: 6 });
  assert.equal(t.w.fd_fdstat_set_rights(3, DIRECTORY_RIGHTS, DIRECTORY_INHERITING_RIGHTS & ~RIGHTS.FD_DATASYNC), 0);
  assert.equal(t.open('f', 0, FILE_RIGHTS, 0n, FDFLAGS.DSYNC).errno, ERRNO.NOTCAPABLE);
  assert.equal(t.open('f', 0, FILE_RIGHTS, 0n, FDFLAGS.SYNC).errno, 0);
  t.host.dispose();
});

test('renaming a directory that holds a hidden path is refused; renaming others carries open descriptors along', () => {
  const t = setup((r) => {
    mkdirSync(join(r, 'srv/.secret'), { recursive: true });
    mkdirSync(join(r, 'work/deep'), { recursive: true });
    writeFileSync(join(r, 'work/deep/f'), 'deep file');
  }, ['/srv/.secret']);
  const rename = (from: string, to: string): number => {
    const a = Buffer.from(from), b = Buffer.from(to);
    t.bytes.set(a, PATH);
    t.bytes.set(b, PATH + 512);
    return t.w.path_rename(3, PATH, a.length, 3, PATH + 512, b.length);
  };
  assert.equal(rename('srv', 'public'), ERRNO.ACCES);
  const deep = t.open('work/deep', OFLAGS.DIRECTORY, RIGHTS.PATH_OPEN | RIGHTS.FD_READDIR, FILE_RIGHTS);
  assert.equal(deep.errno, 0);
  assert.equal(rename('work', 'moved'), 0);
  const f = t.open('f', 0, RIGHTS.FD_READ, 0n, 0, deep.fd);
  assert.equal(f.errno, 0);
  assert.equal(t.read(f.fd, 100).text, 'deep file');
  // Moved by someone else: the descriptor holds its directory, wherever it now is (as a kernel fd does).
  renameSync(join(t.root, 'moved'), join(t.root, 'elsewhere'));
  const again = t.open('f', 0, RIGHTS.FD_READ, 0n, 0, deep.fd);
  assert.equal(again.errno, 0);
  assert.equal(t.read(again.fd, 100).text, 'deep file');
  t.host.dispose();
});
