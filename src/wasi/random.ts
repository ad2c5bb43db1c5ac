// random_get: bytes from the OS CSPRNG, through Node's crypto (OpenSSL's RAND, seeded by the
// kernel) via the Web Crypto global. The global is initialised on first use, which keeps node:crypto
// off the worker's start-up path for the many guests that never ask for randomness.
// getRandomValues fills at most 65536 bytes per call, so large requests are filled in chunks.
import type { WasiContext } from './context.js';
import type { ImportArea } from './host.js';

const CHUNK = 65536;

/** Fills `view` from the CSPRNG (WASI 0.2's wasi:random uses it too). */
export function fillRandom(view: Uint8Array): void {
  for (let off = 0; off < view.length; off += CHUNK) globalThis.crypto.getRandomValues(view.subarray(off, Math.min(off + CHUNK, view.length)));
}

export function randomImports(ctx: WasiContext): ImportArea {
  return {
    random_get: (bufPtr: number, len: number) => fillRandom(ctx.memory.slice(bufPtr, len)),
  };
}
