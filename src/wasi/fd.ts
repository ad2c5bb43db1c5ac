// The fd_* import functions: decode guest memory, check the descriptor's rights, call the
// descriptor. Generic over descriptor kinds (stdio, files, directories, preopens, sockets).
import { ERRNO, RIGHTS, WHENCE } from './constants.js';
import type { WasiContext } from './context.js';
import type { Descriptor } from './descriptor.js';
import { CHANGE_RIGHTS } from './directory.js';
import { WasiError } from './errors.js';
import { writeFilestat } from './filestat.js';
import type { ImportArea } from './host.js';
import { GuestMemory } from './memory.js';

const u64 = (v: bigint | number): bigint => BigInt.asUintN(64, BigInt(v));

/**
 * The errno for a descriptor lacking some of `rights`: ROFS when it is in a read-only preopen and
 * what it lacks are rights to change things (what a read-only mount answers), else NOTCAPABLE.
 */
export function missingRights(d: Descriptor, rights: bigint): number {
  return d.readOnly && ((rights & ~d.rightsBase) & ~CHANGE_RIGHTS) === 0n ? ERRNO.ROFS : ERRNO.NOTCAPABLE;
}

/** The descriptor at `fd`, or NOTCAPABLE (ROFS, see missingRights) if it lacks any of `rights`. */
export function withRights(ctx: WasiContext, fd: number, rights: bigint): Descriptor {
  const d = ctx.fds.get(fd);
  if ((d.rightsBase & rights) !== rights) throw new WasiError(missingRights(d, rights), 'missing right');
  return d;
}

export function fdImports(ctx: WasiContext): ImportArea {
  const fds = ctx.fds;

  return {
    // fd_read / fd_write are on the hot path of bulk I/O: one table lookup, one rights test, one
    // iovec decode, then straight into the descriptor (which uses a single readSync/writeSync for
    // one iovec, readv/writev otherwise).
    fd_read(fd: number, iovs: number, iovsLen: number, nread: number) {
      const d = fds.get(fd);
      if ((d.rightsBase & RIGHTS.FD_READ) === 0n) return ERRNO.NOTCAPABLE;
      const mem = ctx.memory;
      const n = d.read(mem.iovecs(iovs, iovsLen));
      mem.setU32(nread, n);
      return ERRNO.SUCCESS;
    },

    fd_write(fd: number, iovs: number, iovsLen: number, nwritten: number) {
      const d = fds.get(fd);
      if ((d.rightsBase & RIGHTS.FD_WRITE) === 0n) return d.readOnly ? ERRNO.ROFS : ERRNO.NOTCAPABLE;
      const mem = ctx.memory;
      const n = d.write(mem.iovecs(iovs, iovsLen));
      mem.setU32(nwritten, n);
      return ERRNO.SUCCESS;
    },

    fd_pread(fd: number, iovs: number, iovsLen: number, offset: bigint, nread: number) {
      const d = withRights(ctx, fd, RIGHTS.FD_READ | RIGHTS.FD_SEEK);
      const mem = ctx.memory;
      mem.setU32(nread, d.pread(mem.iovecs(iovs, iovsLen), u64(offset)));
    },

    fd_pwrite(fd: number, iovs: number, iovsLen: number, offset: bigint, nwritten: number) {
      const d = withRights(ctx, fd, RIGHTS.FD_WRITE | RIGHTS.FD_SEEK);
      const mem = ctx.memory;
      mem.setU32(nwritten, d.pwrite(mem.iovecs(iovs, iovsLen), u64(offset)));
    },

    fd_seek(fd: number, offset: bigint, whence: number, newOffset: number) {
      // Asking only for the current offset needs FD_TELL; anything that moves it needs FD_SEEK.
      const tellOnly = whence === WHENCE.CUR && BigInt(offset) === 0n;
      const d = fds.get(fd);
      if ((d.rightsBase & (tellOnly ? RIGHTS.FD_TELL | RIGHTS.FD_SEEK : RIGHTS.FD_SEEK)) === 0n) throw new WasiError(ERRNO.NOTCAPABLE);
      if (whence !== WHENCE.SET && whence !== WHENCE.CUR && whence !== WHENCE.END) throw new WasiError(ERRNO.INVAL, 'bad whence');
      ctx.memory.setU64(newOffset, d.seek(BigInt.asIntN(64, BigInt(offset)), whence));
    },

    fd_tell(fd: number, offset: number) {
      ctx.memory.setU64(offset, withRights(ctx, fd, RIGHTS.FD_TELL).tell());
    },

    fd_close(fd: number) {
      fds.take(fd).close();
    },

    fd_renumber(from: number, to: number) {
      fds.renumber(from, to);
    },

    fd_advise(fd: number, offset: bigint, len: bigint, advice: number) {
      withRights(ctx, fd, RIGHTS.FD_ADVISE).advise(u64(offset), u64(len), advice);
    },

    fd_allocate(fd: number, offset: bigint, len: bigint) {
      withRights(ctx, fd, RIGHTS.FD_ALLOCATE).allocate(u64(offset), u64(len));
    },

    fd_datasync(fd: number) {
      withRights(ctx, fd, RIGHTS.FD_DATASYNC).datasync();
    },

    fd_sync(fd: number) {
      withRights(ctx, fd, RIGHTS.FD_SYNC).sync();
    },

    fd_fdstat_get(fd: number, ptr: number) {
      const s = fds.get(fd).fdstat();
      const mem = ctx.memory;
      mem.slice(ptr, 24).fill(0);
      mem.setU8(ptr, s.filetype);
      mem.setU16(ptr + 2, s.flags);
      mem.setU64(ptr + 8, s.rightsBase);
      mem.setU64(ptr + 16, s.rightsInheriting);
    },

    fd_fdstat_set_flags(fd: number, flags: number) {
      withRights(ctx, fd, RIGHTS.FD_FDSTAT_SET_FLAGS).setFdflags(flags & 0xffff);
    },

    fd_fdstat_set_rights(fd: number, base: bigint, inheriting: bigint) {
      const d = fds.get(fd);
      const b = u64(base), i = u64(inheriting);
      // Rights can only be dropped, never regained.
      if ((b & ~d.rightsBase) !== 0n || (i & ~d.rightsInheriting) !== 0n) throw new WasiError(ERRNO.NOTCAPABLE, 'cannot add rights');
      d.rightsBase = b;
      d.rightsInheriting = i;
    },

    fd_filestat_get(fd: number, ptr: number) {
      writeFilestat(ctx.memory, ptr, withRights(ctx, fd, RIGHTS.FD_FILESTAT_GET).filestat());
    },

    fd_filestat_set_size(fd: number, size: bigint) {
      withRights(ctx, fd, RIGHTS.FD_FILESTAT_SET_SIZE).setSize(u64(size));
    },

    fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, fstflags: number) {
      withRights(ctx, fd, RIGHTS.FD_FILESTAT_SET_TIMES).setTimes(u64(atim), u64(mtim), fstflags);
    },

    fd_prestat_get(fd: number, ptr: number) {
      const name = GuestMemory.encode(fds.get(fd).prestatName());
      const mem = ctx.memory;
      mem.setU32(ptr, 0); // tag PREOPENTYPE.DIR, then 3 padding bytes
      mem.setU32(ptr + 4, name.length);
    },

    fd_prestat_dir_name(fd: number, path: number, pathLen: number) {
      const name = GuestMemory.encode(fds.get(fd).prestatName());
      if (pathLen >>> 0 < name.length) throw new WasiError(ERRNO.NAMETOOLONG);
      ctx.memory.write(path, name);
    },

    fd_readdir(fd: number, buf: number, bufLen: number, cookie: bigint, bufused: number) {
      const listing = withRights(ctx, fd, RIGHTS.FD_READDIR).readdirBytes(u64(cookie));
      // The listing is already in preview1's layout: one copy, the last entry cut at the buffer's
      // end, so a full buffer (bufused == buf_len) tells the guest there may be more.
      const used = Math.min(listing.length, bufLen >>> 0);
      ctx.memory.write(buf, used === listing.length ? listing : listing.subarray(0, used));
      ctx.memory.setU32(bufused, used);
    },
  };
}
