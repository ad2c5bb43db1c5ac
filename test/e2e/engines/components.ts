// Component fixtures for the engine tests (issue 16 §4). Engines start hyrun with an environment of
// their own (Podman's conmon, containerd, CRI-O drop HYRUN_CACHE_DIR), so their containers use the
// host's default transpile cache, /var/lib/hyrun/components, which other runs share: each test
// gets a copy of its component made unique by a custom section, so that "transpiled at create"
// and "a second start transpiles nothing" are about this run's digest alone.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { guest } from '../../helpers.js';

/** The transpile cache of hyrun run by root with no HYRUN_CACHE_DIR (src/handlers/runtime-dir.ts). */
export const DEFAULT_COMPONENT_CACHE = '/var/lib/hyrun/components';

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};

/** build/guests/NAME.wasm copied to `dest` with a custom section naming this run: a digest no one else has. */
export function uniqueComponent(name: string, dest: string, tag = `${process.pid}-${Date.now()}-${Math.random()}`): string {
  const bytes = readFileSync(guest(name));
  const label = Buffer.from('hyrun-test-run');
  const payload = Buffer.concat([Buffer.from(leb(label.length)), label, Buffer.from(tag)]);
  writeFileSync(dest, Buffer.concat([bytes, Buffer.from([0, ...leb(payload.length)]), payload]));
  return dest;
}

export const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** digest -> mtime of its meta.json, for every transpiled component in `cache` (a components/ dir). */
export function transpiledIn(cache: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(cache)) return out;
  for (const tag of readdirSync(cache)) {
    for (const d of readdirSync(join(cache, tag))) {
      const meta = join(cache, tag, d, 'meta.json');
      if (existsSync(meta)) out.set(d, statSync(meta).mtimeMs);
    }
  }
  return out;
}

/** Removes this run's transpiled components from a shared cache. */
export function forgetTranspiled(cache: string, digests: string[]): void {
  if (!existsSync(cache)) return;
  for (const tag of readdirSync(cache)) for (const d of digests) rmSync(join(cache, tag, d), { recursive: true, force: true });
}

/** The HTTP handler fixture (test/guests/http/http_handler.c, issue 16 §2): /hello, /echo, /spin, … */
export const HTTP_HANDLER = 'http_handler.component';

export interface HttpReply { status: number; body: string; trailers: NodeJS.Dict<string> }

/** One GET on a fresh connection (no keep-alive agent: a refused connection must be seen as one). */
export function httpGet(host: string, port: number, path: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers, agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A POST /echo whose body goes in two parts: `echoed` resolves once the first part came back (the
 * guest is inside its handler: the request is in flight), `reply` with the whole answer after
 * `finish()` sent the rest.
 */
export function inFlightEcho(host: string, port: number, first: string, second: string): { echoed: Promise<void>; reply: Promise<HttpReply>; finish: () => void } {
  let echoedNow!: () => void;
  let failEchoed!: (e: Error) => void;
  const echoed = new Promise<void>((resolve, reject) => { echoedNow = resolve; failEchoed = reject; });
  let req!: ReturnType<typeof request>;
  const reply = new Promise<HttpReply>((resolve, reject) => {
    req = request({ host, port, path: '/echo', method: 'POST', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (body.length >= first.length) echoedNow();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', (e) => { failEchoed(e); reject(e); });
    req.write(first);
  });
  reply.catch(() => {});
  return { echoed, reply, finish: () => { req.end(second); } };
}

/** Resolves once a new TCP connection to host:port is refused (the server stopped accepting). */
export async function connectionRefused(host: string, port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const outcome = await new Promise<string>((resolve) => {
      const sock = connect({ host, port });
      sock.once('connect', () => { sock.destroy(); resolve('accepted'); });
      sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    if (outcome === 'ECONNREFUSED') return;
    if (Date.now() > deadline) throw new Error(`${host}:${port} still ${outcome} after ${timeoutMs} ms`);
    // Another attempt once this one is answered: the condition is the refusal itself.
    await new Promise((r) => setImmediate(r));
  }
}
