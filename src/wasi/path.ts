// The path_* import functions. Every path goes through resolve.ts (or fast.ts) from the directory
// descriptor's held host descriptor; each operation is then one *at call on the held directory
// that contains the target, with a single name (openat with O_NOFOLLOW, mkdirat, unlinkat,
// renameat, linkat, symlinkat, readlinkat, utimensat), so nothing the kernel resolves can lead
// out of the sandbox. No host path is ever built.
//
// Errno choices where preview1 leaves room (each pinned by test/e2e/wasi-fs-conformance.test.ts
// and sandbox-escape.test.ts):
//  - leaving the sandbox in any way (absolute path, `..` above the directory fd, a symlink whose
//    text is absolute or climbs out) is NOTCAPABLE; NUL in a path is INVAL; a hidden path is NOENT
//    (ACCES when it is the name being created);
//  - a final symlink opened without SYMLINK_FOLLOW is LOOP (NOTDIR with OFLAGS.DIRECTORY), as
//    open(2) with O_NOFOLLOW gives;
//  - otherwise errnos are what Linux gives for the same operation (EXIST, ISDIR, NOTDIR, NOTEMPTY,
//    PERM for a hard link to a directory, INVAL for readlink of a non-link or rmdir of `.`, BUSY
//    for renaming `.`), so native and Wasm builds of a program agree (wasi-fs-differential.test.ts).
//  - kernel filesystems and devices (special-files.ts): ACCES for anything refused there, and for
//    every change (write, create, remove, rename, times) on or under a kernel filesystem;
// path_symlink refuses an absolute target with PERM, as wasmtime does: a link the guest makes is
// resolved by every other program on the host, not only by this sandbox. Relative text climbing
// out is stored (resolve.ts never follows it out).
import * as fs from 'node:fs';
import { ERRNO, FDFLAGS, FILETYPE, LOOKUPFLAGS, OFLAGS, RIGHTS } from './constants.js';
import type { WasiContext } from './context.js';
import { DirectoryDescriptor, DIRECTORY_INHERITING_RIGHTS, DIRECTORY_RIGHTS } from './directory.js';
import { WasiError } from './errors.js';
import { FileDescriptor, FILE_RIGHTS, WRITE_RIGHTS } from './file.js';
import { fastFilestatInto, fastOpenDirectory, fastOpenFile } from './fast.js';
import { filetypeOf, setPathTimes, toFilestat, writeFilestat } from './filestat.js';
import type { ImportArea } from './host.js';
import { missingRights } from './fd.js';
import { addon, assertMutable, assertNotMountPoint, AT_REMOVEDIR, hostError, MAX_PATH_BYTES, openResolved, resolve, sameInode, type HostStat, type Resolved } from './resolve.js';
import { StdioDescriptor } from './stdio.js';

/** What a descriptor on a kernel filesystem may do: look, never change. */
const KERNEL_FILE_RIGHTS = RIGHTS.FD_READ | RIGHTS.FD_SEEK | RIGHTS.FD_TELL | RIGHTS.FD_FILESTAT_GET | RIGHTS.FD_ADVISE |
  RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.POLL_FD_READWRITE;
const KERNEL_DIRECTORY_RIGHTS = RIGHTS.FD_READDIR | RIGHTS.PATH_OPEN | RIGHTS.PATH_FILESTAT_GET | RIGHTS.FD_FILESTAT_GET |
  RIGHTS.PATH_READLINK | RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.POLL_FD_READWRITE;

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_NONBLOCK, O_NOCTTY } = fs.constants;

const fail = (errno: number, why?: string): never => {
  throw new WasiError(errno, why);
};

/** A negative errno from the addon thrown as a host error (the boundary maps it); else nothing. */
const check = (r: number, what: string): void => {
  if (r < 0) throw hostError(r, what);
};

/** Runs `op` on a resolution and releases what the walk holds for it, whatever happens. */
function using<T>(r: Resolved, op: (r: Resolved) => T): T {
  try {
    return op(r);
  } finally {
    r.release();
  }
}

export function pathImports(ctx: WasiContext): ImportArea {
  /** The directory descriptor `fd` with `rights`: BADF if absent, NOTDIR if not a directory, NOTCAPABLE without the rights. */
  const dirWith = (fd: number, rights: bigint): DirectoryDescriptor => {
    const d = ctx.fds.get(fd);
    if (!(d instanceof DirectoryDescriptor)) return fail(ERRNO.NOTDIR);
    if ((d.rightsBase & rights) !== rights) fail(missingRights(d, rights), 'missing right');
    return d;
  };
  // Lengths are the guest's, in bytes: refused before decoding when they cannot be a path.
  const pathAt = (ptr: number, len: number): string => (len >>> 0 >= MAX_PATH_BYTES ? fail(ERRNO.NAMETOOLONG, 'path too long') : ctx.memory.getString(ptr, len));
  const lookup = (dir: DirectoryDescriptor, ptr: number, len: number, follow: boolean, create = false): Resolved =>
    resolve(dir.root, dir, pathAt(ptr, len), { follow, create });
  const existing = (r: Resolved): HostStat => r.stat ?? fail(ERRNO.NOENT);

  return {
    path_open(fd: number, dirflags: number, path: number, pathLen: number, oflags: number,
      rightsBase: bigint, rightsInheriting: bigint, fdflags: number, openedFd: number) {
      if ((oflags & ~0xf) !== 0 || (fdflags & ~0x1f) !== 0) fail(ERRNO.INVAL, 'unknown flags');
      const creat = (oflags & OFLAGS.CREAT) !== 0;
      const trunc = (oflags & OFLAGS.TRUNC) !== 0;
      const wantDir = (oflags & OFLAGS.DIRECTORY) !== 0;
      let needed = RIGHTS.PATH_OPEN;
      if (creat) needed |= RIGHTS.PATH_CREATE_FILE;
      if (trunc) needed |= RIGHTS.PATH_FILESTAT_SET_SIZE;
      const dir = dirWith(fd, needed);
      // Synchronous-write flags need the matching right among what the directory may hand down.
      let syncRights = 0n;
      if (fdflags & FDFLAGS.DSYNC) syncRights |= RIGHTS.FD_DATASYNC;
      if (fdflags & (FDFLAGS.RSYNC | FDFLAGS.SYNC)) syncRights |= RIGHTS.FD_SYNC;
      if ((dir.rightsInheriting & syncRights) !== syncRights) fail(ERRNO.NOTCAPABLE, 'sync fdflags without the right');
      const follow = (dirflags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0;
      // A new descriptor gets at most what its parent may hand down.
      const asked = BigInt.asUintN(64, BigInt(rightsBase));
      const base = asked & dir.rightsInheriting;
      const inheriting = BigInt.asUintN(64, BigInt(rightsInheriting)) & dir.rightsInheriting;
      // Opening to write or truncate in a read-only preopen is ROFS, as open(2) on a read-only mount.
      const changes = trunc || (asked & WRITE_RIGHTS) !== 0n;

      // An existing directory or regular file, through openat2 when that gives the same answer
      // (fast.ts, only for roots without mounts: read-only is then the root's own flag).
      if (!creat && !(changes && dir.root.readOnly)) {
        const text = pathAt(path, pathLen);
        if (wantDir && !trunc && (base & RIGHTS.FD_WRITE) === 0n) {
          const opened = fastOpenDirectory(dir, text);
          if (opened !== null) {
            const d = new DirectoryDescriptor(dir.root, opened.rel, opened.fd, base & DIRECTORY_RIGHTS, inheriting & DIRECTORY_INHERITING_RIGHTS);
            if (dir.root.readOnly) d.restrictToReading();
            ctx.memory.setU32(openedFd, ctx.fds.add(d));
            return;
          }
        } else if (!wantDir) {
          const nonblock = (fdflags & FDFLAGS.NONBLOCK) !== 0 ? O_NONBLOCK : 0;
          const opened = fastOpenFile(dir, text, follow, accessMode(base) | (trunc ? O_TRUNC : 0) | nonblock);
          if (opened !== null) {
            const file = new FileDescriptor(opened.fd, opened.stat, FILETYPE.REGULAR_FILE, base & FILE_RIGHTS, inheriting & FILE_RIGHTS, fdflags);
            if (dir.root.readOnly) file.restrictToReading();
            ctx.memory.setU32(openedFd, ctx.fds.add(file));
            return;
          }
        }
      }

      const target = resolve(dir.root, dir, pathAt(path, pathLen), { follow, create: creat, stdio: true });
      using(target, () => {
        if (target.stdio !== undefined) {
          // /dev/stdout and friends: the guest's own stream, as the kernel would give a native program.
          if (wantDir) fail(ERRNO.NOTDIR);
          if (creat && (oflags & OFLAGS.EXCL) !== 0) fail(ERRNO.EXIST);
          const stream = ctx.fds.has(target.stdio) ? ctx.fds.get(target.stdio) : undefined;
          if (!(stream instanceof StdioDescriptor)) fail(ERRNO.ACCES, 'the guest has replaced or closed that standard stream');
          ctx.memory.setU32(openedFd, ctx.fds.add((stream as StdioDescriptor).alias()));
          return;
        }
        const st = target.stat;
        const policy = dir.root.policy;
        const kernel = target.zone !== 'data' || target.parentZone !== 'data';

        let flags = O_NOCTTY | ((fdflags & FDFLAGS.NONBLOCK) !== 0 ? O_NONBLOCK : 0);
        if (st === null) {
          if (!creat) fail(ERRNO.NOENT);
          assertMutable(target);
          if (target.mustBeDir) fail(ERRNO.ISDIR, 'cannot create a file named with a trailing slash');
          if (wantDir) fail(ERRNO.INVAL, 'CREAT with DIRECTORY');
          // O_EXCL: it was absent during resolution; whatever appeared since (a symlink, say) is not opened.
          flags |= O_CREAT | O_EXCL | accessMode(base);
        } else {
          if (creat && (oflags & OFLAGS.EXCL) !== 0) fail(ERRNO.EXIST);
          if (st.isSymbolicLink()) fail(wantDir ? ERRNO.NOTDIR : ERRNO.LOOP, 'last component is a symlink and SYMLINK_FOLLOW was not given');
          if (st.isDirectory()) {
            if (creat || trunc || (base & RIGHTS.FD_WRITE) !== 0n) fail(ERRNO.ISDIR);
            const opened = openResolved(target, O_RDONLY | O_DIRECTORY);
            // What was opened is judged, not what was looked at: the same directory, or nothing.
            if (!sameInode(opened.stat, st)) {
              fs.closeSync(opened.fd);
              fail(ERRNO.NOENT, 'directory replaced during the lookup');
            }
            const rights = kernel ? KERNEL_DIRECTORY_RIGHTS : DIRECTORY_RIGHTS;
            const d = new DirectoryDescriptor(dir.root, target.rel, opened.fd, base & rights, inheriting & (kernel ? KERNEL_DIRECTORY_RIGHTS : DIRECTORY_INHERITING_RIGHTS), target.zone);
            if (target.readOnly) d.restrictToReading();
            ctx.memory.setU32(openedFd, ctx.fds.add(d));
            return;
          }
          if (wantDir) fail(ERRNO.NOTDIR);
          if (kernel && (trunc || (base & WRITE_RIGHTS) !== 0n)) fail(ERRNO.ACCES, 'kernel filesystems are read-only to guests');
          if (changes && target.readOnly) fail(ERRNO.ROFS, 'read-only directory');
          if (!policy.deviceAllowed(st)) fail(ERRNO.ACCES, 'device not allowed');
          flags |= accessMode(base) | (trunc ? O_TRUNC : 0);
        }
        const opened = openResolved(target, flags);
        if (opened.stat.isDirectory()) {
          fs.closeSync(opened.fd);
          fail(ERRNO.ISDIR);
        }
        // The same rules once more on what was really opened (no path involved: nothing to race).
        if (!policy.deviceAllowed(opened.stat) ||
          (!kernel && policy.isKernelFs(policy.fsTypeOfFd(opened.fd, Number(opened.stat.dev))))) {
          fs.closeSync(opened.fd);
          fail(ERRNO.ACCES, 'kernel interface file or device');
        }
        const fileRights = kernel ? KERNEL_FILE_RIGHTS : FILE_RIGHTS;
        const file = new FileDescriptor(opened.fd, opened.stat, filetypeOf(opened.stat), base & fileRights, inheriting & fileRights, fdflags);
        if (target.readOnly) file.restrictToReading();
        ctx.memory.setU32(openedFd, ctx.fds.add(file));
      });
    },

    path_create_directory(fd: number, path: number, pathLen: number) {
      using(lookup(dirWith(fd, RIGHTS.PATH_CREATE_DIRECTORY), path, pathLen, false, true), (target) => {
        if (target.stat !== null) fail(ERRNO.EXIST);
        assertMutable(target);
        check(addon().mkdirat(target.dirFd, target.name!, 0o777), 'mkdirat');
      });
    },

    path_filestat_get(fd: number, flags: number, path: number, pathLen: number, buf: number) {
      const dir = dirWith(fd, RIGHTS.PATH_FILESTAT_GET);
      const follow = (flags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0;
      if (fastFilestatInto(dir, pathAt(path, pathLen), follow, ctx.memory, buf)) return;
      using(lookup(dir, path, pathLen, follow), (target) => writeFilestat(ctx.memory, buf, toFilestat(existing(target))));
    },

    path_filestat_set_times(fd: number, flags: number, path: number, pathLen: number, atim: bigint, mtim: bigint, fstflags: number) {
      using(lookup(dirWith(fd, RIGHTS.PATH_FILESTAT_SET_TIMES), path, pathLen, (flags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0), (target) => {
        existing(target);
        assertMutable(target);
        // Never following: a symlink that was not to be followed gets its own times set, never its target's.
        const [dirFd, name] = target.mount !== undefined ? [target.mount.fd, '.'] : [target.dirFd, target.name ?? '.'];
        setPathTimes(dirFd, name, BigInt.asUintN(64, BigInt(atim)), BigInt.asUintN(64, BigInt(mtim)), fstflags);
      });
    },

    path_link(oldFd: number, oldFlags: number, oldPath: number, oldLen: number, newFd: number, newPath: number, newLen: number) {
      using(lookup(dirWith(oldFd, RIGHTS.PATH_LINK_SOURCE), oldPath, oldLen, (oldFlags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0), (from) =>
        using(lookup(dirWith(newFd, RIGHTS.PATH_LINK_TARGET), newPath, newLen, false, true), (to) => {
          const st = existing(from);
          if (st.isDirectory()) fail(ERRNO.PERM, 'hard link to a directory');
          if (to.stat !== null) fail(ERRNO.EXIST);
          assertMutable(from);
          assertMutable(to);
          if (to.mustBeDir) fail(ERRNO.NOENT);
          // linkat without AT_SYMLINK_FOLLOW: with SYMLINK_FOLLOW the walk already reached a non-link.
          check(addon().linkat(from.dirFd, from.name!, to.dirFd, to.name!), 'linkat');
        }));
    },

    path_readlink(fd: number, path: number, pathLen: number, buf: number, bufLen: number, bufused: number) {
      using(lookup(dirWith(fd, RIGHTS.PATH_READLINK), path, pathLen, false), (target) => {
        if (!existing(target).isSymbolicLink()) fail(ERRNO.INVAL, 'not a symlink');
        // The stored text, exactly (guest-relative, or whatever was written): never a resolved host path.
        const text = Buffer.allocUnsafe(MAX_PATH_BYTES);
        const len = addon().readlinkat(target.dirFd, target.name!, text);
        check(len, 'readlinkat');
        const n = Math.min(len, bufLen >>> 0);
        ctx.memory.write(buf, text.subarray(0, n));
        ctx.memory.setU32(bufused, n);
      });
    },

    path_remove_directory(fd: number, path: number, pathLen: number) {
      using(lookup(dirWith(fd, RIGHTS.PATH_REMOVE_DIRECTORY), path, pathLen, false), (target) => {
        const st = existing(target);
        if (target.name === null) fail(ERRNO.INVAL, 'cannot remove a directory named by . or ..');
        if (!st.isDirectory()) fail(ERRNO.NOTDIR);
        assertNotMountPoint(target);
        assertMutable(target);
        check(addon().unlinkat(target.dirFd, target.name!, AT_REMOVEDIR), 'unlinkat');
      });
    },

    path_unlink_file(fd: number, path: number, pathLen: number) {
      using(lookup(dirWith(fd, RIGHTS.PATH_UNLINK_FILE), path, pathLen, false), (target) => {
        const st = existing(target);
        if (target.name === null || st.isDirectory()) fail(ERRNO.ISDIR);
        assertMutable(target);
        check(addon().unlinkat(target.dirFd, target.name!, 0), 'unlinkat');
      });
    },

    path_rename(fd: number, oldPath: number, oldLen: number, newFd: number, newPath: number, newLen: number) {
      using(lookup(dirWith(fd, RIGHTS.PATH_RENAME_SOURCE), oldPath, oldLen, false), (from) =>
        using(lookup(dirWith(newFd, RIGHTS.PATH_RENAME_TARGET), newPath, newLen, false, true), (to) => {
          const st = existing(from);
          if (from.name === null || to.name === null) fail(ERRNO.BUSY, 'cannot rename . or ..');
          if (to.mustBeDir && !st.isDirectory()) fail(ERRNO.NOTDIR);
          assertNotMountPoint(from);
          assertNotMountPoint(to);
          assertMutable(from);
          assertMutable(to);
          // Moving an ancestor of a hidden path would carry it away under a new name.
          if (st.isDirectory() && from.root.hidesBelow(from.rel)) fail(ERRNO.ACCES, 'directory holds a hidden path');
          check(addon().renameat(from.dirFd, from.name!, to.dirFd, to.name!), 'renameat');
          // Open descriptors at or below a moved directory follow it (bookkeeping: they hold their directory anyway).
          if (st.isDirectory() && from.root === to.root) from.root.moved(from.rel, to.rel);
        }));
    },

    path_symlink(oldPath: number, oldLen: number, fd: number, newPath: number, newLen: number) {
      const text = pathAt(oldPath, oldLen);
      if (text.includes('\0')) fail(ERRNO.INVAL, 'NUL byte in symlink text');
      using(lookup(dirWith(fd, RIGHTS.PATH_SYMLINK), newPath, newLen, false, true), (to) => {
        if (text.charCodeAt(0) === 47 /* '/' */) fail(ERRNO.PERM, 'absolute symlink target');
        if (to.stat !== null) fail(ERRNO.EXIST);
        if (to.mustBeDir) fail(ERRNO.NOENT);
        assertMutable(to);
        // Relative text is stored as it is (climbing out too): resolve.ts never follows one out.
        check(addon().symlinkat(text, to.dirFd, to.name!), 'symlinkat');
      });
    },
  };
}

/** Host access mode from the rights asked for, as wasi-libc encodes O_RDONLY/O_WRONLY/O_RDWR. */
function accessMode(base: bigint): number {
  const write = (base & WRITE_RIGHTS) !== 0n;
  const read = (base & (RIGHTS.FD_READ | RIGHTS.FD_READDIR)) !== 0n;
  return write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY;
}
