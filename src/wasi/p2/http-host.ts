// What an HTTP component imports beyond a command's (the wasi:http/proxy world): wasi:http/types
// and wasi:http/outgoing-handler, and a poll that waits without holding the thread (its blocking
// calls are suspending imports: many requests' guests wait at once on one thread).
import { Fields } from './http-fields.js';
import { FutureIncomingResponse, IncomingResponse, OutgoingRequest, outgoingHandler } from './http-outgoing.js';
import { FutureTrailers, httpErrorCode, IncomingBody, IncomingRequest, OutgoingBody, OutgoingResponse, RequestOptions, ResponseOutparam } from './http-types.js';
import { Pollable, useAsyncPoll } from './streams.js';

/** How long a poll waits between readiness checks of something that can say neither when nor how (a pipe). */
const IDLE_POLL_MS = 5;

/** wasi:io/poll `poll` for suspending callers: resolves with the ready indices, holding no thread meanwhile. */
export async function pollAsync(list: Pollable[]): Promise<Uint32Array> {
  for (;;) {
    const ready: number[] = [];
    list.forEach((p, i) => { if (p.ready()) ready.push(i); });
    if (ready.length > 0) return Uint32Array.from(ready);
    const waits: Promise<void>[] = [];
    let delayMs = Infinity;
    const now = process.hrtime.bigint();
    for (const p of list) {
      if (p.whenReady !== undefined) waits.push(p.whenReady());
      else delayMs = Math.min(delayMs, p.deadline === undefined ? IDLE_POLL_MS : Number(p.deadline - now) / 1e6);
    }
    let timer: NodeJS.Timeout | undefined;
    if (delayMs !== Infinity) waits.push(new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.max(delayMs, 0)); }));
    await Promise.race(waits);
    clearTimeout(timer);
  }
}

export type HttpImports = Record<string, Record<string, unknown>>;

/** The wasi:http imports; outbound requests only with `allowNet`. Makes wasi:io/poll wait asynchronously on this thread. */
export function httpImports(allowNet: boolean): HttpImports {
  useAsyncPoll(pollAsync);
  return {
    'wasi:http/types': {
      Fields, FutureIncomingResponse, FutureTrailers, IncomingBody, IncomingRequest, IncomingResponse, OutgoingBody,
      OutgoingRequest, OutgoingResponse, RequestOptions, ResponseOutparam, httpErrorCode,
    },
    'wasi:http/outgoing-handler': outgoingHandler(allowNet),
  };
}
