// STUB: to be replaced by the real implementation of this area.
import { ERRNO } from './constants.js';
import type { WasiContext } from './context.js';
import type { ImportArea } from './host.js';

export function fdImports(_ctx: WasiContext): ImportArea {
  const nosys = () => ERRNO.NOSYS;
  return { fd_advise: nosys, fd_allocate: nosys, fd_close: nosys, fd_datasync: nosys, fd_fdstat_get: nosys, fd_fdstat_set_flags: nosys, fd_fdstat_set_rights: nosys, fd_filestat_get: nosys, fd_filestat_set_size: nosys, fd_filestat_set_times: nosys, fd_pread: nosys, fd_prestat_get: nosys, fd_prestat_dir_name: nosys, fd_pwrite: nosys, fd_read: nosys, fd_readdir: nosys, fd_renumber: nosys, fd_seek: nosys, fd_sync: nosys, fd_tell: nosys, fd_write: nosys, };
}
