// The synchronous bridge from the guest's worker thread to the supervising (main) thread, which owns
// the event loop and therefore the sockets: Node has no synchronous accept/recv/poll. The main-thread
// side is src/wasm/io-server.ts (kept apart so the worker never loads node:net).
//
// Protocol: one request at a time (the guest is single-threaded). The worker posts the request on a
// MessagePort, then blocks in Atomics.wait on a shared flag. The main thread does the work (possibly
// waiting for events), posts the reply on the same port and flips the flag; the worker wakes and takes
// the reply synchronously with receiveMessageOnPort. No polling on either side.
import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import { WasiError } from './errors.js';
import type { NetRequest } from './p2/net-protocol.js';

// Loaded on first use: a guest on the main thread (no broker) never needs node:worker_threads,
// whose loading costs ~3 ms of start-up (stdio.ts and poll.ts import this file for sleepMs).
let receive: typeof import('node:worker_threads').receiveMessageOnPort | undefined;
const receiveMessageOnPort = (port: MessagePort): { message: unknown } | undefined =>
  (receive ??= (createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads')).receiveMessageOnPort)(port);

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread for ms milliseconds without spinning (Atomics.wait on a private cell). */
export function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

/** Readiness of one socket as the main thread sees it. */
export interface SockReady {
  /** Index of the subscription in the request. */
  index: number;
  nbytes: number;
  hangup: boolean;
  /** Set when the socket is in error: poll reports it as the event's error. */
  errno?: number;
}

export type BrokerRequest =
  | { op: 'accept'; h: number; block: boolean }
  | { op: 'recv'; h: number; len: number; peek: boolean; waitall: boolean; block: boolean }
  | { op: 'send'; h: number; data: Uint8Array; block: boolean }
  | { op: 'shutdown'; h: number; how: number }
  | { op: 'close'; h: number }
  | { op: 'poll'; subs: { h: number; write: boolean }[]; timeoutMs: number }
  | { op: 'info'; h: number };

type Reply = { errno: number } | { ok: true; [key: string]: unknown };

/** Worker side: turns each request into a blocking call. */
export class IoBroker {
  constructor(private readonly port: MessagePort, private readonly flag: Int32Array) {}

  /** Sends a request that has no answer (a write whose errors surface on a later call); does not block. */
  post(req: NetRequest): void {
    this.port.postMessage(req);
  }

  /** Sends a request and blocks until the main thread answers; errno replies become WasiError. */
  call<T = Record<string, unknown>>(req: BrokerRequest | NetRequest): T {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(req);
    while (Atomics.load(this.flag, 0) === 0) Atomics.wait(this.flag, 0, 0);
    const msg = receiveMessageOnPort(this.port);
    if (msg === undefined) throw new Error('io broker: woken without a reply');
    const reply = msg.message as Reply;
    if ('errno' in reply) throw new WasiError(reply.errno as number);
    return reply as T;
  }
}

/** The shared flag a broker channel wakes the worker with (made by the executor). */
export function brokerFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}
