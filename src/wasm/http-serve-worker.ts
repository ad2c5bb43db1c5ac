// The thread that serves an HTTP component (http-serve.ts starts it; bundled alone as
// dist/http-worker.cjs): node's HTTP server, the compiled component and its instances, one call of
// the guest's `handle` per request. The guest's blocking calls suspend (JSPI), so many requests'
// guests wait at once on this thread while it goes on accepting and reading. The main thread stays
// free for signals: it can stop this thread even while a guest spins.
import { writeSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parentPort } from 'node:worker_threads';
import type { WasiOptions } from '../wasi/context.js';
import { httpImports } from '../wasi/p2/http-host.js';
import { IncomingRequest, ResponseOutparam, type ResponseTarget } from '../wasi/p2/http-types.js';
import { P2Host } from '../wasi/p2/host.js';
import { AddonRequiredError } from '../wasi/preopen.js';
import { failureOf, loadComponent, missingCore, unserved, type Meta } from './component.js';
import { InstancePool, type Handle, type PooledInstance } from './http-instances.js';
import { GLUE_STATE_KEY, InstanceImage, type GlueState } from './instance-reset.js';

/** What the main thread hands this thread (its first message: the thread is started before the component is read). */
export interface ServeStart {
  path: string;
  dir: string;
  meta: Meta;
  memoryLimit?: number;
  host: string;
  port: number;
  allowNet: boolean;
  reuse: boolean;
  /** Several serving threads listen on the same address (SO_REUSEPORT): the kernel spreads connections over them. */
  reusePort: boolean;
  options: WasiOptions;
}

/** What this thread tells the main thread. */
/** The main thread's messages: the start, then possibly the drain. */
export type ServeOrder = { type: 'start'; start: ServeStart } | { type: 'drain' };

export type ServeReport =
  | { type: 'listening'; port: number }
  | { type: 'answered' }
  | { type: 'refused'; message: string; code: 125 | 126 }
  | { type: 'drained' };

/** The world an HTTP component may import. */
const HTTP_WORLD = "wasi:http/proxy and wasi:cli/command's imports";

// HYRUN_TRACE_STARTUP=1: milestones on stderr (this thread's clock), as the executor prints its own.
const tracing = process.env.HYRUN_TRACE_STARTUP === '1';
const trace = (what: string): void => {
  if (tracing) writeSync(2, `[startup] serving thread ${performance.now().toFixed(1)} ms (thread clock) ${what}\n`);
};
trace('bundle evaluated');

Error.stackTraceLimit = 24;
let start: ServeStart;
const report = (r: ServeReport): void => parentPort!.postMessage(r);
const stderrLine = (text: string): void => {
  const line = Buffer.from(`hyrun: ${text.replace(/\n/g, ' ')}\n`);
  const errFd = start.options.stdio?.[2] ?? 2;
  let off = 0;
  while (off < line.length) off += writeSync(errFd, line, off);
};

async function prepare(): Promise<{ pool: InstancePool; exportNames: Record<number, string>; saveGlueCache: () => void } | undefined> {
  const host = new P2Host(start.options);
  const imports = { ...host.importObject(), ...httpImports(start.allowNet) };
  const missing = unserved(start.meta.needs, imports);
  if (missing.length > 0) {
    report({ type: 'refused', message: `${start.path} imports what hyrun does not serve (hyrun serves ${HTTP_WORLD}): ${missing.join(', ')}`, code: 126 });
    return undefined;
  }
  const handleName = start.meta.exports.find((e) => e.startsWith('wasi:http/incoming-handler@'))!;
  // Fresh instances are reset rather than made again when every core module's state can be reached.
  // The serving thread's own code cache: written after the first response, it holds the request path too.
  const { glue, cores: { modules, exportNames, resettable } } = await loadComponent(start.path, start.dir, start.meta,
    { memoryLimit: start.memoryLimit, stateExports: !start.reuse, cacheName: 'glue.cjs.serving-cache', trace });
  try {
    host.start();
  } catch (e) {
    if (e instanceof AddonRequiredError) {
      report({ type: 'refused', message: e.message, code: 125 });
      return undefined;
    }
    throw e;
  }
  let firstImage: InstanceImage | undefined;
  const make = (): PooledInstance => {
    made++;
    const cores: WebAssembly.Instance[] = [];
    const state: GlueState = { captures: [] };
    const exports = glue.instantiate((name) => modules.get(name) ?? missingCore(name), { ...imports, [GLUE_STATE_KEY]: state }, (module, importObject) => {
      const core = new WebAssembly.Instance(module, importObject);
      cores.push(core);
      return core;
    });
    const handle = exports[handleName]!.handle as Handle;
    // A reused instance's glue adds every resource it makes to a set it never reads (jco 0.15's
    // `_createdReps`): emptied after each request, or it grows for as long as the server runs.
    if (start.reuse) return { handle, tidy: () => { for (const t of state.handleTables ?? []) t?._createdReps?.clear(); } };
    const image = resettable ? InstanceImage.take(cores, state, firstImage) : undefined;
    firstImage ??= image;
    return { handle, reset: image === undefined ? undefined : () => image.restore() };
  };
  let pool: InstancePool;
  try {
    pool = new InstancePool(make, start.reuse);
  } catch (e) {
    const failure = failureOf(e, exportNames);
    report({ type: 'refused', message: failure.type === 'exit' ? `${start.path} exited while it was instantiated` : failure.message, code: 126 });
    return undefined;
  }
  trace('first instance made');
  return { pool, exportNames, saveGlueCache: glue.saveCache };
}

let inFlight = 0;
/** Instances made (the pool counts those reset): the trace says both when serving ends. */
let made = 0;
let draining = false;
let answered = false;

function serve(pool: InstancePool, exportNames: Record<number, string>, saveGlueCache: () => void): void {
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => void answer(req, res));
  server.once('error', (e: NodeJS.ErrnoException) => {
    const why = e.code === 'EADDRINUSE' ? 'the address is in use; stop what listens there or give another --addr'
      : e.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges); give another --addr' : e.message;
    report({ type: 'refused', message: `cannot serve on ${start.host}:${start.port}: ${why}`, code: 125 });
  });
  server.listen({ host: start.host, port: start.port, reusePort: start.reusePort }, () => {
    trace('listening');
    const address = server.address();
    report({ type: 'listening', port: typeof address === 'object' && address !== null ? address.port : start.port });
  });
  parentPort!.on('message', (m: ServeOrder) => {
    if (m.type !== 'drain') return;
    // Stop accepting; the requests under way finish, then the main thread ends the process.
    draining = true;
    server.close();
    server.closeIdleConnections();
    if (inFlight === 0) drained();
  });

  function drained(): void {
    trace(`drained: ${made} instances made, ${pool.resets} reset`);
    report({ type: 'drained' });
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!answered) {
      answered = true;
      trace('first request');
      // Once the first response has left: V8's cache of the glue then holds what a request compiled.
      res.once('finish', () => {
        trace('first response sent');
        report({ type: 'answered' });
        setImmediate(saveGlueCache);
      });
    }
    inFlight++;
    // Counted until the response has left (or the connection went away).
    res.once('close', () => {
      if (--inFlight === 0 && draining) drained();
    });
    if (draining) res.shouldKeepAlive = false;
    const target: ResponseTarget = { res };
    let instance: PooledInstance;
    try {
      instance = pool.take();
    } catch (e) {
      fail(res, failureOf(e, exportNames));
      return;
    }
    try {
      await instance.handle(new IncomingRequest(req), new ResponseOutparam(target));
    } catch (e) {
      fail(res, failureOf(e, exportNames));
      return;
    }
    pool.release(instance);
    if (target.response === undefined && target.error === undefined) {
      stderrLine(`${start.path}: the handler returned without setting a response`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('the handler set no response\n');
      else res.destroy();
    } else if (target.response !== undefined && !target.response.sink.ended) {
      // The guest can no longer run: a body it never asked for is empty, one it left unfinished is cut short.
      if (!target.response.bodyWasTaken()) res.end();
      else res.destroy();
    }
  }
}

/** A request whose guest trapped or failed: one line on stderr, 500 if nothing was sent yet, else a cut connection. */
function fail(res: ServerResponse, failure: ReturnType<typeof failureOf>): void {
  stderrLine(failure.type === 'exit' ? `${start.path}: the handler exited (${failure.code}) during a request` : failure.message);
  if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('the handler failed\n');
  else res.destroy();
}

// Started before the main thread has read the component: the start comes as the first message.
parentPort!.once('message', (m: ServeOrder) => {
  if (m.type !== 'start') return;
  start = m.start;
  prepare().then((prepared) => {
    if (prepared !== undefined) serve(prepared.pool, prepared.exportNames, prepared.saveGlueCache);
  }, (e: unknown) => {
    report({ type: 'refused', message: `WASI host failure: ${(e as Error)?.stack ?? String(e)}`, code: 125 });
  });
});
