// HTTP bodies as wasi:io streams. A received body (a request to the server, a response to an
// outbound request) is a node Readable read chunk by chunk with backpressure; a sent body goes to a
// node Writable (the server's response, an outbound request), held back until that exists. The
// blocking calls return a promise when they must wait: HTTP components run with their blocking
// imports suspending (JSPI, docs/architecture.md "Asynchrony"), so a waiting guest holds no thread.
import type { IncomingMessage, ClientRequest, ServerResponse } from 'node:http';
import { IoError } from './errors.js';
import { Fields } from './http-fields.js';
import { InputStream, OutputStream, Pollable } from './streams.js';

/** What a received body keeps unread before it pauses the connection. */
const HIGH_WATER = 1 << 20;
const closed = { tag: 'closed' } as const;

/** A received body: chunks as they arrive, then its end (with trailers) or its failure. */
export class BodySource {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private waiting: Promise<void> | undefined;

  constructor(readonly message: IncomingMessage) {
    message.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered >= HIGH_WATER) message.pause();
      this.notify();
    });
    message.once('end', () => { this.ended = true; this.notify(); });
    message.once('error', (e) => { this.failure = e; this.notify(); });
    // A connection that closes before the end is a failed body.
    message.once('close', () => {
      if (!this.ended && this.failure === undefined) this.failure = new Error('the connection closed before the body ended');
      this.notify();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = this.waiting = undefined;
    wake?.();
  }

  /** Whether a read would not wait (data, the end, or a failure). */
  ready(): boolean { return this.chunks.length > 0 || this.done(); }
  done(): boolean { return this.ended || this.failure !== undefined; }
  completed(): boolean { return this.ended; }
  failed(): Error | undefined { return this.failure; }

  /** Settles when something changes (data, end, failure). */
  changed(): Promise<void> {
    if (this.ready()) return Promise.resolve();
    return (this.waiting ??= new Promise<void>((resolve) => { this.wake = resolve; }));
  }

  /** Settles at the end of the body (or its failure). */
  async finished(): Promise<void> {
    // Nobody reads what is left: let it flow so that the end comes.
    this.chunks = [];
    this.buffered = 0;
    this.message.resume();
    while (!this.done()) await this.changed();
  }

  /** Up to `max` bytes that are here now; empty when none are. Throws the stream error at the end. */
  take(max: number): Uint8Array {
    if (this.chunks.length === 0) {
      if (this.failure !== undefined) throw { tag: 'last-operation-failed', val: new IoError('io', this.failure.message) };
      if (this.ended) throw closed;
      return new Uint8Array(0);
    }
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length <= max) {
      out = first;
      this.chunks.shift();
    } else {
      out = first.subarray(0, max);
      this.chunks[0] = first.subarray(max);
    }
    this.buffered -= out.length;
    if (this.buffered < HIGH_WATER && this.message.isPaused()) this.message.resume();
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  trailers(): Fields | undefined {
    return this.message.rawTrailers.length > 0 ? Fields.received(this.message.rawTrailers) : undefined;
  }
}

const count = (len: bigint): number => Number(len > 0x7fffffffn ? 0x7fffffffn : len);

/** A received body's `input-stream`. */
export class BodyInputStream extends InputStream {
  constructor(private readonly body: BodySource) {
    super({ read: () => 0, ready: () => true });
  }

  override read(len: bigint): Uint8Array {
    return this.body.take(count(len));
  }

  override blockingRead(len: bigint): Uint8Array {
    if (this.body.ready() || len === 0n) return this.read(len);
    // A promise where the WIT returns bytes: the suspending import waits on it (asyncMode jspi).
    return this.body.changed().then(() => this.blockingRead(len)) as unknown as Uint8Array;
  }

  override skip(len: bigint): bigint { return BigInt(this.read(len).length); }
  override blockingSkip(len: bigint): bigint {
    const got = this.blockingRead(len) as Uint8Array | Promise<Uint8Array>;
    return (got instanceof Promise ? got.then((b) => BigInt(b.length)) : BigInt(got.length)) as bigint;
  }

  override subscribe(): Pollable {
    return new Pollable(() => this.body.ready(), undefined, undefined, () => this.body.changed());
  }
}

/** Where a sent body goes once it has a destination: the server's response or an outbound request. */
type Destination = ServerResponse | ClientRequest;

/** What a sent body holds before its destination exists, at most (then writes wait). */
const PENDING_LIMIT = 1 << 20;

/** A sent body: its bytes, its end (with trailers), or its abandonment. */
export class BodySink {
  private out: Destination | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ending: { trailers?: Fields } | undefined;
  private attachedWake: (() => void) | undefined;
  ended = false;

  attach(out: Destination): void {
    this.out = out;
    for (const chunk of this.pending) out.write(chunk);
    this.pending = [];
    this.pendingBytes = 0;
    this.attachedWake?.();
    if (this.ending !== undefined) this.end(this.ending.trailers);
  }

  attached(): boolean { return this.out !== undefined; }

  write(bytes: Uint8Array): void {
    if (this.ended) throw closed;
    // Copied: the glue's buffer is the guest's memory, reused after the call.
    const chunk = Buffer.from(bytes);
    if (this.out !== undefined) {
      if (this.out.destroyed) throw closed;
      this.out.write(chunk);
    } else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
  }

  /**
   * Sends what is written now: node corks a message's writes until the next tick, which never
   * comes while a guest keeps the thread (a guest that flushes, then computes). Uncorked and corked
   * again as often: node's own uncork on the next tick then finds the count it expects.
   */
  flush(): void {
    const out = this.out;
    if (out === undefined) return;
    const corks = out.writableCorked;
    for (let i = 0; i < corks; i++) out.uncork();
    for (let i = 0; i < corks; i++) out.cork();
  }

  /** Whether a write now would go past what may be held (the peer reads slower than the guest writes). */
  full(): boolean {
    if (this.out === undefined) return this.pendingBytes >= PENDING_LIMIT;
    return this.out.writableNeedDrain && !this.out.destroyed;
  }

  /** Settles when writing may go on. */
  drained(): Promise<void> {
    if (!this.full()) return Promise.resolve();
    const out = this.out;
    if (out === undefined) return new Promise<void>((resolve) => { this.attachedWake = resolve; });
    return new Promise<void>((resolve) => {
      const done = (): void => { out.off('drain', done); out.off('close', done); resolve(); };
      out.on('drain', done);
      out.on('close', done);
    });
  }

  /** The body's end, with trailers if any (sent only with chunked encoding, as HTTP/1.1 allows). */
  end(trailers?: Fields): void {
    this.ended = true;
    if (this.out === undefined) {
      this.ending = { trailers };
      return;
    }
    if (trailers !== undefined) {
      const raw = trailers.toRaw();
      const pairs: [string, string][] = [];
      for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
      if (pairs.length > 0) this.out.addTrailers(pairs);
    }
    this.out.end();
  }

  /** A body dropped unfinished: the peer must not take it for complete. */
  abort(): void {
    this.ended = true;
    this.out?.destroy();
  }
}

/** What check-write allows at a time. */
const WRITE_BUDGET = 1n << 16n;

/** A sent body's `output-stream`. */
export class BodyOutputStream extends OutputStream {
  constructor(private readonly body: BodySink) {
    super({ write: () => {} });
  }

  override checkWrite(): bigint {
    if (this.body.ended) throw closed;
    return this.body.full() ? 0n : WRITE_BUDGET;
  }

  override write(contents: Uint8Array): void {
    if (contents.length > 0) this.body.write(contents);
  }

  override blockingWriteAndFlush(contents: Uint8Array): void {
    this.write(contents);
    return this.blockingFlush();
  }

  override flush(): void { this.body.flush(); }

  override blockingFlush(): void {
    this.body.flush();
    if (this.body.full()) return this.body.drained() as unknown as void;
  }

  override subscribe(): Pollable {
    return new Pollable(() => !this.body.full(), undefined, undefined, () => this.body.drained());
  }
}
