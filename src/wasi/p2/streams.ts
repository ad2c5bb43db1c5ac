// wasi:io — pollables, input and output streams. One class per resource (the glue checks that a
// returned resource is an instance of the class it was given); what a stream reads from or writes
// to is a small source/sink object, so stdio and files share the classes. Every call is
// synchronous: a command component has the thread to itself, and blocking is what its
// `blocking-*` calls ask for.
import { sleepMs } from '../io-broker.js';
import { streamError } from './errors.js';

/** Where an input stream's bytes come from. `read` returns 0 at end of stream. */
export interface ByteSource {
  read(into: Uint8Array): number;
  /** Whether a read would not block now. */
  ready(): boolean;
}

/** Where an output stream's bytes go; `write` takes them all or throws. */
export interface ByteSink {
  write(bytes: Uint8Array): void;
}

/** How long a poll waits between readiness checks of something with no deadline (a pipe). */
const IDLE_POLL_MS = 5;

/**
 * Readiness that another thread keeps (sockets: the net thread, sockets.ts): asked for all of a
 * poll's subscriptions at once, and waited on there, so a poll on sockets does not spin.
 */
export interface RemoteReadiness {
  /** Indices of `subs` that are ready, waiting up to timeoutMs for one (-1: no limit, 0: none). */
  wait(subs: unknown[], timeoutMs: number): number[];
}

/**
 * wasi:io/poll `pollable`: ready now, or a time at which it will be (`deadline`, monotonic ns), or
 * one subscription (`sub`) on another thread's readiness (`remote`), or when `whenReady` settles
 * (what an HTTP body or future waits on: only the async poll uses it).
 */
export class Pollable {
  constructor(private readonly isReady: () => boolean, readonly deadline?: bigint, readonly remote?: { readiness: RemoteReadiness; sub: unknown },
    readonly whenReady?: () => Promise<void>) {}
  ready(): boolean {
    return this.remote === undefined ? this.isReady() : this.remote.readiness.wait([this.remote.sub], 0).length > 0;
  }
  block(): void | Promise<void> {
    const waited = poll([this]);
    if (waited instanceof Promise) return waited.then(() => undefined);
  }
}

/**
 * The poll that waits without holding the thread (HTTP components: their blocking calls are
 * suspending imports, src/wasi/p2/http-host.ts); unset, poll sleeps, as a command component may.
 */
let asyncPoll: ((list: Pollable[]) => Promise<Uint32Array>) | undefined;
export const useAsyncPoll = (wait: (list: Pollable[]) => Promise<Uint32Array>): void => { asyncPoll = wait; };

export const readyPollable = (): Pollable => new Pollable(() => true);

/** wasi:io/poll `poll`: the indices of the pollables that are ready, waiting until one is. */
export function poll(list: Pollable[]): Uint32Array | Promise<Uint32Array> {
  if (list.length === 0) throw new Error('poll of an empty list');
  // Suspending callers (HTTP components; no remote readiness there) wait without holding the thread.
  if (asyncPoll !== undefined) return asyncPoll(list);
  const remote = list.flatMap((p, i) => (p.remote === undefined ? [] : [i]));
  for (;;) {
    const ready: number[] = [];
    list.forEach((p, i) => { if (p.remote === undefined && p.ready()) ready.push(i); });
    // Sleep until the nearest deadline, or a short while when something without one may become ready.
    const now = process.hrtime.bigint();
    let wait = Infinity;
    for (const p of list) if (p.remote === undefined) wait = Math.min(wait, p.deadline === undefined ? IDLE_POLL_MS : Number(p.deadline - now) / 1e6);
    if (remote.length > 0) {
      // One question to the other thread for all its subscriptions, which also waits there for the local ones' time.
      const readiness = list[remote[0]!]!.remote!.readiness;
      const timeout = ready.length > 0 ? 0 : wait === Infinity ? -1 : Math.max(Math.ceil(wait), 1);
      for (const j of readiness.wait(remote.map((i) => list[i]!.remote!.sub), timeout)) ready.push(remote[j]!);
      if (ready.length > 0) return Uint32Array.from(ready.sort((a, b) => a - b));
      continue;
    }
    if (ready.length > 0) return Uint32Array.from(ready);
    sleepMs(Math.max(wait, 0.05));
  }
}

const closed = { tag: 'closed' } as const;
const toCount = (len: bigint): number => Number(len > 0x7fffffffn ? 0x7fffffffn : len);
/** Chunk of a single read: guests ask for up to 4 GiB, the host reads what is there. */
const MAX_READ = 1 << 20;

export class InputStream {
  constructor(private readonly source: ByteSource) {}

  read(len: bigint): Uint8Array {
    if (!this.source.ready()) return new Uint8Array(0);
    return this.blockingRead(len);
  }

  blockingRead(len: bigint): Uint8Array {
    const want = Math.min(toCount(len), MAX_READ);
    if (want === 0) return new Uint8Array(0);
    const buf = new Uint8Array(want);
    let n: number;
    try {
      n = this.source.read(buf);
    } catch (e) {
      throw streamError(e);
    }
    if (n === 0) throw closed;
    return buf.subarray(0, n);
  }

  skip(len: bigint): bigint { return BigInt(this.read(len).length); }
  blockingSkip(len: bigint): bigint { return BigInt(this.blockingRead(len).length); }
  subscribe(): Pollable { return new Pollable(() => this.source.ready()); }
  [Symbol.dispose](): void {}
}

/** What check-write allows at a time; writes are complete, so this only bounds each copy. */
const WRITE_BUDGET = 1n << 20n;

export class OutputStream {
  constructor(private readonly sink: ByteSink) {}

  checkWrite(): bigint { return WRITE_BUDGET; }

  write(contents: Uint8Array): void {
    if (contents.length === 0) return;
    try {
      this.sink.write(contents);
    } catch (e) {
      throw streamError(e);
    }
  }

  blockingWriteAndFlush(contents: Uint8Array): void { this.write(contents); }
  flush(): void {}
  blockingFlush(): void {}
  writeZeroes(len: bigint): void { this.write(new Uint8Array(toCount(len))); }
  blockingWriteZeroesAndFlush(len: bigint): void { this.writeZeroes(len); }

  splice(src: InputStream, len: bigint): bigint {
    const bytes = src.read(len);
    this.write(bytes);
    return BigInt(bytes.length);
  }

  blockingSplice(src: InputStream, len: bigint): bigint {
    const bytes = src.blockingRead(len);
    this.write(bytes);
    return BigInt(bytes.length);
  }

  subscribe(): Pollable { return readyPollable(); }
  [Symbol.dispose](): void {}
}
