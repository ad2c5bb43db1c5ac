// wasi:clocks and wasi:random, on preview1's clock and CSPRNG code.
import { CLOCKID } from '../constants.js';
import { now, resolution } from '../clock.js';
import { fillRandom } from '../random.js';
import { Pollable } from './streams.js';

const NS = 1_000_000_000n;
/** wasi:clocks `datetime` from nanoseconds since the epoch (wall clock, file times). */
export const datetime = (ns: bigint): { seconds: bigint; nanoseconds: number } => ({ seconds: ns / NS, nanoseconds: Number(ns % NS) });
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

const randomBytes = (len: bigint): Uint8Array => {
  const out = new Uint8Array(Number(len));
  fillRandom(out);
  return out;
};
const randomU64 = (): bigint => new DataView(randomBytes(8n).buffer).getBigUint64(0, true);

export function clockAndRandomImports(): Record<string, Record<string, unknown>> {
  const monotonic = (): bigint => now(CLOCKID.MONOTONIC);
  const at = (deadline: bigint): Pollable => new Pollable(() => monotonic() >= deadline, deadline);
  return {
    'wasi:clocks/monotonic-clock': {
      now: monotonic,
      resolution: () => resolution(CLOCKID.MONOTONIC),
      subscribeInstant: (when: bigint) => at(u64(when)),
      subscribeDuration: (duration: bigint) => at(monotonic() + u64(duration)),
    },
    'wasi:clocks/wall-clock': {
      now: () => datetime(now(CLOCKID.REALTIME)),
      resolution: () => datetime(resolution(CLOCKID.REALTIME)),
    },
    'wasi:random/random': { getRandomBytes: randomBytes, getRandomU64: randomU64 },
    // The insecure interfaces get the secure generator: no reason to keep a second one.
    'wasi:random/insecure': { getInsecureRandomBytes: randomBytes, getInsecureRandomU64: randomU64 },
    'wasi:random/insecure-seed': { insecureSeed: (): [bigint, bigint] => [randomU64(), randomU64()] },
  };
}
