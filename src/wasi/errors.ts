import { constants as osConstants } from 'node:os';
import { ERRNO } from './constants.js';

/** Thrown inside the host to return an errno to the guest; caught at the import boundary. */
export class WasiError extends Error {
  constructor(readonly errno: number, message?: string) {
    super(message ?? `wasi errno ${errno}`);
  }
}

/** Thrown by proc_exit to unwind the guest's stack; the executor turns it into the exit status. */
export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
  }
}

export const fail = (errno: number, message?: string): never => {
  throw new WasiError(errno, message);
};

// Host (Linux) error codes as Node reports them, mapped to preview1 errno values.
const HOST_ERRNO: Record<string, number> = {
  E2BIG: ERRNO.E2BIG, EACCES: ERRNO.ACCES, EADDRINUSE: ERRNO.ADDRINUSE, EADDRNOTAVAIL: ERRNO.ADDRNOTAVAIL,
  EAFNOSUPPORT: ERRNO.AFNOSUPPORT, EAGAIN: ERRNO.AGAIN, EWOULDBLOCK: ERRNO.AGAIN, EALREADY: ERRNO.ALREADY,
  EBADF: ERRNO.BADF, EBUSY: ERRNO.BUSY, ECANCELED: ERRNO.CANCELED, ECONNABORTED: ERRNO.CONNABORTED,
  ECONNREFUSED: ERRNO.CONNREFUSED, ECONNRESET: ERRNO.CONNRESET, EDEADLK: ERRNO.DEADLK, EDQUOT: ERRNO.DQUOT,
  EEXIST: ERRNO.EXIST, EFAULT: ERRNO.FAULT, EFBIG: ERRNO.FBIG, EHOSTUNREACH: ERRNO.HOSTUNREACH,
  EINPROGRESS: ERRNO.INPROGRESS, EINTR: ERRNO.INTR, EINVAL: ERRNO.INVAL, EIO: ERRNO.IO, EISCONN: ERRNO.ISCONN,
  EISDIR: ERRNO.ISDIR, ELOOP: ERRNO.LOOP, EMFILE: ERRNO.MFILE, EMLINK: ERRNO.MLINK, EMSGSIZE: ERRNO.MSGSIZE,
  ENAMETOOLONG: ERRNO.NAMETOOLONG, ENETDOWN: ERRNO.NETDOWN, ENETRESET: ERRNO.NETRESET,
  ENETUNREACH: ERRNO.NETUNREACH, ENFILE: ERRNO.NFILE, ENOBUFS: ERRNO.NOBUFS, ENODEV: ERRNO.NODEV,
  ENOENT: ERRNO.NOENT, ENOEXEC: ERRNO.NOEXEC, ENOMEM: ERRNO.NOMEM, ENOSPC: ERRNO.NOSPC, ENOSYS: ERRNO.NOSYS,
  ENOTCONN: ERRNO.NOTCONN, ENOTDIR: ERRNO.NOTDIR, ENOTEMPTY: ERRNO.NOTEMPTY, ENOTSOCK: ERRNO.NOTSOCK,
  ENOTSUP: ERRNO.NOTSUP, EOPNOTSUPP: ERRNO.NOTSUP, ENOTTY: ERRNO.NOTTY, ENXIO: ERRNO.NXIO,
  EOVERFLOW: ERRNO.OVERFLOW, EPERM: ERRNO.PERM, EPIPE: ERRNO.PIPE, ERANGE: ERRNO.RANGE, EROFS: ERRNO.ROFS,
  ESPIPE: ERRNO.SPIPE, ESRCH: ERRNO.SRCH, ETIMEDOUT: ERRNO.TIMEDOUT, ETXTBSY: ERRNO.TXTBSY, EXDEV: ERRNO.XDEV,
};

/** Converts anything thrown by host code into an errno, or rethrows what must unwind the guest. */
export function toErrno(error: unknown): number {
  if (error instanceof WasiError) return error.errno;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && code in HOST_ERRNO) return HOST_ERRNO[code];
  throw error;
}

/** A Linux errno number (the addon's -errno results) as node's error code, so the boundary maps it like any fs error. */
export function errnoCode(errno: number): string {
  for (const [code, value] of Object.entries(osConstants.errno)) if (value === errno) return code;
  return 'EIO';
}
