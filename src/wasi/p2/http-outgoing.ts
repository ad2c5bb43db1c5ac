// wasi:http/outgoing-handler and the outbound side of wasi:http/types: a guest's request sent with
// node's http/https client. Denied (error-code HTTP-request-denied) unless the host grants the
// network (`allowNet`: `--allow-net`, or a container, whose network namespace is the boundary).
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { BodySink, BodySource } from './http-body.js';
import { Fields } from './http-fields.js';
import { IncomingBody, OutgoingBody, methodName, type ErrorCode, type Method, type RequestOptions, type Scheme } from './http-types.js';
import { Pollable } from './streams.js';

const refused = null;

export class OutgoingRequest {
  private methodValue: Method = { tag: 'get' };
  private path: string | undefined;
  private schemeValue: Scheme | undefined;
  private authorityValue: string | undefined;
  readonly sink = new BodySink();
  private bodyTaken = false;

  constructor(private readonly fields: Fields) {}

  body(): OutgoingBody {
    if (this.bodyTaken) throw refused;
    this.bodyTaken = true;
    return new OutgoingBody(this.sink);
  }

  bodyWasTaken(): boolean { return this.bodyTaken; }
  method(): Method { return this.methodValue; }
  setMethod(m: Method): void {
    if (m.tag === 'other' && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(m.val)) throw refused;
    this.methodValue = m;
  }
  pathWithQuery(): string | undefined { return this.path; }
  setPathWithQuery(p: string | undefined): void {
    if (p !== undefined && /[\s]/.test(p)) throw refused;
    this.path = p;
  }
  scheme(): Scheme | undefined { return this.schemeValue; }
  setScheme(s: Scheme | undefined): void { this.schemeValue = s; }
  authority(): string | undefined { return this.authorityValue; }
  setAuthority(a: string | undefined): void {
    if (a !== undefined && !/^[^\s/?#@]*(@[^\s/?#@]*)?$/.test(a)) throw refused;
    this.authorityValue = a;
  }
  headers(): Fields { return this.fields; }
  [Symbol.dispose](): void {}
}

export class IncomingResponse {
  private consumed = false;
  private headerFields: Fields | undefined;
  private readonly source: BodySource;
  constructor(private readonly message: IncomingMessage) {
    this.source = new BodySource(message);
  }
  status(): number { return this.message.statusCode ?? 0; }
  headers(): Fields { return (this.headerFields ??= Fields.received(this.message.rawHeaders)); }
  consume(): IncomingBody {
    if (this.consumed) throw refused;
    this.consumed = true;
    return new IncomingBody(this.source);
  }
  [Symbol.dispose](): void {
    if (!this.consumed) this.message.resume();
  }
}

type Outcome = { tag: 'ok'; val: IncomingResponse } | { tag: 'err'; val: ErrorCode };

export class FutureIncomingResponse {
  private outcome: Outcome | undefined;
  private taken = false;
  private readonly settled: Promise<void>;

  constructor(req: ClientRequest) {
    this.settled = new Promise<void>((resolve) => {
      req.once('response', (res) => { this.outcome ??= { tag: 'ok', val: new IncomingResponse(res) }; resolve(); });
      req.once('error', (e) => { this.outcome ??= { tag: 'err', val: errorCodeOf(e as NodeJS.ErrnoException) }; resolve(); });
    });
  }

  subscribe(): Pollable {
    return new Pollable(() => this.outcome !== undefined, undefined, undefined, () => this.settled);
  }

  get(): { tag: 'ok' | 'err'; val?: Outcome } | undefined {
    if (this.outcome === undefined) return undefined;
    if (this.taken) return { tag: 'err' };
    this.taken = true;
    return { tag: 'ok', val: this.outcome };
  }

  [Symbol.dispose](): void {}
}

/** node's client errors as wasi:http error codes. */
function errorCodeOf(e: NodeJS.ErrnoException): ErrorCode {
  switch (e.code) {
    case 'ECONNREFUSED': return { tag: 'connection-refused' };
    case 'ECONNRESET': case 'EPIPE': return { tag: 'connection-terminated' };
    case 'ETIMEDOUT': return { tag: 'connection-timeout' };
    case 'ENOTFOUND': case 'EAI_AGAIN': return { tag: 'DNS-error', val: { rcode: e.code, infoCode: undefined } };
    case 'EHOSTUNREACH': case 'ENETUNREACH': return { tag: 'destination-unavailable' };
    case 'HPE_INVALID_CONSTANT': case 'HPE_INVALID_STATUS': return { tag: 'HTTP-protocol-error' };
    default: return { tag: 'internal-error', val: e.message };
  }
}

// Loaded on the first https request: node:https brings TLS and crypto (~14 ms of every serving thread's start).
let https: typeof import('node:https') | undefined;
const httpsRequest = (): typeof import('node:https').request => (https ??= createRequire(import.meta.url)('node:https') as typeof import('node:https')).request;

/** wasi:http/outgoing-handler, granted the network or not. */
export function outgoingHandler(allowNet: boolean): { handle: (request: OutgoingRequest, options?: RequestOptions) => FutureIncomingResponse } {
  return {
    handle(request: OutgoingRequest, options?: RequestOptions): FutureIncomingResponse {
      if (!allowNet) throw { tag: 'HTTP-request-denied' };
      const scheme = request.scheme() ?? { tag: 'HTTPS' };
      if (scheme.tag === 'other') throw { tag: 'HTTP-protocol-error' };
      const authority = request.authority();
      if (authority === undefined || authority === '') throw { tag: 'HTTP-request-URI-invalid' };
      let url: URL;
      try {
        url = new URL(`${scheme.tag === 'HTTPS' ? 'https' : 'http'}://${authority}`);
      } catch {
        throw { tag: 'HTTP-request-URI-invalid' };
      }
      const send = scheme.tag === 'HTTPS' ? httpsRequest() : httpRequest;
      const connectMs = options?.connectTimeout();
      const req = send({
        method: methodName(request.method()), hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || undefined,
        path: request.pathWithQuery() ?? '/', headers: request.headers().freeze().toObject(), setHost: true,
        timeout: connectMs === undefined ? undefined : Number(connectMs / 1_000_000n),
      });
      req.once('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      const future = new FutureIncomingResponse(req);
      if (request.bodyWasTaken()) request.sink.attach(req);
      else req.end();
      return future;
    },
  };
}
