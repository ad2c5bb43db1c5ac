// proc_exit, proc_raise, sched_yield.
// proc_raise: preview1 deprecated it and wasi-libc's raise() no longer calls it for most signals; like
// wasmtime we do not deliver signals into the guest and answer NOSYS.
// sched_yield: the guest is the only thing on its thread, so there is nothing to yield to; success.
import { ERRNO } from './constants.js';
import type { WasiContext } from './context.js';
import { ProcExit } from './errors.js';
import type { ImportArea } from './host.js';

export function procImports(_ctx: WasiContext): ImportArea {
  return {
    proc_exit: (code: number) => { throw new ProcExit(code >>> 0); },
    proc_raise: (_sig: number) => ERRNO.NOSYS,
    sched_yield: () => ERRNO.SUCCESS,
  };
}
