// poll_oneoff: clock subscriptions (relative or ABSTIME) and fd_read / fd_write readiness.
//
// Layouts (api.h): subscription = 48 bytes { userdata u64 @0, tag u8 @8, union @16 } with
//   clock { id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40 } and fd_readwrite { fd u32 @16 };
// event = 32 bytes { userdata u64 @0, error u16 @8, type u8 @10, fd_readwrite { nbytes u64 @16, flags u16 @24 } }.
//
// Waiting blocks the worker thread (Atomics.wait, or a blocking broker call for sockets); it never
// spins. Sockets are asked about in one broker call that also carries the timeout. Other descriptors
// answer pollReadable/pollWritable synchronously; one that is not ready yet (a pipe on stdin) is
// re-asked every few milliseconds while the poll waits.
import { CLOCKID, ERRNO, EVENTRWFLAGS, EVENTTYPE, SUBCLOCKFLAGS } from './constants.js';
import type { WasiContext } from './context.js';
import type { Descriptor, Readiness } from './descriptor.js';
import { WasiError } from './errors.js';
import type { ImportArea } from './host.js';
import { now } from './clock.js';
import { sleepMs } from './io-broker.js';
import { SocketDescriptor } from './socket.js';

export const SUBSCRIPTION_SIZE = 48;
export const EVENT_SIZE = 32;

// How often descriptors that cannot be waited on (pipes, terminals) are re-checked while polling.
const RECHECK_MS = 5;

interface Event { userdata: bigint; error: number; type: number; nbytes: bigint; flags: number }

interface ClockSub { userdata: bigint; deadline: bigint /* on the MONOTONIC clock */ }
interface FdSub { userdata: bigint; type: number; fd: number; d: Descriptor }

const fdEvent = (s: FdSub, r: Readiness): Event => ({
  userdata: s.userdata, error: ERRNO.SUCCESS, type: s.type, nbytes: r.nbytes,
  flags: r.hangup ? EVENTRWFLAGS.FD_READWRITE_HANGUP : 0,
});

export function pollImports(ctx: WasiContext): ImportArea {
  return {
    poll_oneoff: (inPtr: number, outPtr: number, nsubs: number, neventsPtr: number) => {
      const mem = ctx.memory;
      nsubs >>>= 0;
      // Zero subscriptions would block forever; the spec's reference hosts answer INVAL.
      if (nsubs === 0) throw new WasiError(ERRNO.INVAL);
      mem.slice(inPtr, nsubs * SUBSCRIPTION_SIZE);
      mem.slice(outPtr, nsubs * EVENT_SIZE);

      const events: Event[] = [];
      const clocks: ClockSub[] = [];
      const fds: FdSub[] = [];
      const startMono = now(CLOCKID.MONOTONIC);
      for (let i = 0; i < nsubs; i++) {
        const p = inPtr + i * SUBSCRIPTION_SIZE;
        const userdata = mem.getU64(p);
        const tag = mem.getU8(p + 8);
        if (tag === EVENTTYPE.CLOCK) {
          const id = mem.getU32(p + 16);
          const timeout = mem.getU64(p + 24);
          const flags = mem.getU16(p + 40);
          let current: bigint;
          try {
            current = now(id);
          } catch (e) {
            events.push({ userdata, error: e instanceof WasiError ? e.errno : ERRNO.INVAL, type: tag, nbytes: 0n, flags: 0 });
            continue;
          }
          const remaining = (flags & SUBCLOCKFLAGS.SUBSCRIPTION_CLOCK_ABSTIME) !== 0 ? timeout - current : timeout;
          clocks.push({ userdata, deadline: startMono + (remaining > 0n ? remaining : 0n) });
        } else if (tag === EVENTTYPE.FD_READ || tag === EVENTTYPE.FD_WRITE) {
          const fd = mem.getU32(p + 16);
          let d: Descriptor;
          try {
            d = ctx.fds.get(fd);
          } catch {
            events.push({ userdata, error: ERRNO.BADF, type: tag, nbytes: 0n, flags: 0 });
            continue;
          }
          fds.push({ userdata, type: tag, fd, d });
        } else {
          throw new WasiError(ERRNO.INVAL);
        }
      }

      const sockets = fds.filter((s) => s.d instanceof SocketDescriptor);
      const others = fds.filter((s) => !(s.d instanceof SocketDescriptor));
      const expired = (): void => {
        const t = now(CLOCKID.MONOTONIC);
        for (const c of clocks) if (c.deadline <= t) events.push({ userdata: c.userdata, error: 0, type: EVENTTYPE.CLOCK, nbytes: 0n, flags: 0 });
      };
      const checkOthers = (): void => {
        for (const s of others) {
          try {
            const r = s.type === EVENTTYPE.FD_READ ? s.d.pollReadable() : s.d.pollWritable();
            if (r.ready) events.push(fdEvent(s, r));
          } catch (e) {
            if (!(e instanceof WasiError)) throw e;
            events.push({ userdata: s.userdata, error: e.errno, type: s.type, nbytes: 0n, flags: 0 });
          }
        }
      };
      const askSockets = (timeoutMs: number): void => {
        const broker = (sockets[0].d as SocketDescriptor).broker;
        const r = broker.call<{ ready: { index: number; nbytes: number; hangup: boolean; errno?: number }[] }>({
          op: 'poll', subs: sockets.map((s) => ({ h: (s.d as SocketDescriptor).handle, write: s.type === EVENTTYPE.FD_WRITE })), timeoutMs,
        });
        for (const x of r.ready) {
          const s = sockets[x.index];
          if (x.errno !== undefined) events.push({ userdata: s.userdata, error: x.errno, type: s.type, nbytes: 0n, flags: 0 });
          else events.push(fdEvent(s, { ready: true, nbytes: BigInt(x.nbytes), hangup: x.hangup }));
        }
      };

      // Everything ready now is reported together (including alongside BADF/INVAL events).
      checkOthers();
      if (sockets.length > 0) askSockets(0);
      expired();
      while (events.length === 0) {
        // Milliseconds until the nearest clock, or Infinity when there is none.
        let waitMs = Infinity;
        if (clocks.length > 0) {
          const t = now(CLOCKID.MONOTONIC);
          const nearest = clocks.reduce((m, c) => (c.deadline < m ? c.deadline : m), clocks[0].deadline);
          waitMs = Math.max(0, Number(nearest - t) / 1e6);
        }
        if (others.length > 0) waitMs = Math.min(waitMs, RECHECK_MS);
        if (sockets.length > 0) askSockets(waitMs === Infinity ? -1 : Math.ceil(waitMs));
        else if (waitMs === Infinity) throw new WasiError(ERRNO.INVAL); // nothing could ever wake us
        else sleepMs(waitMs);
        if (others.length > 0) checkOthers();
        expired();
      }

      events.forEach((e, i) => {
        const p = outPtr + i * EVENT_SIZE;
        mem.slice(p, EVENT_SIZE).fill(0);
        mem.setU64(p, e.userdata);
        mem.setU16(p + 8, e.error);
        mem.setU8(p + 10, e.type);
        mem.setU64(p + 16, e.nbytes);
        mem.setU16(p + 24, e.flags);
      });
      mem.setU32(neventsPtr, events.length);
    },
  };
}
