// STUB: to be replaced by the real implementation of this area.
import { ERRNO } from './constants.js';
import type { WasiContext } from './context.js';
import type { ImportArea } from './host.js';

export function pathImports(_ctx: WasiContext): ImportArea {
  const nosys = () => ERRNO.NOSYS;
  return { path_create_directory: nosys, path_filestat_get: nosys, path_filestat_set_times: nosys, path_link: nosys, path_open: nosys, path_readlink: nosys, path_remove_directory: nosys, path_rename: nosys, path_symlink: nosys, path_unlink_file: nosys, };
}
