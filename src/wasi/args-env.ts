// args_get / args_sizes_get / environ_get / environ_sizes_get: the guest sees exactly the strings it
// was given (options.args, options.env), in order, each NUL-terminated and packed into one buffer.
import type { WasiContext } from './context.js';
import type { ImportArea } from './host.js';
import { GuestMemory } from './memory.js';

/** Encodes strings as the C runtime expects them: UTF-8, each followed by a NUL. */
export function encodeStrings(list: readonly string[]): Uint8Array[] {
  return list.map((s) => {
    const bytes = GuestMemory.encode(s);
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes);
    return out;
  });
}

function sizes(ctx: WasiContext, encoded: Uint8Array[], countPtr: number, sizePtr: number): void {
  let total = 0;
  for (const e of encoded) total += e.length;
  ctx.memory.setU32(countPtr, encoded.length);
  ctx.memory.setU32(sizePtr, total);
}

/** Writes the pointer array at listPtr and the packed strings at bufPtr. */
function store(ctx: WasiContext, encoded: Uint8Array[], listPtr: number, bufPtr: number): void {
  const mem = ctx.memory;
  let at = bufPtr >>> 0;
  encoded.forEach((e, i) => {
    mem.setU32(listPtr + i * 4, at);
    mem.write(at, e);
    at += e.length;
  });
}

export function argsEnvImports(ctx: WasiContext): ImportArea {
  // Encoded once: the strings cannot change during the instance's life.
  const args = encodeStrings(ctx.options.args);
  const env = encodeStrings(ctx.options.env);
  return {
    args_sizes_get: (countPtr: number, sizePtr: number) => sizes(ctx, args, countPtr, sizePtr),
    args_get: (listPtr: number, bufPtr: number) => store(ctx, args, listPtr, bufPtr),
    environ_sizes_get: (countPtr: number, sizePtr: number) => sizes(ctx, env, countPtr, sizePtr),
    environ_get: (listPtr: number, bufPtr: number) => store(ctx, env, listPtr, bufPtr),
  };
}
