// clock_res_get / clock_time_get. Times are u64 nanoseconds. REALTIME is the wall clock since the
// epoch; MONOTONIC is process.hrtime (CLOCK_MONOTONIC); the CPU-time clocks use process.cpuUsage,
// which reports the whole process (user + system) — Node exposes no per-thread CPU clock, so the
// THREAD clock is the process clock (still monotonic, which is what callers rely on).
import { CLOCKID, ERRNO } from './constants.js';
import type { WasiContext } from './context.js';
import { WasiError } from './errors.js';
import type { ImportArea } from './host.js';

// Offset that turns hrtime into epoch time with sub-millisecond resolution and no drift within a run.
const epochOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** The clock's current value in nanoseconds; INVAL for ids preview1 does not define. */
export function now(id: number): bigint {
  switch (id) {
    case CLOCKID.REALTIME: return process.hrtime.bigint() + epochOffset;
    case CLOCKID.MONOTONIC: return process.hrtime.bigint();
    case CLOCKID.PROCESS_CPUTIME_ID:
    case CLOCKID.THREAD_CPUTIME_ID: {
      const u = process.cpuUsage();
      return BigInt(u.user + u.system) * 1000n;
    }
    default: throw new WasiError(ERRNO.INVAL, `unknown clock id ${id}`);
  }
}

/** Resolution in nanoseconds. */
export function resolution(id: number): bigint {
  switch (id) {
    case CLOCKID.REALTIME:
    case CLOCKID.MONOTONIC: return 1n;
    // process.cpuUsage reports microseconds.
    case CLOCKID.PROCESS_CPUTIME_ID:
    case CLOCKID.THREAD_CPUTIME_ID: return 1000n;
    default: throw new WasiError(ERRNO.INVAL, `unknown clock id ${id}`);
  }
}

export function clockImports(ctx: WasiContext): ImportArea {
  return {
    clock_res_get: (id: number, resPtr: number) => { ctx.memory.setU64(resPtr, resolution(id)); },
    // `precision` is a hint the spec lets hosts ignore.
    clock_time_get: (id: number, _precision: bigint, timePtr: number) => { ctx.memory.setU64(timePtr, now(id)); },
  };
}
