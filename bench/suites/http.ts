// HTTP components (issue 16 §5): requests per second of the C handler's /hello (keep-alive, 20
// connections each sending its next request when the last reply ended) under hyrun serve (fresh
// instance per request, and with --instance-reuse), jco serve on the same component, and a plain
// node:http server answering the same bytes; and the time from starting hyrun serve (component
// cached) to its first answer. The load generator is this process (node:http with a keep-alive
// agent), the same for every server; all share the machine's two cores.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import type { Section } from '../run.js';
import { benchEnv, fmtRatio, hyrunBin, median, progress, repoRoot } from '../lib.js';

const CONCURRENCY = 20;
const WARMUP_MS = 1500;
const MEASURE_MS = 5000;
const RUNS = 3;
const FIRST_RESPONSE_RUNS = 7;
const component = join(repoRoot, 'build/guests/http_handler.component.wasm');
const cacheDir = join(repoRoot, 'build/bench/http-cache');

interface Server { port: number; child: ChildProcess }

/** Starts a server process and resolves with the port it says (stdout or stderr) it listens on. */
function start(argv: string[], portLine: RegExp, fixedPort?: number): Promise<Server> {
  // Its own process group: jco serve runs its server in a child of its own, which must stop too.
  const child = spawn(argv[0]!, argv.slice(1), { env: benchEnv({ HYRUN_CACHE_DIR: cacheDir }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let seen = '';
  return new Promise((resolve, reject) => {
    const look = (d: Buffer): void => {
      seen += d.toString();
      const m = portLine.exec(seen);
      if (m) resolve({ port: fixedPort ?? Number(m[1]), child });
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited (${code}): ${seen}`)));
  });
}

/** SIGTERM to the server's process group; resolves when the server's pipes closed (its children gone too). */
function stop(s: Server): Promise<void> {
  return new Promise((resolve) => {
    s.child.once('close', () => resolve());
    try {
      process.kill(-s.child.pid!, 'SIGTERM');
    } catch {
      // Already gone.
    }
  });
}

/** Requests per second against `port` for `ms`, CONCURRENCY keep-alive connections. */
async function load(port: number, ms: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let done = 0;
  let failed = 0;
  const until = performance.now() + ms;
  const one = (): Promise<void> => new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/hello', agent }, (res) => {
      res.resume();
      res.once('end', () => {
        if (res.statusCode === 200) done++;
        else failed++;
        resolve();
      });
    });
    req.once('error', () => { failed++; resolve(); });
    req.end();
  });
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < until) await one();
  }));
  const elapsed = performance.now() - started;
  agent.destroy();
  if (failed > 0) throw new Error(`${failed} requests failed on port ${port}`);
  return (done * 1000) / elapsed;
}

async function throughput(name: string, argv: string[], portLine: RegExp, fixedPort?: number): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    progress(`${name}: run ${i + 1}/${RUNS}`);
    const s = await start(argv, portLine, fixedPort);
    try {
      await load(s.port, WARMUP_MS);
      rates.push(await load(s.port, MEASURE_MS));
    } finally {
      await stop(s);
    }
  }
  return median(rates);
}

/** One GET, resolving to its status, or rejecting if the connection fails. */
const get = (port: number): Promise<number> => new Promise((resolve, reject) => {
  const req = request({ host: '127.0.0.1', port, path: '/hello', agent: false }, (res) => {
    res.resume();
    res.once('end', () => resolve(res.statusCode!));
  });
  req.once('error', reject);
  req.end();
});

/** ms from spawning hyrun serve (cached component, fixed port) to the end of its first 200 answer. */
async function firstResponse(port: number): Promise<number> {
  const t0 = performance.now();
  const child = spawn(hyrunBin, ['serve', '--addr', `127.0.0.1:${port}`, component], { env: benchEnv({ HYRUN_CACHE_DIR: cacheDir }), stdio: 'ignore', detached: true });
  try {
    for (;;) {
      try {
        if ((await get(port)) === 200) return performance.now() - t0;
      } catch {
        // Not listening yet: try again at once (a connection refused costs microseconds).
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    await stop({ port, child });
  }
}

export async function run(): Promise<Section> {
  const servingLine = /serving HTTP on http:\/\/127\.0\.0\.1:(\d+)\//;
  const hyrunServe = (flags: string[]): string[] => [hyrunBin, 'serve', '--addr', '127.0.0.1:0', ...flags, component];
  // The transpile cache filled once, outside every measurement.
  await stop(await start(hyrunServe([]), servingLine));
  const fresh = await throughput('hyrun serve (fresh instance per request)', hyrunServe([]), servingLine);
  const reuse = await throughput('hyrun serve --instance-reuse', hyrunServe(['--instance-reuse']), servingLine);
  const jcoPort = 18000 + (process.pid % 1000);
  const jco = await throughput('jco serve', [process.execPath, join(repoRoot, 'node_modules/@bytecodealliance/jco/dist/jco.js'), 'serve', '--port', String(jcoPort), '--host', '127.0.0.1', component],
    /Server listening/, jcoPort);
  const plain = await throughput('node:http hello', [process.execPath, join(repoRoot, 'dist/bench/http-hello-server.js')], /listening (\d+)/);
  const firsts: number[] = [];
  for (let i = 0; i < FIRST_RESPONSE_RUNS; i++) {
    progress(`first response ${i + 1}/${FIRST_RESPONSE_RUNS}`);
    firsts.push(await firstResponse(19000 + (process.pid % 1000)));
  }
  const first = median(firsts);
  const rps = (x: number): string => Math.round(x).toLocaleString('en-US');
  return {
    title: 'HTTP components (hyrun serve)',
    method: "The C handler's /hello (test/guests/http/http_handler.c, a component on the raw canonical ABI), "
      + `${CONCURRENCY} keep-alive connections from one node:http load generator in this process, each sending its next request when the last reply ended; `
      + `requests per second over ${MEASURE_MS / 1000} s after a ${WARMUP_MS / 1000} s warm-up, median of ${RUNS} server starts. Every server runs on the same two cores as the load generator. `
      + `First response: from spawning \`hyrun serve\` (component in the transpile cache) to the end of the first 200 answer, the client retrying refused connections at once, median of ${FIRST_RESPONSE_RUNS}.`,
    columns: ['server', 'requests/s', 'vs jco serve', 'vs node:http'],
    rows: [
      ['hyrun serve (fresh instance per request)', rps(fresh), fmtRatio(fresh / jco), fmtRatio(fresh / plain)],
      ['hyrun serve --instance-reuse', rps(reuse), fmtRatio(reuse / jco), fmtRatio(reuse / plain)],
      ['jco serve (same component)', rps(jco), fmtRatio(1), fmtRatio(jco / plain)],
      ['node:http hello (no Wasm)', rps(plain), fmtRatio(plain / jco), fmtRatio(1)],
      ['first response after hyrun serve starts (ms)', first.toFixed(0), '', ''],
    ],
    targets: [
      { description: 'hyrun serve ≥ 5× jco serve (fresh instance per request)', measured: fmtRatio(fresh / jco), met: fresh / jco >= 5 },
      { description: 'hyrun serve ≥ 0.5× a plain node:http server (fresh instance per request)', measured: fmtRatio(fresh / plain), met: fresh / plain >= 0.5 },
      { description: 'first response ≤ 150 ms after hyrun serve starts (cached component)', measured: `${first.toFixed(0)} ms`, met: first <= 150 },
    ],
    notes: [
      `jco serve runs the component on jco's preview2-shim (its default, one worker thread per request, pool of 50); its own transpile happens before it listens and is not timed.`,
      `The --instance-reuse row: one instance serves request after request (per connection-level concurrency, as many instances as requests at once).`,
    ],
  };
}
