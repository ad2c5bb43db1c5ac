// STUB: to be replaced by the real implementation of this area.
import { ERRNO } from './constants.js';
import type { WasiContext } from './context.js';
import type { ImportArea } from './host.js';

export function sockImports(_ctx: WasiContext): ImportArea {
  const nosys = () => ERRNO.NOSYS;
  return { sock_accept: nosys, sock_recv: nosys, sock_send: nosys, sock_shutdown: nosys, };
}
