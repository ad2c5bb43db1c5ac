// WASI 0.2 command components in containers (issue 16 §4): through hyrun's runc-compatible CLI with
// real crun and runc, and through `hyrun build`/`run IMAGE` in both modes (OCI and the embedded
// executor). A component is known by its header, whatever its name; it is transpiled outside the
// container (create, build, pull) into the host's cache, mounted read-only inside the hidden runtime
// mount, and a cached create transpiles nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { guest, hyrunBin, run, tempDir, type Result } from '../helpers.js';
import { httpGet, type HttpReply } from './engines/components.js';
import { cannotRun, explain, waitFor, waitUntil } from './engines/tools.js';
import type { OciSpec } from '../../src/oci/spec.js';

const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
});

const skip = cannotRun(['crun', 'runc']);
const CLI = guest('comp_cli.component');
const EXIT = guest('comp_exit.component');
const VOLUME = guest('eng_volume.component');
const LOOP = guest('rt_loop.component');
const MODULE = guest('eng_hello');
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

const scratch = tempDir('hyrun-comp-ctr-');
chmodSync(scratch.path, 0o755);
const cache = join(scratch.path, 'cache');
const env = { ...process.env, HYRUN_CACHE_DIR: cache };
const root = join(scratch.path, 'state');
let seq = 0;
after(() => scratch.cleanup());

/** The transpiled outputs in the cache: digest -> [inode, mtime] of its meta.json (changes when made again). */
function transpiledInCache(): Map<string, string> {
  const out = new Map<string, string>();
  const top = join(cache, 'components');
  if (!existsSync(top)) return out;
  for (const tag of readdirSync(top)) {
    for (const d of readdirSync(join(top, tag))) {
      const meta = join(top, tag, d, 'meta.json');
      if (existsSync(meta)) {
        const st = statSync(meta);
        out.set(d, `${st.ino} ${st.mtimeMs}`);
      } else out.set(d, 'incomplete');
    }
  }
  return out;
}

/** Every regular file under `dir` (to prove nothing was written into the rootfs; the delegate makes mount points there). */
const filesUnder = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).filter((p) => lstatSync(join(dir, p)).isFile()).sort();

interface Bundle { dir: string; rootfs: string }

function makeBundle(delegate: string, files: Record<string, string>, args: string[], edit: (c: OciSpec) => void = () => {}): Bundle {
  const dir = join(scratch.path, `bundle-${++seq}`);
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'data'), { recursive: true });
  for (const [name, source] of Object.entries(files)) copyFileSync(source, join(rootfs, name));
  assert.equal(run(delegate, ['spec'], { cwd: dir }).status, 0);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as OciSpec;
  config.process!.terminal = false;
  config.process!.args = args;
  config.annotations = { 'module.wasm.image/variant': 'compat-smart' };
  edit(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return { dir, rootfs };
}

const hy = (delegate: string, args: string[]): Result => run(hyrunBin, ['--root', root, '--delegate', delegate, ...args], { env, timeout: 180_000 });
const runBundle = (delegate: string, b: Bundle): Result => hy(delegate, ['run', '--bundle', b.dir, `c${++seq}`]);

for (const delegate of ['crun', 'runc']) {
  describe(`command components in containers (${delegate})`, { skip, timeout: 600_000 }, () => {
    test('compat-smart with the component at /app (no .wasm name): run as a component, by its header; args and env', () => {
      const b = makeBundle(delegate, { app: CLI }, ['/app', 'one', 'two words'], (c) => c.process!.env!.push('GREETING=hello there'));
      const before = filesUnder(b.rootfs);
      const r = runBundle(delegate, b);
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /^argc=3\nargv\[1\]=one\nargv\[2\]=two words\n/);
      assert.match(r.stdout, /^env GREETING=hello there$/m);
      assert.match(r.stdout, /^random ok$/m);
      assert.equal(r.stderr, '');
      // Transpiled outside the container, into the host's cache; the rootfs got nothing of it.
      assert.ok(transpiledInCache().has(sha(CLI)), `no transpiled form of ${CLI} in ${cache}`);
      assert.deepEqual(filesUnder(b.rootfs), before);
    });

    test('a cached create transpiles nothing: the transpiled form is not made again; its glue code cache was made at create', () => {
      const b = makeBundle(delegate, { app: CLI }, ['/app']);
      assert.equal(runBundle(delegate, b).status, 0);
      const first = transpiledInCache();
      const r = runBundle(delegate, makeBundle(delegate, { 'cli.wasm': CLI }, ['/cli.wasm']));
      assert.equal(r.status, 0, explain(r));
      assert.deepEqual(transpiledInCache(), first);
      const tag = readdirSync(join(cache, 'components'))[0]!;
      assert.ok(existsSync(join(cache, 'components', tag, sha(CLI), 'glue.cjs.cache')));
    });

    test('exit-with-code 42 is the container status; a preview1 module beside it still runs as a module', () => {
      const r = runBundle(delegate, makeBundle(delegate, { 'exit.wasm': EXIT }, ['/exit.wasm', '42']));
      assert.equal(r.status, 42, explain(r));
      assert.equal(r.stdout, 'exiting with 42\n');
      const m = runBundle(delegate, makeBundle(delegate, { 'hello.wasm': MODULE }, ['/hello.wasm']));
      assert.equal(m.status, 0, explain(m));
      assert.match(m.stdout, /^hello from hyrun-test wasm$/m);
    });

    test('a bind-mounted volume: the component reads and writes it', () => {
      const data = join(scratch.path, `data-${++seq}`);
      mkdirSync(data);
      chmodSync(data, 0o777);
      writeFileSync(join(data, 'in.txt'), 'from the host');
      const b = makeBundle(delegate, { 'volume.wasm': VOLUME }, ['/volume.wasm'], (c) => {
        c.mounts = [...(c.mounts ?? []), { destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] }];
      });
      const r = runBundle(delegate, b);
      assert.equal(r.status, 0, explain(r));
      assert.equal(r.stdout, 'read: from the host\n');
      assert.equal(readFileSync(join(data, 'out.txt'), 'utf8'), 'wasm saw: from the host');
    });

    test('a component only in a volume (create cannot see it) is refused in one line, 126', () => {
      const vol = join(scratch.path, `vol-${++seq}`);
      mkdirSync(vol);
      copyFileSync(CLI, join(vol, 'app.wasm'));
      const b = makeBundle(delegate, {}, ['/vol/app.wasm'], (c) => {
        c.annotations = { 'module.wasm.image/variant': 'compat' };
        c.mounts = [...(c.mounts ?? []), { destination: '/vol', type: 'bind', source: vol, options: ['rbind', 'ro'] }];
      });
      const r = runBundle(delegate, b);
      assert.equal(r.status, 126, explain(r));
      assert.match(r.stderr, /^hyrun: \/vol\/app\.wasm is a WebAssembly component that was not found when this container was created \(it must be in the image, not in a volume\)/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });

    test('an invalid component is refused at create in one line, 126, and nothing is cached', () => {
      const bad = join(scratch.path, `bad-${++seq}.wasm`);
      // The component header (layer 1) followed by a section that does not parse.
      writeFileSync(bad, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07, 0x05, 0xff, 0xff, 0xff]));
      const before = transpiledInCache();
      const r = runBundle(delegate, makeBundle(delegate, { app: bad }, ['/app']));
      assert.equal(r.status, 126, explain(r));
      // The OCI commands print their refusal as runc does: the line alone (engines show it as is).
      assert.match(r.stderr, /^\/app is not a valid WebAssembly component: /);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.deepEqual(transpiledInCache(), before);
    });

    test('exec of the same component in a running container works; of another component, one line, 126', async () => {
      const b = makeBundle(delegate, { 'loop.wasm': LOOP, 'cli.wasm': CLI, 'exit.wasm': EXIT }, ['/loop.wasm']);
      const id = `exec${++seq}`;
      const log = join(b.dir, 'log');
      const fd = openSync(log, 'w');
      try {
        const c = run(hyrunBin, ['--root', root, '--delegate', delegate, 'create', '--bundle', b.dir, id], { env, stdio: ['ignore', fd, fd], timeout: 180_000 });
        assert.equal(c.status, 0, readFileSync(log, 'utf8'));
      } finally {
        closeSync(fd);
      }
      try {
        assert.equal(hy(delegate, ['start', id]).status, 0);
        waitUntil('the loop to say spinning', () => readFileSync(log, 'utf8').includes('spinning'), 90_000);
        // The same component: transpiled at create, so it starts too (and spins, until the delete).
        const same = spawn(hyrunBin, ['--root', root, '--delegate', delegate, 'exec', id, '/loop.wasm'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        same.stdout.on('data', (d: Buffer) => (out += d));
        same.stderr.on('data', (d: Buffer) => (out += d));
        await waitFor('the exec to say spinning', () => out.includes('spinning\n') || same.exitCode !== null, 90_000);
        assert.equal(out, 'spinning\n');
        same.kill('SIGKILL');
        const other = hy(delegate, ['exec', id, '/exit.wasm', '3']);
        assert.equal(other.status, 126, explain(other));
        assert.match(other.stderr, /^hyrun: \/exit\.wasm is a WebAssembly component that was not transpiled when this container was created/);
      } finally {
        hy(delegate, ['delete', '--force', id]);
      }
    });

    test('SIGTERM stops a busy component as PID 1: 143', async () => {
      const b = makeBundle(delegate, { 'loop.wasm': LOOP }, ['/loop.wasm']);
      const id = `term${++seq}`;
      const child = spawn(hyrunBin, ['--root', root, '--delegate', delegate, 'run', '--bundle', b.dir, id], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await new Promise<void>((resolve, reject) => {
          const t = setInterval(() => { if (out.includes('spinning')) { clearInterval(t); resolve(); } }, 20);
          child.on('exit', () => { clearInterval(t); reject(new Error(`exited before spinning: ${out}`)); });
        });
        assert.equal(hy(delegate, ['kill', id, 'TERM']).status, 0);
        assert.equal(await done, 143);
      } finally {
        hy(delegate, ['delete', '--force', id]);
      }
    });
  });
}

describe('component images: hyrun build, build --artifact, run IMAGE in both modes', { skip, timeout: 600_000 }, () => {
  const store = join(scratch.path, 'store');
  const icache = join(scratch.path, 'image-cache');
  const hEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, HYRUN_STORAGE: store, HYRUN_CACHE_DIR: icache, ...extra });
  const h = (args: string[], extra: NodeJS.ProcessEnv = {}): Result => run(hyrunBin, args, { env: hEnv(extra), timeout: 180_000 });
  const mustH = (args: string[]): Result => {
    const r = h(args);
    assert.equal(r.status, 0, `hyrun ${args.join(' ')}: ${explain(r)}`);
    return r;
  };
  const transpiled = (): string[] => {
    const top = join(icache, 'components');
    return existsSync(top) ? readdirSync(top).flatMap((t) => readdirSync(join(top, t)).filter((d) => !d.startsWith('.'))) : [];
  };
  const MODES = { oci: { HYRUN_RUN_MODE: 'oci' }, embedded: { HYRUN_RUN_MODE: 'embedded' } };

  before(() => {
    const ctx = join(scratch.path, 'ctx-cli');
    mkdirSync(ctx, { recursive: true });
    // No .wasm name, compat-smart: a component by its header.
    copyFileSync(CLI, join(ctx, 'app'));
    copyFileSync(EXIT, join(ctx, 'exit.wasm'));
    copyFileSync(VOLUME, join(ctx, 'volume.wasm'));
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY app exit.wasm volume.wasm /\nENV FROM_IMAGE=yes\nENTRYPOINT ["/app"]\n');
    mustH(['build', '-q', '-t', 'comp-cli:1', '--annotation', 'module.wasm.image/variant=compat-smart', '--platform', 'wasi/wasm', ctx]);
  });

  test('hyrun build of a component image transpiles its entrypoint into the host cache', () => {
    assert.deepEqual(transpiled(), [sha(CLI)]);
  });

  test('build --artifact of a component: os wasip2, application/wasm layer, transpiled at build', () => {
    const r = mustH(['build', '--artifact', EXIT, '-t', 'comp-exit-artifact:1']);
    assert.ok(transpiled().includes(sha(EXIT)));
    const inspect = JSON.parse(mustH(['inspect', 'comp-exit-artifact:1']).stdout) as { Os: string; Architecture: string; MediaType: string }[];
    assert.equal(inspect[0]!.Os, 'wasip2');
    assert.equal(inspect[0]!.Architecture, 'wasm');
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const manifest = JSON.parse(readFileSync(join(store, 'blobs/sha256', r.stdout.trim().slice(7)), 'utf8')) as { config: { mediaType: string; digest: string }; layers: { mediaType: string }[] };
    assert.equal(manifest.config.mediaType, 'application/vnd.wasm.config.v0+json');
    assert.deepEqual(manifest.layers.map((l) => l.mediaType), ['application/wasm']);
    const config = JSON.parse(readFileSync(join(store, 'blobs/sha256', manifest.config.digest.slice(7)), 'utf8')) as { os: string };
    assert.equal(config.os, 'wasip2');
    // A core module stays wasip1.
    mustH(['build', '--artifact', MODULE, '-t', 'module-artifact:1']);
    assert.equal((JSON.parse(mustH(['inspect', 'module-artifact:1']).stdout) as { Os: string }[])[0]!.Os, 'wasip1');
  });

  test('build --artifact refuses a --platform that contradicts the header, and an invalid component, storing nothing', () => {
    const before = readdirSync(join(store, 'blobs/sha256')).sort();
    const p = h(['build', '--artifact', EXIT, '--platform', 'wasip1/wasm', '-t', 'wrong:1']);
    assert.equal(p.status, 125, explain(p));
    assert.match(p.stderr, /^hyrun: .*exit\.component\.wasm is a WASI 0\.2 component, but --platform says wasip1\/wasm; use wasip2\/wasm or leave --platform out\n$/);
    const bad = join(scratch.path, 'bad-artifact.wasm');
    writeFileSync(bad, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07, 0x05, 0xff, 0xff, 0xff]));
    const b = h(['build', '--artifact', bad, '-t', 'bad:1']);
    assert.equal(b.status, 126, explain(b));
    assert.match(b.stderr, /^hyrun: .*bad-artifact\.wasm is not a valid WebAssembly component: .*\n$/);
    assert.deepEqual(readdirSync(join(store, 'blobs/sha256')).sort(), before);
    assert.equal(h(['inspect', 'bad:1']).status === 0, false);
  });

  for (const [mode, modeEnv] of Object.entries(MODES)) {
    test(`run IMAGE (${mode}): entrypoint, args, image ENV and -e, exit-with-code, -v; a second start transpiles nothing`, () => {
      const before = transpiled();
      const r = h(['run', '--rm', '-e', 'CLI=1', 'comp-cli:1', 'one'], modeEnv);
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /^argc=2\nargv\[1\]=one\n/);
      assert.match(r.stdout, /^env FROM_IMAGE=yes$/m);
      assert.match(r.stdout, /^env CLI=1$/m);
      const exit = h(['run', '--rm', '--entrypoint', '/exit.wasm', 'comp-cli:1', '42'], modeEnv);
      assert.equal(exit.status, 42, explain(exit));
      assert.equal(exit.stdout, 'exiting with 42\n');
      const data = join(scratch.path, `img-data-${mode}`);
      mkdirSync(data, { recursive: true });
      chmodSync(data, 0o777);
      writeFileSync(join(data, 'in.txt'), `from the host (${mode})`);
      const v = h(['run', '--rm', '-v', `${data}:/data`, '--entrypoint', '/volume.wasm', 'comp-cli:1'], modeEnv);
      assert.equal(v.status, 0, explain(v));
      assert.equal(readFileSync(join(data, 'out.txt'), 'utf8'), `wasm saw: from the host (${mode})`);
      // The entrypoint was transpiled by the build; the other two by their first start (create, or
      // the embedded executor), outside the container; a second start of each finds them.
      const after = transpiled();
      assert.ok(after.includes(sha(CLI)) && after.includes(sha(EXIT)) && after.includes(sha(VOLUME)), after.join(' '));
      assert.ok(before.every((d) => after.includes(d)));
      const again = h(['run', '--rm', '--entrypoint', '/exit.wasm', 'comp-cli:1', '3'], modeEnv);
      assert.equal(again.status, 3, explain(again));
      assert.deepEqual(transpiled(), after);
    });

    test(`run IMAGE (${mode}) of a component artifact`, () => {
      const r = h(['run', '--rm', 'comp-exit-artifact:1', '5'], modeEnv);
      assert.equal(r.status, 5, explain(r));
      assert.equal(r.stdout, 'exiting with 5\n');
    });
  }

  test('run IMAGE (embedded) -p IP:HOST:8080 of an HTTP component: served at IP:HOST; hyrun stop ends it with 0', async () => {
    const ctx = join(scratch.path, 'ctx-http');
    mkdirSync(ctx, { recursive: true });
    copyFileSync(guest('http_handler.component'), join(ctx, 'app.wasm'));
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY app.wasm /\nCMD ["/app.wasm"]\n');
    mustH(['build', '-q', '-t', 'comp-http:1', '--platform', 'wasi/wasm', ctx]);
    const port = await freePort();
    const name = `comp-http-${process.pid}`;
    const started = h(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:8080`, 'comp-http:1'], MODES.embedded);
    assert.equal(started.status, 0, explain(started));
    try {
      let hello: HttpReply | undefined;
      await waitFor(`HTTP on 127.0.0.1:${port}`, async () => { hello = await httpGet('127.0.0.1', port, '/hello'); return true; }, 90_000);
      assert.deepEqual([hello?.status, hello?.body], [200, 'hello from C\n']);
      const two = h(['run', '--rm', '-p', '127.0.0.1:1:8080', '-p', '127.0.0.1:2:8081', 'comp-http:1'], MODES.embedded);
      assert.equal(two.status, 125, explain(two));
      assert.match(two.stderr, /^hyrun: a component serves one address: give one -p/);
      assert.equal(h(['stop', name]).status, 0);
      assert.match(h(['ps', '-a']).stdout, new RegExp(`Exited \\(0\\).*${name}`));
    } finally {
      h(['rm', '-f', name]);
    }
  });
});

