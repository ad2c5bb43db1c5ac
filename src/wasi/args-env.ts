// STUB: to be replaced by the real implementation of this area.
import { ERRNO } from './constants.js';
import type { WasiContext } from './context.js';
import type { ImportArea } from './host.js';

export function argsEnvImports(_ctx: WasiContext): ImportArea {
  const nosys = () => ERRNO.NOSYS;
  return { args_get: nosys, args_sizes_get: nosys, environ_get: nosys, environ_sizes_get: nosys, };
}
