// The operations at a path under a directory descriptor, shared by preview1's path_* imports
// (path.ts, which decodes guest memory) and WASI 0.2's `descriptor` resource (p2/filesystem.ts,
// which gets strings from the component glue). Every path goes through resolve.ts (or fast.ts)
// from the directory's held host descriptor; each operation is then one *at call on the held
// directory that contains the target, with a single name (openat with O_NOFOLLOW, mkdirat,
// unlinkat, renameat, linkat, symlinkat, readlinkat, utimensat), so nothing the kernel resolves
// can lead out of the sandbox. No host path is ever built. The errno choices are path.ts's.
//
// Each function checks the rights it needs on the directory itself: a WASI 0.2 descriptor carries
// the preview1 rights its descriptor-flags stand for, so both interfaces refuse alike.
import * as fs from 'node:fs';
import { ERRNO, FDFLAGS, FILETYPE, OFLAGS, RIGHTS } from './constants.js';
import type { WasiContext } from './context.js';
import type { Descriptor, Filestat } from './descriptor.js';
import { DirectoryDescriptor, DIRECTORY_INHERITING_RIGHTS, DIRECTORY_RIGHTS } from './directory.js';
import { WasiError } from './errors.js';
import { FileDescriptor, FILE_RIGHTS, WRITE_RIGHTS } from './file.js';
import { fastOpenDirectory, fastOpenFile } from './fast.js';
import { missingRights } from './fd.js';
import { filetypeOf, setPathTimes, toFilestat } from './filestat.js';
import { AT_REMOVEDIR } from './native.js';
import { addon, assertMutable, assertNotMountPoint, hostError, MAX_PATH_BYTES, openResolved, resolve, sameInode, type HostStat, type Resolved } from './resolve.js';
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

/** `d` as a directory with `rights`: NOTDIR if it is not one, NOTCAPABLE (or ROFS) without the rights. */
export function dirWith(d: Descriptor, rights: bigint): DirectoryDescriptor {
  if (!(d instanceof DirectoryDescriptor)) return fail(ERRNO.NOTDIR);
  if ((d.rightsBase & rights) !== rights) fail(missingRights(d, rights), 'missing right');
  return d;
}

const lookup = (dir: DirectoryDescriptor, path: string, follow: boolean, create = false): Resolved =>
  resolve(dir.root, dir, path, { follow, create });
const existing = (r: Resolved): HostStat => r.stat ?? fail(ERRNO.NOENT);

/** What path_open / open-at asks for, in preview1's terms. */
export interface OpenRequest {
  follow: boolean;
  oflags: number;
  rightsBase: bigint;
  rightsInheriting: bigint;
  fdflags: number;
}

/** Opens `path` under `dir` (path_open); the caller puts the new descriptor in its table. */
export function openAt(ctx: WasiContext, from: Descriptor, path: string, req: OpenRequest): Descriptor {
  const { oflags, fdflags, follow } = req;
  if ((oflags & ~0xf) !== 0 || (fdflags & ~0x1f) !== 0) fail(ERRNO.INVAL, 'unknown flags');
  const creat = (oflags & OFLAGS.CREAT) !== 0;
  const trunc = (oflags & OFLAGS.TRUNC) !== 0;
  const wantDir = (oflags & OFLAGS.DIRECTORY) !== 0;
  let needed = RIGHTS.PATH_OPEN;
  if (creat) needed |= RIGHTS.PATH_CREATE_FILE;
  if (trunc) needed |= RIGHTS.PATH_FILESTAT_SET_SIZE;
  const dir = dirWith(from, needed);
  // Synchronous-write flags need the matching right among what the directory may hand down.
  let syncRights = 0n;
  if (fdflags & FDFLAGS.DSYNC) syncRights |= RIGHTS.FD_DATASYNC;
  if (fdflags & (FDFLAGS.RSYNC | FDFLAGS.SYNC)) syncRights |= RIGHTS.FD_SYNC;
  if ((dir.rightsInheriting & syncRights) !== syncRights) fail(ERRNO.NOTCAPABLE, 'sync fdflags without the right');
  // A new descriptor gets at most what its parent may hand down.
  const asked = BigInt.asUintN(64, BigInt(req.rightsBase));
  const base = asked & dir.rightsInheriting;
  const inheriting = BigInt.asUintN(64, BigInt(req.rightsInheriting)) & dir.rightsInheriting;
  // Opening to write or truncate in a read-only preopen is ROFS, as open(2) on a read-only mount.
  const changes = trunc || (asked & WRITE_RIGHTS) !== 0n;

  // An existing directory or regular file, through openat2 when that gives the same answer
  // (fast.ts, only for roots without mounts: read-only is then the root's own flag).
  if (!creat && !(changes && dir.root.readOnly)) {
    if (wantDir && !trunc && (base & RIGHTS.FD_WRITE) === 0n) {
      const opened = fastOpenDirectory(dir, path);
      if (opened !== null) {
        const d = new DirectoryDescriptor(dir.root, opened.rel, opened.fd, base & DIRECTORY_RIGHTS, inheriting & DIRECTORY_INHERITING_RIGHTS);
        if (dir.root.readOnly) d.restrictToReading();
        return d;
      }
    } else if (!wantDir) {
      const nonblock = (fdflags & FDFLAGS.NONBLOCK) !== 0 ? O_NONBLOCK : 0;
      const opened = fastOpenFile(dir, path, follow, accessMode(base) | (trunc ? O_TRUNC : 0) | nonblock);
      if (opened !== null) {
        const file = new FileDescriptor(opened.fd, opened.stat, FILETYPE.REGULAR_FILE, base & FILE_RIGHTS, inheriting & FILE_RIGHTS, fdflags);
        if (dir.root.readOnly) file.restrictToReading();
        return file;
      }
    }
  }

  const target = resolve(dir.root, dir, path, { follow, create: creat, stdio: true });
  return using(target, (): Descriptor => {
    if (target.stdio !== undefined) {
      // /dev/stdout and friends: the guest's own stream, as the kernel would give a native program.
      if (wantDir) fail(ERRNO.NOTDIR);
      if (creat && (oflags & OFLAGS.EXCL) !== 0) fail(ERRNO.EXIST);
      const stream = ctx.fds.has(target.stdio) ? ctx.fds.get(target.stdio) : undefined;
      if (!(stream instanceof StdioDescriptor)) fail(ERRNO.ACCES, 'the guest has replaced or closed that standard stream');
      return (stream as StdioDescriptor).alias();
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
        return d;
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
    return file;
  });
}

export function createDirectoryAt(from: Descriptor, path: string): void {
  using(lookup(dirWith(from, RIGHTS.PATH_CREATE_DIRECTORY), path, false, true), (target) => {
    if (target.stat !== null) fail(ERRNO.EXIST);
    assertMutable(target);
    check(addon().mkdirat(target.dirFd, target.name!, 0o777), 'mkdirat');
  });
}

/** The filestat of `path` (the walk's; path.ts tries fast.ts first). */
export function statAt(from: Descriptor, path: string, follow: boolean): Filestat {
  return using(lookup(dirWith(from, RIGHTS.PATH_FILESTAT_GET), path, follow), (target) => toFilestat(existing(target)));
}

/** `atim`/`mtim` in nanoseconds, `fstflags` preview1's (which of them to set, or "now"). */
export function setTimesAt(from: Descriptor, path: string, follow: boolean, atim: bigint, mtim: bigint, fstflags: number): void {
  using(lookup(dirWith(from, RIGHTS.PATH_FILESTAT_SET_TIMES), path, follow), (target) => {
    existing(target);
    assertMutable(target);
    // Never following: a symlink that was not to be followed gets its own times set, never its target's.
    const [dirFd, name] = target.mount !== undefined ? [target.mount.fd, '.'] : [target.dirFd, target.name ?? '.'];
    setPathTimes(dirFd, name, atim, mtim, fstflags);
  });
}

export function linkAt(oldFrom: Descriptor, oldFollow: boolean, oldPath: string, newFrom: Descriptor, newPath: string): void {
  using(lookup(dirWith(oldFrom, RIGHTS.PATH_LINK_SOURCE), oldPath, oldFollow), (from) =>
    using(lookup(dirWith(newFrom, RIGHTS.PATH_LINK_TARGET), newPath, false, true), (to) => {
      const st = existing(from);
      if (st.isDirectory()) fail(ERRNO.PERM, 'hard link to a directory');
      if (to.stat !== null) fail(ERRNO.EXIST);
      assertMutable(from);
      assertMutable(to);
      if (to.mustBeDir) fail(ERRNO.NOENT);
      // linkat without AT_SYMLINK_FOLLOW: with SYMLINK_FOLLOW the walk already reached a non-link.
      check(addon().linkat(from.dirFd, from.name!, to.dirFd, to.name!), 'linkat');
    }));
}

/** The stored text of a symlink, exactly (guest-relative, or whatever was written): never a resolved host path. */
export function readlinkAt(from: Descriptor, path: string): Buffer {
  return using(lookup(dirWith(from, RIGHTS.PATH_READLINK), path, false), (target) => {
    if (!existing(target).isSymbolicLink()) fail(ERRNO.INVAL, 'not a symlink');
    const text = Buffer.allocUnsafe(MAX_PATH_BYTES);
    const len = addon().readlinkat(target.dirFd, target.name!, text);
    check(len, 'readlinkat');
    return text.subarray(0, len);
  });
}

export function removeDirectoryAt(from: Descriptor, path: string): void {
  using(lookup(dirWith(from, RIGHTS.PATH_REMOVE_DIRECTORY), path, false), (target) => {
    const st = existing(target);
    if (target.name === null) fail(ERRNO.INVAL, 'cannot remove a directory named by . or ..');
    if (!st.isDirectory()) fail(ERRNO.NOTDIR);
    assertNotMountPoint(target);
    assertMutable(target);
    check(addon().unlinkat(target.dirFd, target.name!, AT_REMOVEDIR), 'unlinkat');
  });
}

export function unlinkFileAt(from: Descriptor, path: string): void {
  using(lookup(dirWith(from, RIGHTS.PATH_UNLINK_FILE), path, false), (target) => {
    const st = existing(target);
    if (target.name === null || st.isDirectory()) fail(ERRNO.ISDIR);
    assertMutable(target);
    check(addon().unlinkat(target.dirFd, target.name!, 0), 'unlinkat');
  });
}

export function renameAt(oldFrom: Descriptor, oldPath: string, newFrom: Descriptor, newPath: string): void {
  using(lookup(dirWith(oldFrom, RIGHTS.PATH_RENAME_SOURCE), oldPath, false), (from) =>
    using(lookup(dirWith(newFrom, RIGHTS.PATH_RENAME_TARGET), newPath, false, true), (to) => {
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
}

/**
 * An absolute target is refused with PERM, as wasmtime does: a link the guest makes is resolved by
 * every other program on the host, not only by this sandbox. Relative text climbing out is stored
 * (resolve.ts never follows it out).
 */
export function symlinkAt(text: string, from: Descriptor, newPath: string): void {
  if (text.includes('\0')) fail(ERRNO.INVAL, 'NUL byte in symlink text');
  using(lookup(dirWith(from, RIGHTS.PATH_SYMLINK), newPath, false, true), (to) => {
    if (text.charCodeAt(0) === 47 /* '/' */) fail(ERRNO.PERM, 'absolute symlink target');
    if (to.stat !== null) fail(ERRNO.EXIST);
    if (to.mustBeDir) fail(ERRNO.NOENT);
    assertMutable(to);
    check(addon().symlinkat(text, to.dirFd, to.name!), 'symlinkat');
  });
}

/** Host access mode from the rights asked for, as wasi-libc encodes O_RDONLY/O_WRONLY/O_RDWR. */
function accessMode(base: bigint): number {
  const write = (base & WRITE_RIGHTS) !== 0n;
  const read = (base & (RIGHTS.FD_READ | RIGHTS.FD_READDIR)) !== 0n;
  return write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY;
}
