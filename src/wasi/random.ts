// STUB: to be replaced by the real implementation of this area.
import { ERRNO } from './constants.js';
import type { WasiContext } from './context.js';
import type { ImportArea } from './host.js';

export function randomImports(_ctx: WasiContext): ImportArea {
  const nosys = () => ERRNO.NOSYS;
  return { random_get: nosys, };
}
