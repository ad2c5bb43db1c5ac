// sock_accept, sock_recv, sock_send, sock_shutdown: decode guest memory and call the socket
// descriptor (socket.ts), which does the work on the supervising thread through the io broker.
// A descriptor that is not a socket answers NOTSOCK (Descriptor's defaults).
import { ERRNO, FDFLAGS, RIGHTS } from './constants.js';
import type { WasiContext } from './context.js';
import type { Descriptor } from './descriptor.js';
import { WasiError } from './errors.js';
import type { ImportArea } from './host.js';

function withRights(ctx: WasiContext, fd: number, rights: bigint): Descriptor {
  const d = ctx.fds.get(fd);
  if ((d.rightsBase & rights) !== rights) {
    // A file or directory has none of the socket rights: say it is not a socket, as POSIX would.
    if ((d.rightsBase & (RIGHTS.SOCK_ACCEPT | RIGHTS.SOCK_SHUTDOWN)) === 0n && d.filetype !== 6) throw new WasiError(ERRNO.NOTSOCK);
    throw new WasiError(ERRNO.NOTCAPABLE);
  }
  return d;
}

export function sockImports(ctx: WasiContext): ImportArea {
  return {
    sock_accept: (fd: number, flags: number, fdPtr: number) => {
      // Only NONBLOCK is meaningful for the new connection.
      if ((flags & ~FDFLAGS.NONBLOCK) !== 0) throw new WasiError(ERRNO.INVAL);
      const listener = withRights(ctx, fd, RIGHTS.SOCK_ACCEPT);
      ctx.memory.getU32(fdPtr); // fault before accepting, not after
      const conn = listener.sockAccept(flags);
      ctx.memory.setU32(fdPtr, ctx.fds.add(conn));
    },
    sock_recv: (fd: number, riPtr: number, riLen: number, riflags: number, sizePtr: number, roflagsPtr: number) => {
      const d = withRights(ctx, fd, RIGHTS.FD_READ);
      if ((riflags & ~3) !== 0) throw new WasiError(ERRNO.INVAL);
      const mem = ctx.memory;
      const r = d.sockRecv(mem.iovecs(riPtr, riLen), riflags);
      mem.setU32(sizePtr, r.size);
      mem.setU16(roflagsPtr, r.roflags);
    },
    sock_send: (fd: number, siPtr: number, siLen: number, siflags: number, sizePtr: number) => {
      const d = withRights(ctx, fd, RIGHTS.FD_WRITE);
      const mem = ctx.memory;
      mem.setU32(sizePtr, d.sockSend(mem.iovecs(siPtr, siLen), siflags));
    },
    sock_shutdown: (fd: number, how: number) => {
      withRights(ctx, fd, RIGHTS.SOCK_SHUTDOWN).sockShutdown(how);
    },
  };
}
