// STUB: to be replaced by the real implementation of this area.
import { ERRNO } from './constants.js';
import type { WasiContext } from './context.js';
import type { ImportArea } from './host.js';

export function procImports(_ctx: WasiContext): ImportArea {
  const nosys = () => ERRNO.NOSYS;
  return { proc_exit: nosys, proc_raise: nosys, sched_yield: nosys, };
}
