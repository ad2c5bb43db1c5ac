// The path_* import functions: decode guest memory, then call the shared operations of
// path-ops.ts (which WASI 0.2's descriptor uses too). Every path goes through resolve.ts (or
// fast.ts) from the directory descriptor's held host descriptor; each operation is then one *at
// call on the held directory that contains the target, with a single name, so nothing the kernel
// resolves can lead out of the sandbox. No host path is ever built.
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
import { ERRNO, LOOKUPFLAGS, RIGHTS } from './constants.js';
import type { WasiContext } from './context.js';
import { WasiError } from './errors.js';
import { fastFilestatInto } from './fast.js';
import { writeFilestat } from './filestat.js';
import type { ImportArea } from './host.js';
import * as ops from './path-ops.js';
import { MAX_PATH_BYTES } from './resolve.js';

const fail = (errno: number, why?: string): never => {
  throw new WasiError(errno, why);
};
const follows = (flags: number): boolean => (flags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, BigInt(v));

export function pathImports(ctx: WasiContext): ImportArea {
  const fds = ctx.fds;
  // Lengths are the guest's, in bytes: refused before decoding when they cannot be a path.
  const pathAt = (ptr: number, len: number): string => (len >>> 0 >= MAX_PATH_BYTES ? fail(ERRNO.NAMETOOLONG, 'path too long') : ctx.memory.getString(ptr, len));

  return {
    path_open(fd: number, dirflags: number, path: number, pathLen: number, oflags: number,
      rightsBase: bigint, rightsInheriting: bigint, fdflags: number, openedFd: number) {
      const d = ops.openAt(ctx, fds.get(fd), pathAt(path, pathLen), { follow: follows(dirflags), oflags, rightsBase, rightsInheriting, fdflags });
      ctx.memory.setU32(openedFd, fds.add(d));
    },

    path_create_directory(fd: number, path: number, pathLen: number) {
      ops.createDirectoryAt(fds.get(fd), pathAt(path, pathLen));
    },

    path_filestat_get(fd: number, flags: number, path: number, pathLen: number, buf: number) {
      const dir = ops.dirWith(fds.get(fd), RIGHTS.PATH_FILESTAT_GET);
      const text = pathAt(path, pathLen);
      if (fastFilestatInto(dir, text, follows(flags), ctx.memory, buf)) return;
      writeFilestat(ctx.memory, buf, ops.statAt(dir, text, follows(flags)));
    },

    path_filestat_set_times(fd: number, flags: number, path: number, pathLen: number, atim: bigint, mtim: bigint, fstflags: number) {
      ops.setTimesAt(fds.get(fd), pathAt(path, pathLen), follows(flags), u64(atim), u64(mtim), fstflags);
    },

    path_link(oldFd: number, oldFlags: number, oldPath: number, oldLen: number, newFd: number, newPath: number, newLen: number) {
      ops.linkAt(fds.get(oldFd), follows(oldFlags), pathAt(oldPath, oldLen), fds.get(newFd), pathAt(newPath, newLen));
    },

    path_readlink(fd: number, path: number, pathLen: number, buf: number, bufLen: number, bufused: number) {
      const text = ops.readlinkAt(fds.get(fd), pathAt(path, pathLen));
      const n = Math.min(text.length, bufLen >>> 0);
      ctx.memory.write(buf, text.subarray(0, n));
      ctx.memory.setU32(bufused, n);
    },

    path_remove_directory(fd: number, path: number, pathLen: number) {
      ops.removeDirectoryAt(fds.get(fd), pathAt(path, pathLen));
    },

    path_unlink_file(fd: number, path: number, pathLen: number) {
      ops.unlinkFileAt(fds.get(fd), pathAt(path, pathLen));
    },

    path_rename(fd: number, oldPath: number, oldLen: number, newFd: number, newPath: number, newLen: number) {
      ops.renameAt(fds.get(fd), pathAt(oldPath, oldLen), fds.get(newFd), pathAt(newPath, newLen));
    },

    path_symlink(oldPath: number, oldLen: number, fd: number, newPath: number, newLen: number) {
      ops.symlinkAt(pathAt(oldPath, oldLen), fds.get(fd), pathAt(newPath, newLen));
    },
  };
}
