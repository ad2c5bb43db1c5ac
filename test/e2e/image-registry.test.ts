// hyrun's registry client against Debian's docker-registry on 127.0.0.1 (without auth, and with
// htpasswd basic auth), with skopeo, podman and buildah on the other side: push, pull, HEAD skip,
// cross-repository mount, digest verification, platform selection in an index, zstd layers,
// Wasm artifacts, and the bad cases (401 with the realm, 404, 5xx after retries, timeouts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrun, hyrunBin, type Result } from '../helpers.js';
import { PodmanEnv, cleanStderr } from './engines/podman.js';
import { buildWasmImage, stageBusyboxRootfs, WASM_IMAGES } from './engines/images.js';
import { startRegistry, type Registry } from './engines/registry.js';
import { cannotRun, engineFiles, explain, must } from './engines/tools.js';
import { MT } from '../../src/image/media.js';
import { sha256, Store } from '../../src/image/store.js';

const skip = cannotRun(['docker-registry', 'skopeo', 'podman', 'buildah', 'crun', 'python3', 'zstd']);
const HELLO = 'hello from hyrun-test wasm\n';
const USER = 'hyrun-tester';
const PASSWORD = 'correct horse battery staple';

function htpasswdLine(user: string, password: string): string {
  const hash = must('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', password]).stdout.trim();
  return `${user}:${hash}\n`;
}

/** An HTTP front of the registry that fails the first `failures` requests (503 or no answer). */
async function faultyProxy(target: string, mode: { failures: number; kind: '503' | 'hang'; slowBytesPerSecond?: number; tamperManifests?: boolean; dropBigBodies?: number }): Promise<{ host: string; close: () => Promise<void>; seen: () => number }> {
  let seen = 0;
  const server: Server = createServer(async (req, res) => {
    seen++;
    if (seen <= mode.failures) {
      if (mode.kind === '503') {
        res.writeHead(503, { 'Content-Type': 'text/plain' }).end('try later');
      }
      return; // hang: never answer
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
    const upstream = await fetch(`http://${target}${req.url}`, { method: req.method, headers, body: chunks.length && req.method !== 'GET' && req.method !== 'HEAD' ? Buffer.concat(chunks) : undefined, redirect: 'manual' });
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => { if (k !== 'content-encoding' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v; });
    let body = Buffer.from(await upstream.arrayBuffer());
    if (mode.tamperManifests && req.url?.includes('/manifests/') && req.method === 'GET') {
      // Same JSON meaning, other bytes: the digest no longer matches.
      body = Buffer.from(`${body.toString('utf8')}\n`);
      out['content-length'] = String(body.length);
    }
    res.writeHead(upstream.status, out);
    if (mode.dropBigBodies && body.length > 100_000) {
      // Half the body, then the connection breaks (a few times, then it works).
      mode.dropBigBodies--;
      res.write(body.subarray(0, body.length >> 1));
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    if (mode.slowBytesPerSecond && body.length > 100_000) {
      // Dribble big bodies out in 10 slices a second.
      const slice = Math.ceil(mode.slowBytesPerSecond / 10);
      for (let off = 0; off < body.length && !res.destroyed; off += slice) {
        res.write(body.subarray(off, off + slice));
        await new Promise((r) => setTimeout(r, 100));
      }
      res.end();
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address() as { port: number };
  return {
    host: `127.0.0.1:${address.port}`,
    seen: () => seen,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('hyrun push/pull against a real registry', { skip, timeout: 900_000 }, () => {
  let env: PodmanEnv;
  let registry: Registry;
  let authRegistry: Registry;
  let home: string;
  const stores: string[] = [];
  const newStore = (): string => {
    const s = join(env.dir, `store-${stores.length}`);
    stores.push(s);
    return s;
  };
  let main: string;
  const hEnv = (storage: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...process.env, HYRUN_STORAGE: storage, HYRUN_AUTH_FILE: join(home, 'hyrun-auth.json'), HOME: home,
    XDG_RUNTIME_DIR: join(home, 'run'), REGISTRY_AUTH_FILE: '', DOCKER_CONFIG: join(home, 'docker'), ...extra,
  });
  const h = (args: string[], storage = main, extra: NodeJS.ProcessEnv = {}, input?: string): Result =>
    hyrun(args, { env: hEnv(storage, extra), timeout: 180_000, input });
  // For tests whose fault-injecting proxy lives in this process: spawnSync would block its event loop.
  const hAsync = (args: string[], storage: string, extra: NodeJS.ProcessEnv = {}): Promise<Result> => new Promise((resolve) => {
    const child = spawn(hyrunBin, args, { env: hEnv(storage, extra) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
  const mustH = (args: string[], storage = main, extra: NodeJS.ProcessEnv = {}, input?: string): Result => {
    const r = h(args, storage, extra, input);
    assert.equal(r.status, 0, `hyrun ${args.join(' ')}: ${explain(r)}`);
    return r;
  };
  // Progress lines (one per blob, no TTY) may come first; the error is one `hyrun:` line, the last.
  const oneLine = (r: Result, pattern: RegExp): void => {
    assert.equal(r.status, 125, explain(r));
    const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('hyrun:'));
    assert.equal(errors.length, 1, `one error line: ${r.stderr}`);
    assert.match(errors[0], pattern);
    assert.equal(r.stderr.trim().split('\n').at(-1), errors[0]);
    assert.doesNotMatch(r.stderr, /internal error|at .*\.cjs/);
  };

  before(async () => {
    env = new PodmanEnv({ prefix: 'hyrun-image-registry-' });
    env.env.HYRUN_CACHE_DIR = join(env.dir, 'hyrun-cache');
    home = join(env.dir, 'home');
    mkdirSync(join(home, 'run'), { recursive: true });
    registry = await startRegistry();
    authRegistry = await startRegistry({ htpasswd: htpasswdLine(USER, PASSWORD) });
    main = newStore();
    const ctx = join(env.dir, 'seed');
    mkdirSync(ctx);
    copyFileSync(guest('eng_hello'), join(ctx, 'hello.wasm'));
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY hello.wasm /\nCMD ["/hello.wasm"]\n');
    mustH(['build', '-q', '-t', 'seed:1', '--annotation', 'module.wasm.image/variant=compat', '--platform', 'wasi/wasm', ctx]);
    const bb = join(env.dir, 'busybox');
    stageBusyboxRootfs(join(bb, 'rootfs'));
    writeFileSync(join(bb, 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/echo", "hello from busybox"]\n');
    mustH(['build', '-q', '-t', 'busybox:1', '--platform', 'linux/amd64', bb]);
  });
  after(async () => {
    await registry?.stop();
    await authRegistry?.stop();
    env?.cleanup();
  });

  test('a plain-HTTP registry needs --tls-verify=false; then push works and skopeo reads the image', () => {
    const remote = `${registry.host}/hyrun/seed:1`;
    oneLine(h(['push', 'seed:1', remote]), /cannot reach 127\.0\.0\.1:\d+ over TLS.*--tls-verify=false/);
    const pushed = mustH(['push', '--tls-verify=false', 'seed:1', remote]);
    assert.match(pushed.stderr, /pushed 2 blobs/);
    const raw = JSON.parse(env.mustSkopeo(['inspect', '--tls-verify=false', '--raw', `docker://${remote}`]).stdout) as { mediaType: string; annotations?: Record<string, string> };
    assert.equal(raw.mediaType, MT.ociManifest);
    assert.equal(raw.annotations?.['module.wasm.image/variant'], 'compat');
    const config = JSON.parse(env.mustSkopeo(['inspect', '--tls-verify=false', '--config', `docker://${remote}`]).stdout) as { os: string; architecture: string };
    assert.deepEqual([config.os, config.architecture], ['wasi', 'wasm']);
    // skopeo copy accepts it (registry to registry).
    env.mustSkopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${remote}`, `docker://${registry.host}/hyrun/seed-copy:1`]);
  });

  test('blobs the registry has are not uploaded again; another repository mounts them', () => {
    const again = mustH(['push', '--tls-verify=false', 'seed:1', `${registry.host}/hyrun/seed:1`]);
    assert.match(again.stderr, /pushed 0 blobs, 2 already there, 0 mounted/);
    const other = mustH(['push', '--tls-verify=false', 'seed:1', `${registry.host}/elsewhere/seed:2`]);
    assert.match(other.stderr, /pushed 0 blobs, 0 already there, 2 mounted/);
    const tags = JSON.parse(must('curl', ['-s', `http://${registry.host}/v2/elsewhere/seed/tags/list`]).stdout) as { tags: string[] };
    assert.deepEqual(tags.tags, ['2']);
  });

  test('podman pulls the hyrun-pushed image and runs it with --runtime hyrun', () => {
    const remote = `${registry.host}/hyrun/seed:1`;
    env.mustPodman(['pull', '--tls-verify=false', remote]);
    const r = env.podman(['run', '--rm', remote]);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
    assert.equal(cleanStderr(r.stderr), '');
  });

  test('hyrun pulls into a fresh store: same digests; by digest too', () => {
    const s = newStore();
    const r = mustH(['pull', '--tls-verify=false', `${registry.host}/hyrun/seed:1`], s);
    const digest = r.stdout.trim();
    const ours = JSON.parse(mustH(['images', '--format', 'json']).stdout) as { name: string; digest: string }[];
    assert.equal(digest, ours.find((i) => i.name === 'localhost/seed:1')?.digest);
    const byDigest = mustH(['pull', '--tls-verify=false', `${registry.host}/hyrun/seed@${digest}`], s);
    assert.equal(byDigest.stdout.trim(), digest);
    const listed = JSON.parse(mustH(['images', '--format', 'json'], s).stdout) as { name: string }[];
    assert.deepEqual(listed.map((i) => i.name).sort(), [`${registry.host}/hyrun/seed:1`, `${registry.host}/hyrun/seed@${digest}`]);
  });

  test('a buildah-built image pushed by podman is pulled by hyrun with its annotation', () => {
    buildWasmImage(env, { ...WASM_IMAGES.wasmHello, tag: 'localhost/buildah/seed:1' });
    const remote = `${registry.host}/buildah/seed:1`;
    env.mustPodman(['push', '--tls-verify=false', 'localhost/buildah/seed:1', `docker://${remote}`]);
    const s = newStore();
    mustH(['pull', '--tls-verify=false', remote], s);
    const inspect = JSON.parse(mustH(['inspect', remote], s).stdout) as { Annotations: Record<string, string>; Os: string; Config: { Cmd: string[] } }[];
    assert.equal(inspect[0].Annotations['module.wasm.image/variant'], 'compat');
    assert.deepEqual([inspect[0].Os, inspect[0].Config.Cmd], ['wasi', ['/hello.wasm']]);
  });

  test('an index with linux/amd64 and wasi/wasm: hyrun picks by --platform (default: the host)', async () => {
    const linux = `${registry.host}/multi/app:linux`;
    const wasm = `${registry.host}/multi/app:wasm`;
    mustH(['push', '--tls-verify=false', 'busybox:1', linux]);
    mustH(['push', '--tls-verify=false', 'seed:1', wasm]);
    const head = async (ref: string): Promise<{ digest: string; size: number }> => {
      const r = await fetch(`http://${registry.host}/v2/multi/app/manifests/${ref}`, { headers: { Accept: MT.ociManifest } });
      const body = Buffer.from(await r.arrayBuffer());
      return { digest: sha256(body), size: body.length };
    };
    const index = {
      schemaVersion: 2, mediaType: MT.ociIndex,
      manifests: [
        { mediaType: MT.ociManifest, ...(await head('linux')), platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: MT.ociManifest, ...(await head('wasm')), platform: { os: 'wasi', architecture: 'wasm' } },
      ],
    };
    const put = await fetch(`http://${registry.host}/v2/multi/app/manifests/both`, { method: 'PUT', headers: { 'Content-Type': MT.ociIndex }, body: JSON.stringify(index) });
    assert.equal(put.status, 201);
    const osOf = (storage: string): string => (JSON.parse(mustH(['inspect', `${registry.host}/multi/app:both`], storage).stdout) as { Os: string }[])[0].Os;
    const s1 = newStore();
    mustH(['pull', '--tls-verify=false', '--platform', 'wasi/wasm', `${registry.host}/multi/app:both`], s1);
    assert.equal(osOf(s1), 'wasi');
    const s2 = newStore();
    mustH(['pull', '--tls-verify=false', '--platform', 'linux/amd64', `${registry.host}/multi/app:both`], s2);
    assert.equal(osOf(s2), 'linux');
    const s3 = newStore();
    mustH(['pull', '--tls-verify=false', `${registry.host}/multi/app:both`], s3);
    assert.equal(osOf(s3), 'linux', 'the host platform by default');
    oneLine(h(['pull', '--tls-verify=false', '--platform', 'linux/arm64', `${registry.host}/multi/app:both`], newStore()), /no image for linux\/arm64 in the index \(it has linux\/amd64, wasi\/wasm\)/);
    // Only the chosen platform's blobs were fetched.
    const blobs = readdirSync(join(s1, 'blobs/sha256')).length;
    assert.equal(blobs, 4, 'index + manifest + config + one layer');
  });

  test('zstd layers: an image whose layer is zstd (made with the zstd tool) is pulled and verified', () => {
    // The seed's layer recompressed with zstd, stored and pushed under a manifest saying +zstd.
    const store = new Store(main);
    const seed = JSON.parse(mustH(['inspect', 'seed:1']).stdout)[0] as { Manifest: { config: { digest: string; size: number; mediaType: string }; layers: { digest: string }[]; annotations?: Record<string, string> } };
    const gz = join(env.dir, 'layer.tar.gz');
    writeFileSync(gz, store.readBlob(seed.Manifest.layers[0].digest));
    must('sh', ['-c', `gzip -dc '${gz}' | zstd -q -19 -o '${gz}.zst'`]);
    const zst = readFileSync(`${gz}.zst`);
    assert.equal(zst.readUInt32LE(0), 0xfd2fb528);
    const layer = store.putBlob(zst);
    const manifest = store.putBlob(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MT.ociManifest, config: seed.Manifest.config,
      layers: [{ mediaType: MT.ociLayerZstd, ...layer }], annotations: seed.Manifest.annotations,
    })));
    store.tag('localhost/seed-zstd:1', { mediaType: MT.ociManifest, ...manifest });
    const zremote = `${registry.host}/hyrun/seed-zstd:1`;
    mustH(['push', '--tls-verify=false', 'seed-zstd:1', zremote]);
    env.mustSkopeo(['inspect', '--tls-verify=false', `docker://${zremote}`]);
    const s = newStore();
    mustH(['pull', '--tls-verify=false', zremote], s);
    const inspect = JSON.parse(mustH(['inspect', zremote], s).stdout) as { Layers: { mediaType: string }[] }[];
    assert.equal(inspect[0].Layers[0].mediaType, MT.ociLayerZstd);
  });

  test('a corrupted blob in the registry is rejected and nothing of the pull stays in the store', () => {
    // An image of its own (the registry shares blobs between repositories): one 20 KB random file.
    const ctx = join(env.dir, 'corrupt');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'noise.bin'), randomBytes(20_000));
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY noise.bin /\n');
    mustH(['build', '-q', '-t', 'corrupt:1', ctx]);
    const layerDigest = (JSON.parse(mustH(['inspect', 'corrupt:1']).stdout) as { Layers: { digest: string }[] }[])[0].Layers[0].digest;
    const remote = `${registry.host}/corrupt/seed:1`;
    mustH(['push', '--tls-verify=false', 'corrupt:1', remote]);
    // Corrupt that layer as the registry stores it.
    const blobsRoot = join(registry.dir, 'data/docker/registry/v2/blobs/sha256');
    const data = join(blobsRoot, layerDigest.slice(7, 9), layerDigest.slice(7), 'data');
    const bytes = readFileSync(data);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(data, bytes);
    const s = newStore();
    new Store(s);
    const r = h(['pull', '--tls-verify=false', remote], s);
    oneLine(r, /digest mismatch: expected sha256:[a-f0-9]{64}, received sha256:[a-f0-9]{64}; the blob was rejected/);
    assert.deepEqual(readdirSync(join(s, 'blobs/sha256')), [], 'no blob of the failed pull remains');
    assert.deepEqual(readdirSync(join(s, 'tmp')), []);
    assert.deepEqual(JSON.parse(readFileSync(join(s, 'index.json'), 'utf8')).manifests, []);
  });

  test('a full disk during a pull: one line, the store unchanged', () => {
    const remote = `${registry.host}/space/busybox:1`;
    mustH(['push', '--tls-verify=false', 'busybox:1', remote]);
    const small = join(env.dir, 'small-disk');
    mkdirSync(small);
    must('mount', ['-t', 'tmpfs', '-o', 'size=400k', 'tmpfs', small]);
    try {
      new Store(small);
      const index = readFileSync(join(small, 'index.json'), 'utf8');
      oneLine(h(['pull', '--tls-verify=false', remote], small), /no space left on the device holding .*; free some space/);
      assert.equal(readFileSync(join(small, 'index.json'), 'utf8'), index);
      assert.deepEqual(readdirSync(join(small, 'blobs/sha256')), []);
      assert.deepEqual(readdirSync(join(small, 'tmp')), []);
    } finally {
      must('umount', [small]);
    }
  });

  test('hyrun build FROM an image it pulls from the registry (COPY --from a pulled image too)', () => {
    mustH(['push', '--tls-verify=false', 'seed:1', `${registry.host}/base/seed:1`]);
    const s = newStore();
    const ctx = join(env.dir, 'from-remote');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'note.txt'), 'added');
    writeFileSync(join(ctx, 'Containerfile'), `FROM ${registry.host}/base/seed:1\nCOPY note.txt /\nCOPY --from=${registry.host}/base/seed:1 /hello.wasm /copy.wasm\n`);
    mustH(['build', '-q', '--tls-verify=false', '--platform', 'wasi/wasm', '-t', 'derived:1', ctx], s);
    const inspect = JSON.parse(mustH(['inspect', 'derived:1'], s).stdout) as { Layers: unknown[]; Config: { Cmd: string[] } }[];
    assert.equal(inspect[0].Layers.length, 3);
    assert.deepEqual(inspect[0].Config.Cmd, ['/hello.wasm']);
    const images = (JSON.parse(mustH(['images', '--format', 'json'], s).stdout) as { name: string }[]).map((i) => i.name).sort();
    assert.deepEqual(images, [`${registry.host}/base/seed:1`, 'localhost/derived:1']);
  });

  test('concurrent builds and pulls into one store: every image complete, the layout valid for skopeo', async () => {
    const s = newStore();
    const jobs: Promise<Result>[] = [];
    for (let i = 0; i < 4; i++) {
      const ctx = join(env.dir, `concurrent-${i}`);
      mkdirSync(ctx);
      writeFileSync(join(ctx, 'data.bin'), randomBytes(200_000));
      writeFileSync(join(ctx, 'Containerfile'), `FROM scratch\nCOPY data.bin /\nLABEL n=${i}\n`);
      jobs.push(hAsync(['build', '-q', '-t', `concurrent-${i}:1`, ctx], s));
    }
    jobs.push(hAsync(['pull', '--tls-verify=false', `${registry.host}/hyrun/seed:1`], s));
    jobs.push(hAsync(['pull', '--tls-verify=false', `${registry.host}/hyrun/seed-zstd:1`], s));
    for (const r of await Promise.all(jobs)) assert.equal(r.status, 0, explain(r));
    const names = (JSON.parse(mustH(['images', '--format', 'json'], s).stdout) as { name: string }[]).map((i) => i.name).sort();
    assert.deepEqual(names, [`${registry.host}/hyrun/seed-zstd:1`, `${registry.host}/hyrun/seed:1`, ...[0, 1, 2, 3].map((i) => `localhost/concurrent-${i}:1`)].sort());
    for (const name of names) env.mustSkopeo(['inspect', `oci:${s}:${name}`]);
    assert.deepEqual(readdirSync(join(s, 'tmp')), []);
  });

  test('404, bad references: one line, exit 125', () => {
    oneLine(h(['pull', '--tls-verify=false', `${registry.host}/nothing/here:1`], newStore()), /manifest unknown \(404\)/);
    oneLine(h(['pull', 'Not A Ref'], newStore()), /invalid image reference "Not A Ref"/);
    oneLine(h(['push', 'no-such-image:1', `${registry.host}/x/y:1`]), /no image no-such-image:1 in the store/);
  });

  test('a pull killed mid-blob leaves nothing visible; the next command removes its temporary file', async () => {
    // A 3 MB layer served slowly, so the pull is surely in the middle of it when killed.
    const ctx = join(env.dir, 'big');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'noise.bin'), randomBytes(3_000_000));
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY noise.bin /\n');
    mustH(['build', '-q', '-t', 'big:1', ctx]);
    mustH(['push', '--tls-verify=false', 'big:1', `${registry.host}/big/noise:1`]);
    const slow = await faultyProxy(registry.host, { failures: 0, kind: '503', slowBytesPerSecond: 300_000 });
    const s = newStore();
    new Store(s);
    try {
      const child = spawn(hyrunBin, ['pull', `${slow.host}/big/noise:1`], { env: hEnv(s, { HYRUN_INSECURE_REGISTRIES: slow.host }) });
      const tmp = join(s, 'tmp');
      const deadline = Date.now() + 60_000;
      while (!readdirSync(tmp).some((n) => n.endsWith('-blob')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(readdirSync(tmp).length > 0, 'the pull was writing a blob');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      assert.deepEqual(JSON.parse(readFileSync(join(s, 'index.json'), 'utf8')).manifests, [], 'nothing named');
      const layerDigest = (JSON.parse(mustH(['inspect', 'big:1']).stdout) as { Layers: { digest: string }[] }[])[0].Layers[0].digest;
      assert.equal(existsSync(join(s, 'blobs/sha256', layerDigest.slice(7))), false, 'no partial layer among the blobs');
      await hAsync(['images'], s);
      assert.deepEqual(readdirSync(tmp), [], 'the next command cleaned up');
    } finally {
      await slow.close();
    }
  });

  test('a manifest whose bytes do not match its digest is rejected (by tag and by digest)', async () => {
    const tamper = await faultyProxy(registry.host, { failures: 0, kind: '503', tamperManifests: true });
    try {
      const s = newStore();
      const byTag = await hAsync(['pull', `${tamper.host}/hyrun/seed:1`], s, { HYRUN_INSECURE_REGISTRIES: tamper.host });
      oneLine(byTag, /manifest digest mismatch for .*: the registry says sha256:[a-f0-9]{64}, the content is sha256:[a-f0-9]{64}; nothing was stored/);
      const digest = (JSON.parse(mustH(['images', '--format', 'json']).stdout) as { name: string; digest: string }[]).find((i) => i.name === 'localhost/seed:1')!.digest;
      const byDigest = await hAsync(['pull', `${tamper.host}/hyrun/seed@${digest}`], s, { HYRUN_INSECURE_REGISTRIES: tamper.host });
      oneLine(byDigest, new RegExp(`manifest digest mismatch for .*: expected ${digest}`));
      assert.deepEqual(readdirSync(join(s, 'blobs/sha256')), []);
    } finally {
      await tamper.close();
    }
  });

  test('big blobs go up in PATCH chunks; the pulled image is identical', () => {
    const ctx = join(env.dir, 'chunky');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'noise.bin'), randomBytes(2_000_000));
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY noise.bin /\n');
    mustH(['build', '-q', '-t', 'chunky:1', ctx]);
    const remote = `${registry.host}/big/chunked:1`;
    const pushed = mustH(['push', '--tls-verify=false', 'chunky:1', remote], main, { HYRUN_REGISTRY_CHUNK_SIZE: '700000' });
    assert.match(pushed.stderr, /pushed 2 blobs/);
    const s = newStore();
    const pulled = mustH(['pull', '--tls-verify=false', remote], s);
    assert.equal(pulled.stdout, pushed.stdout, 'same manifest digest');
  });

  test('a connection dropped in the middle of a blob: the blob is fetched again', async () => {
    const flaky = await faultyProxy(registry.host, { failures: 0, kind: '503', dropBigBodies: 2 });
    try {
      const s = newStore();
      const r = await hAsync(['pull', `${flaky.host}/big/noise:1`], s, { HYRUN_INSECURE_REGISTRIES: flaky.host });
      assert.equal(r.status, 0, explain(r));
      assert.equal(r.stdout.trim(), (JSON.parse(mustH(['images', '--format', 'json']).stdout) as { name: string; digest: string }[]).find((i) => i.name === 'localhost/big:1')?.digest);
      assert.deepEqual(readdirSync(join(s, 'tmp')), []);
    } finally {
      await flaky.close();
    }
  });

  test('5xx is retried with backoff; after the last attempt one line names the status', async () => {
    const flaky = await faultyProxy(registry.host, { failures: 3, kind: '503' });
    try {
      const s = newStore();
      const r = await hAsync(['pull', `${flaky.host}/hyrun/seed:1`], s, { HYRUN_INSECURE_REGISTRIES: flaky.host });
      assert.equal(r.status, 0, explain(r));
      assert.ok(flaky.seen() > 3);
    } finally {
      await flaky.close();
    }
    const down = await faultyProxy(registry.host, { failures: 1_000, kind: '503' });
    try {
      const s = newStore();
      oneLine(await hAsync(['pull', '--tls-verify=false', `${down.host}/hyrun/seed:1`], s), /failed after 5 attempts: 503 Service Unavailable/);
      assert.deepEqual(JSON.parse(readFileSync(join(s, 'index.json'), 'utf8')).manifests, []);
    } finally {
      await down.close();
    }
  });

  test('a registry that never answers: a timeout, one line', async () => {
    const silent = await faultyProxy(registry.host, { failures: 1_000, kind: 'hang' });
    try {
      oneLine(await hAsync(['pull', '--tls-verify=false', `${silent.host}/hyrun/seed:1`], newStore(), { HYRUN_REGISTRY_TIMEOUT: '300' }), /no answer within 0\.3 s/);
    } finally {
      await silent.close();
    }
  });

  test('basic auth: 401 names the realm; login (password on stdin) stores it, never prints it; logout', () => {
    const remote = `${authRegistry.host}/private/seed:1`;
    oneLine(h(['push', '--tls-verify=false', 'seed:1', remote]), /requires authentication \(realm "hyrun-test-realm"\): 401 Unauthorized; run hyrun login/);
    const wrong = h(['login', '--tls-verify=false', '--username', USER, '--password-stdin', authRegistry.host], main, {}, 'wrong\n');
    oneLine(wrong, /refused the credentials \(realm "hyrun-test-realm"\)/);
    assert.equal(existsSync(join(home, 'hyrun-auth.json')), false, 'nothing stored after a failed login');
    const ok = mustH(['login', '--tls-verify=false', '--username', USER, '--password-stdin', authRegistry.host], main, {}, `${PASSWORD}\n`);
    assert.doesNotMatch(ok.stdout + ok.stderr, /correct horse/);
    assert.equal(statSync(join(home, 'hyrun-auth.json')).mode & 0o777, 0o600);
    const pushed = mustH(['push', '--tls-verify=false', 'seed:1', remote]);
    assert.doesNotMatch(pushed.stdout + pushed.stderr, /correct horse/);
    const s = newStore();
    mustH(['pull', '--tls-verify=false', remote], s);
    env.mustSkopeo(['inspect', '--tls-verify=false', '--creds', `${USER}:${PASSWORD}`, `docker://${remote}`]);
    mustH(['logout', authRegistry.host]);
    oneLine(h(['pull', '--tls-verify=false', remote], newStore()), /requires authentication/);
    // Containers' auth.json (written by skopeo login) is read too.
    const authJson = join(home, 'containers-auth.json');
    env.mustSkopeo(['login', '--tls-verify=false', '--authfile', authJson, '--username', USER, '--password-stdin', authRegistry.host], { input: `${PASSWORD}\n` });
    mustH(['pull', '--tls-verify=false', remote], newStore(), { REGISTRY_AUTH_FILE: authJson });
    // Docker's config.json is read too.
    mkdirSync(join(home, 'docker'), { recursive: true });
    writeFileSync(join(home, 'docker/config.json'), JSON.stringify({ auths: { [authRegistry.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }));
    mustH(['pull', '--tls-verify=false', remote], newStore());
  });

  test('bearer tokens: the registry sends hyrun to a token service, which needs the login', async () => {
    const keys = join(env.dir, 'token-keys');
    mkdirSync(keys);
    must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(keys, 'key.pem'), '-out', join(keys, 'cert.pem'), '-days', '1', '-subj', '/CN=hyrun-test-token']);
    const server: ChildProcess = spawn(process.execPath, [join(engineFiles, 'token-server.mjs'), join(keys, 'key.pem'), join(keys, 'cert.pem'), 'hyrun-test-issuer', USER, PASSWORD], { stdio: ['ignore', 'pipe', 'inherit'] });
    let tokenRegistry: Registry | undefined;
    try {
      const port = await new Promise<string>((resolve) => server.stdout!.once('data', (d) => resolve(String(d).trim())));
      const realm = `http://127.0.0.1:${port}/token`;
      tokenRegistry = await startRegistry({ token: { realm, service: 'hyrun-test-registry', issuer: 'hyrun-test-issuer', rootCertBundle: join(keys, 'cert.pem') } });
      const remote = `${tokenRegistry.host}/tokens/seed:1`;
      const tokenEnv = { HYRUN_AUTH_FILE: join(home, 'token-auth.json'), DOCKER_CONFIG: join(home, 'no-docker') };
      oneLine(h(['push', '--tls-verify=false', 'seed:1', remote], main, tokenEnv), new RegExp(`requires authentication \\(realm "${realm.replace(/[.]/g, '\\.')}"\\)`));
      oneLine(h(['login', '--tls-verify=false', '--username', USER, '--password-stdin', tokenRegistry.host], main, tokenEnv, 'nope\n'), /token service .* answered 401/);
      mustH(['login', '--tls-verify=false', '--username', USER, '--password-stdin', tokenRegistry.host], main, tokenEnv, `${PASSWORD}\n`);
      mustH(['push', '--tls-verify=false', 'seed:1', remote], main, tokenEnv);
      const s = newStore();
      mustH(['pull', '--tls-verify=false', remote], s, tokenEnv);
      const issued = Number(await (await fetch(`http://127.0.0.1:${port}/issued`)).text());
      assert.ok(issued >= 3, `tokens were issued (${issued})`);
      env.mustSkopeo(['inspect', '--tls-verify=false', '--creds', `${USER}:${PASSWORD}`, `docker://${remote}`]);
    } finally {
      await tokenRegistry?.stop();
      server.kill();
    }
  });

  test('a Wasm OCI artifact: built and pushed by hyrun, pulled by hyrun; skopeo sees the artifact types', () => {
    mustH(['build', '--artifact', guest('eng_hello'), '-t', 'hello-artifact:1']);
    const remote = `${registry.host}/artifacts/hello:1`;
    mustH(['push', '--tls-verify=false', 'hello-artifact:1', remote]);
    const raw = JSON.parse(env.mustSkopeo(['inspect', '--tls-verify=false', '--raw', `docker://${remote}`]).stdout) as { config: { mediaType: string }; layers: { mediaType: string }[] };
    assert.equal(raw.config.mediaType, MT.wasmConfig);
    assert.deepEqual(raw.layers.map((l) => l.mediaType), [MT.wasmLayer]);
    const s = newStore();
    mustH(['pull', '--tls-verify=false', remote], s);
    const inspect = JSON.parse(mustH(['inspect', remote], s).stdout) as { Os: string; Architecture: string }[];
    assert.deepEqual([inspect[0].Os, inspect[0].Architecture], ['wasip1', 'wasm']);
  });
});
