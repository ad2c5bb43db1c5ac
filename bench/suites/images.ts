// §7 of issue 10: the image life cycle with hyrun alone against Buildah + Podman doing the same
// work: build, push to a registry, pull into an empty store, first run, for the seed's Wasm hello
// image and a busybox image. Bytes moved are counted by a proxy in front of Debian's
// docker-registry (request and response bodies); times are medians of ROUNDS rounds, the tools
// interleaved per round, every round with empty stores and new repository names.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Section } from '../run.js';
import { benchEnv, fmtMs, fmtRatio, guestWasm, hyrunBin, median, progress } from '../lib.js';
import { stageBusyboxRootfs } from '../../test/e2e/engines/images.js';
import { PodmanEnv } from '../../test/e2e/engines/podman.js';
import { startRegistry } from '../../test/e2e/engines/registry.js';

const ROUNDS = Number(process.env.HYRUN_BENCH_IMAGE_RUNS ?? 3);

interface Step { ms: number; bytes?: number }
type Steps = Record<'build' | 'push' | 'pull' | 'run', Step>;

function timed(cmd: string, args: string[], options: SpawnSyncOptions = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, env: benchEnv(), ...options });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${String(r.stderr ?? '').slice(-500)}`);
  return ms;
}

/** A byte-counting HTTP proxy in its own process (the timed commands block this one's event loop). */
async function countingProxy(target: string): Promise<{ host: string; bytes: () => Promise<number>; reset: () => Promise<void>; stop: () => void }> {
  const script = `
    const http = require('node:http');
    let bytes = 0;
    const server = http.createServer(async (req, res) => {
      if (req.url === '/__bytes') { res.end(String(bytes)); return; }
      if (req.url === '/__reset') { bytes = 0; res.end('0'); return; }
      const chunks = []; for await (const c of req) chunks.push(c);
      const body = Buffer.concat(chunks); bytes += body.length;
      const headers = {}; for (const [k, v] of Object.entries(req.headers)) if (!['host', 'connection', 'transfer-encoding', 'content-length', 'expect'].includes(k)) headers[k] = v;
      let up;
      try { up = await fetch('http://${target}' + req.url, { method: req.method, headers, body: body.length ? body : undefined, redirect: 'manual' }); } catch (e) { res.writeHead(502); res.end(String(e)); return; }
      const out = {}; up.headers.forEach((v, k) => { if (!['content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v.split('${target}').join(req.headers.host); });
      const data = Buffer.from(await up.arrayBuffer()); bytes += data.length;
      if (req.method === 'HEAD' && up.headers.get('content-length')) out['content-length'] = up.headers.get('content-length');
      res.writeHead(up.status, out); res.end(data);
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: benchEnv() });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d).trim())));
  const host = `127.0.0.1:${port}`;
  return {
    host,
    bytes: async () => Number(await (await fetch(`http://${host}/__bytes`)).text()),
    reset: async () => { await fetch(`http://${host}/__reset`); },
    stop: () => { child.kill(); },
  };
}

export async function run(): Promise<Section> {
  const work = mkdtempSync(join(tmpdir(), 'hyrun-bench-images-'));
  const results: Record<string, Steps[]> = {};
  try {
    const hello = join(work, 'hello');
    mkdirSync(hello);
    copyFileSync(guestWasm('eng_hello'), join(hello, 'hello.wasm'));
    writeFileSync(join(hello, 'Containerfile'), 'FROM scratch\nCOPY hello.wasm /\nCMD ["/hello.wasm"]\n');
    const busybox = join(work, 'busybox');
    stageBusyboxRootfs(join(busybox, 'rootfs'));
    writeFileSync(join(busybox, 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/true"]\n');
    const images = [
      { label: 'Wasm hello', context: hello, buildArgs: ['--annotation', 'module.wasm.image/variant=compat', '--platform', 'wasi/wasm'] },
      { label: 'busybox', context: busybox, buildArgs: [] as string[] },
    ];
    for (let round = 0; round < ROUNDS; round++) {
      // A new registry each round: Podman remembers where it saw a blob (its blob-info cache) and
      // would mount it from an earlier round's repository instead of uploading it.
      const registry = await startRegistry();
      const proxy = await countingProxy(registry.host);
      try {
      for (const image of images) {
        const repo = `${proxy.host}/bench${round}/${image.label === 'busybox' ? 'busybox' : 'hello'}`;
        progress(`images: round ${round + 1}/${ROUNDS} ${image.label}`);
        // hyrun alone.
        {
          const s1 = join(work, `h-${round}-${image.label}-1`);
          const s2 = join(work, `h-${round}-${image.label}-2`);
          const env1 = { ...benchEnv(), HYRUN_STORAGE: s1, HYRUN_CACHE_DIR: join(work, 'cache') };
          const env2 = { ...env1, HYRUN_STORAGE: s2 };
          const steps = {} as Steps;
          steps.build = { ms: timed(hyrunBin, ['build', '-q', '-t', 'img:1', ...image.buildArgs, image.context], { env: env1 }) };
          await proxy.reset();
          steps.push = { ms: timed(hyrunBin, ['push', '-q', '--tls-verify=false', 'img:1', `${repo}-hyrun:1`], { env: env1 }), bytes: await proxy.bytes() };
          await proxy.reset();
          steps.pull = { ms: timed(hyrunBin, ['pull', '-q', '--tls-verify=false', `${repo}-hyrun:1`], { env: env2 }), bytes: await proxy.bytes() };
          steps.run = { ms: timed(hyrunBin, ['run', '--rm', `${repo}-hyrun:1`], { env: env2 }) };
          (results[`${image.label}: hyrun`] ??= []).push(steps);
        }
        // Buildah + Podman (pushing, pulling and running; Podman's runtime: hyrun for Wasm, crun for busybox).
        {
          const builder = new PodmanEnv({ prefix: 'hyrun-bench-builder-' });
          const puller = new PodmanEnv({ prefix: 'hyrun-bench-puller-' });
          try {
            const steps = {} as Steps;
            const tag = 'localhost/bench/img:1';
            steps.build = { ms: timed('buildah', ['build', '--quiet', ...image.buildArgs, '-t', tag, image.context], builder.spawnOptions({})) };
            await proxy.reset();
            steps.push = { ms: timed('podman', [...builder.globalArgs(), 'push', '--tls-verify=false', tag, `docker://${repo}-podman:1`], builder.spawnOptions({})), bytes: await proxy.bytes() };
            await proxy.reset();
            steps.pull = { ms: timed('podman', [...puller.globalArgs(), 'pull', '--tls-verify=false', `${repo}-podman:1`], puller.spawnOptions({})), bytes: await proxy.bytes() };
            const runtime = image.label === 'busybox' ? 'crun' : hyrunBin;
            steps.run = { ms: timed('podman', [...puller.globalArgs(runtime), 'run', '--rm', `${repo}-podman:1`], puller.spawnOptions({})) };
            (results[`${image.label}: buildah + podman`] ??= []).push(steps);
          } finally {
            builder.cleanup();
            puller.cleanup();
          }
        }
      }
      } finally {
        proxy.stop();
        await registry.stop();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const med = (name: string, step: keyof Steps, what: 'ms' | 'bytes'): number => median(results[name].map((s) => s[step][what] ?? 0));
  const rows: string[][] = [];
  const kib = (n: number): string => `${(n / 1024).toFixed(1)}`;
  for (const name of Object.keys(results)) {
    rows.push([name, fmtMs(med(name, 'build', 'ms')), fmtMs(med(name, 'push', 'ms')), kib(med(name, 'push', 'bytes')), fmtMs(med(name, 'pull', 'ms')), kib(med(name, 'pull', 'bytes')), fmtMs(med(name, 'run', 'ms'))]);
  }
  const ratio = (label: string): string[] => {
    const h = `${label}: hyrun`;
    const p = `${label}: buildah + podman`;
    const r = (step: keyof Steps, what: 'ms' | 'bytes'): string => fmtRatio(med(h, step, what) / med(p, step, what));
    return [`${label}: hyrun / podman`, r('build', 'ms'), r('push', 'ms'), r('push', 'bytes'), r('pull', 'ms'), r('pull', 'bytes'), r('run', 'ms')];
  };
  rows.push(ratio('Wasm hello'), ratio('busybox'));
  const wasmVsBusybox = (step: keyof Steps, what: 'ms' | 'bytes'): string => fmtRatio(med('Wasm hello: hyrun', step, what) / med('busybox: hyrun', step, what));
  rows.push(['hyrun: Wasm hello / busybox', wasmVsBusybox('build', 'ms'), wasmVsBusybox('push', 'ms'), wasmVsBusybox('push', 'bytes'), wasmVsBusybox('pull', 'ms'), wasmVsBusybox('pull', 'bytes'), wasmVsBusybox('run', 'ms')]);
  return {
    title: 'Images: build, push, pull, first run (hyrun alone vs Buildah + Podman)',
    method: `Median of ${ROUNDS} rounds; in each round hyrun and Buildah/Podman do the same four steps with empty stores and new repository names on a new Debian docker-registry (127.0.0.1, plain HTTP). Bytes are HTTP request + response bodies counted by a proxy in front of the registry (KiB). The first run is \`hyrun run --rm\` (as root: through hyrun's OCI runtime with crun) against \`podman run --rm\` (runtime hyrun for the Wasm image, crun for busybox). Ratio rows: below 1× means hyrun is faster or moves fewer bytes.`,
    columns: ['image: tool', 'build ms', 'push ms', 'push KiB', 'pull ms', 'pull KiB', 'first run ms'],
    rows,
    notes: [
      'hyrun build runs no sandbox (no RUN), so its build is file copying plus hashing; Buildah sets up a build container even for FROM scratch.',
      'Podman pushes uncompressed layers compressed on the fly; hyrun pushes the gzip layers it built. Podman pull also stores layers uncompressed in containers-storage, hyrun stores the compressed blobs and unpacks at first run.',
    ],
  };
}
