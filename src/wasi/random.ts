// random_get: bytes from the OS CSPRNG (node:crypto randomFillSync). randomFillSync rejects views
// larger than 2^31-1 bytes, and big fills are better done in pieces anyway, so fill in 64 KiB chunks.
import { randomFillSync } from 'node:crypto';
import type { WasiContext } from './context.js';
import type { ImportArea } from './host.js';

const CHUNK = 65536;

export function randomImports(ctx: WasiContext): ImportArea {
  return {
    random_get: (bufPtr: number, len: number) => {
      const view = ctx.memory.slice(bufPtr, len);
      for (let off = 0; off < view.length; off += CHUNK) randomFillSync(view.subarray(off, Math.min(off + CHUNK, view.length)));
    },
  };
}
