// The registry of handlers: the only place the lifecycle looks them up.
import type { Handler, HandlerName } from './types.js';
import { linuxHandler } from './linux.js';

const handlers = new Map<HandlerName, Handler>([['linux', linuxHandler]]);

/** Lets a handler module add itself (src/handlers/wasm.ts is wired here once it exists). */
export function registerHandler(h: Handler): void {
  handlers.set(h.name, h);
}

export function getHandler(name: HandlerName): Handler | undefined {
  return handlers.get(name);
}
