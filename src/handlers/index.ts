// The registry of handlers: the only place the lifecycle looks them up.
import type { Handler, HandlerName } from './types.js';
import { linuxHandler } from './linux.js';
import { wasmHandler } from './wasm.js';

const handlers = new Map<HandlerName, Handler>([['linux', linuxHandler], ['wasm', wasmHandler]]);

/** Lets tests (or a future handler module) add or replace a handler. */
export function registerHandler(h: Handler): void {
  handlers.set(h.name, h);
}

export function getHandler(name: HandlerName): Handler | undefined {
  return handlers.get(name);
}
