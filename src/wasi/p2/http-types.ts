// wasi:http/types: the requests, responses, bodies and futures of an HTTP component, on node's
// http objects (the server side in src/wasm/http-serve-worker.ts, the client side in
// http-outgoing.ts). Values follow the glue's shapes: variants `{ tag, val }`, options as the value
// or undefined, a result's error thrown as its payload.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyInputStream, BodyOutputStream, BodySink, BodySource } from './http-body.js';
import { Fields } from './http-fields.js';
import { Pollable } from './streams.js';

export type Method = { tag: 'get' | 'head' | 'post' | 'put' | 'delete' | 'connect' | 'options' | 'trace' | 'patch' } | { tag: 'other'; val: string };
export type Scheme = { tag: 'HTTP' | 'HTTPS' } | { tag: 'other'; val: string };
/** wasi:http `error-code` (only the cases hyrun produces are spelled out). */
export type ErrorCode = { tag: string; val?: unknown };

const STANDARD_METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch']);

export function toMethod(name: string): Method {
  const lower = name.toLowerCase();
  return STANDARD_METHODS.has(lower) && name === name.toUpperCase() ? { tag: lower } as Method : { tag: 'other', val: name };
}

export const methodName = (m: Method): string => (m.tag === 'other' ? m.val : m.tag.toUpperCase());

/** A result<_> error has no payload: anything that is not an Error will do. */
const refused = null;

/** The `result` the WIT's resource getters return once: the second take is an error. */
function once<T>(taken: { value: boolean }, make: () => T): T {
  if (taken.value) throw refused;
  taken.value = true;
  return make();
}

export class IncomingBody {
  private readonly streamTaken = { value: false };
  constructor(readonly source: BodySource) {}

  stream(): BodyInputStream {
    return once(this.streamTaken, () => new BodyInputStream(this.source));
  }

  static finish(body: IncomingBody): FutureTrailers {
    return new FutureTrailers(body.source);
  }

  [Symbol.dispose](): void {}
}

export class FutureTrailers {
  private taken = false;
  private waiting: Promise<void> | undefined;
  constructor(private readonly source: BodySource) {}

  subscribe(): Pollable {
    return new Pollable(() => this.source.done(), undefined, undefined, () => (this.waiting ??= this.source.finished()));
  }

  get(): { tag: 'ok' | 'err'; val?: unknown } | undefined {
    if (!this.source.done()) {
      this.waiting ??= this.source.finished();
      return undefined;
    }
    if (this.taken) return { tag: 'err' };
    this.taken = true;
    const failure = this.source.failed();
    if (failure !== undefined) return { tag: 'ok', val: { tag: 'err', val: { tag: 'HTTP-protocol-error' } } };
    return { tag: 'ok', val: { tag: 'ok', val: this.source.trailers() } };
  }

  [Symbol.dispose](): void {}
}

/** A request the server received. */
export class IncomingRequest {
  private readonly consumed = { value: false };
  private headerFields: Fields | undefined;
  private readonly source: BodySource;

  constructor(private readonly message: IncomingMessage, private readonly secure = false) {
    this.source = new BodySource(message);
  }

  method(): Method { return toMethod(this.message.method ?? 'GET'); }
  pathWithQuery(): string | undefined { return this.message.url; }
  scheme(): Scheme { return { tag: this.secure ? 'HTTPS' : 'HTTP' }; }
  authority(): string | undefined { return this.message.headers.host; }
  headers(): Fields { return (this.headerFields ??= Fields.received(this.message.rawHeaders)); }
  consume(): IncomingBody { return once(this.consumed, () => new IncomingBody(this.source)); }
  [Symbol.dispose](): void {}
}

/** A response a server-side guest builds. */
export class OutgoingResponse {
  status = 200;
  readonly sink = new BodySink();
  private readonly bodyTaken = { value: false };

  constructor(private readonly fields: Fields) {}

  statusCode(): number { return this.status; }

  setStatusCode(code: number): void {
    // What node (and the http crate wasmtime uses) accept: three digits from 100.
    if (code < 100 || code > 999) throw refused;
    this.status = code;
  }

  headers(): Fields { return this.fields; }
  body(): OutgoingBody { return once(this.bodyTaken, () => new OutgoingBody(this.sink)); }
  bodyWasTaken(): boolean { return this.bodyTaken.value; }
  [Symbol.dispose](): void {}
}

export class OutgoingBody {
  private readonly streamTaken = { value: false };
  private finished = false;
  constructor(readonly sink: BodySink) {}

  write(): BodyOutputStream { return once(this.streamTaken, () => new BodyOutputStream(this.sink)); }

  static finish(body: OutgoingBody, trailers: Fields | undefined): void {
    body.finished = true;
    body.sink.end(trailers?.freeze());
  }

  /** Dropped without finish: the body is incomplete, and the peer must see that. */
  [Symbol.dispose](): void {
    if (!this.finished) this.sink.abort();
  }
}

/** How the server hears about the guest's answer (http-serve-worker.ts). */
export interface ResponseTarget {
  res: ServerResponse;
  /** The response the guest set, once it has (or the error code it answered with). */
  response?: OutgoingResponse;
  error?: ErrorCode;
}

export class ResponseOutparam {
  constructor(readonly target: ResponseTarget) {}

  static set(param: ResponseOutparam, result: { tag: 'ok'; val: OutgoingResponse } | { tag: 'err'; val: ErrorCode }): void {
    const t = param.target;
    if (t.response !== undefined || t.error !== undefined) return;
    if (result.tag === 'err') {
      t.error = result.val;
      if (!t.res.headersSent) t.res.writeHead(500, { 'content-type': 'text/plain' }).end(`the handler answered with error-code ${result.val.tag}\n`);
      return;
    }
    const response = (t.response = result.val);
    response.headers().freeze();
    t.res.writeHead(response.status, response.headers().toRaw());
    // A response without a body still needs its head sent now (the guest may keep running).
    if (!response.bodyWasTaken()) t.res.flushHeaders();
    response.sink.attach(t.res);
  }

  sendInformational(): never {
    throw { tag: 'internal-error', val: 'informational responses are not supported' };
  }

  [Symbol.dispose](): void {}
}

export class RequestOptions {
  private connect: bigint | undefined;
  private firstByte: bigint | undefined;
  private betweenBytes: bigint | undefined;
  connectTimeout(): bigint | undefined { return this.connect; }
  setConnectTimeout(d: bigint | undefined): void { this.connect = d; }
  firstByteTimeout(): bigint | undefined { return this.firstByte; }
  setFirstByteTimeout(d: bigint | undefined): void { this.firstByte = d; }
  betweenBytesTimeout(): bigint | undefined { return this.betweenBytes; }
  setBetweenBytesTimeout(d: bigint | undefined): void { this.betweenBytes = d; }
  [Symbol.dispose](): void {}
}

/** The error code a stream's io-error stands for: hyrun's stream errors carry none. */
export const httpErrorCode = (): ErrorCode | undefined => undefined;
