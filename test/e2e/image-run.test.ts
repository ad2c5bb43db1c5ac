// `hyrun run IMAGE`: the embedded executor (what a bare machine gets: a non-root user, nothing but
// hyrun), hyrun's own OCI runtime as root (Wasm and Linux images), images pulled on demand from a
// real registry (buildah-built ones included), Wasm artifacts (current and older media types), an
// index picked by --platform, and the detached lifecycle (ps, logs, stop, rm).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { guest, hyrun, hyrunBin, READONLY_REPORT, run as runTool, type Result } from '../helpers.js';
import { PodmanEnv } from './engines/podman.js';
import { buildWasmImage, stageBusyboxRootfs, WASM_IMAGES } from './engines/images.js';
import { startRegistry, type Registry } from './engines/registry.js';
import { cannotRun, explain, waitUntil } from './engines/tools.js';
import { driveTty } from './engines/tty.js';
import { MT } from '../../src/image/media.js';
import { sha256, Store } from '../../src/image/store.js';

const skip = cannotRun(['docker-registry', 'podman', 'buildah', 'crun', 'setpriv', 'busybox']);
const HELLO = 'hello from hyrun-test wasm\n';

const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
});
const canListen = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

describe('hyrun run IMAGE', { skip, timeout: 900_000 }, () => {
  let env: PodmanEnv;
  let registry: Registry;
  let store: string;
  let cache: string;
  const hEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, HYRUN_STORAGE: store, HYRUN_CACHE_DIR: cache, ...extra });
  const h = (args: string[], extra: NodeJS.ProcessEnv = {}, input?: string): Result => hyrun(args, { env: hEnv(extra), timeout: 180_000, input });
  const mustH = (args: string[], extra: NodeJS.ProcessEnv = {}): Result => {
    const r = h(args, extra);
    assert.equal(r.status, 0, `hyrun ${args.join(' ')}: ${explain(r)}`);
    return r;
  };
  const embedded = { HYRUN_RUN_MODE: 'embedded' };
  // This test process holds a lease in the store once it has written a blob itself.
  const tmpFiles = (): string[] => readdirSync(join(store, 'tmp')).filter((n) => n !== `${process.pid}-lease`);
  const context = (name: string, files: Record<string, string>, containerfile: string): string => {
    const dir = join(env.dir, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, g] of Object.entries(files)) copyFileSync(guest(g), join(dir, file));
    writeFileSync(join(dir, 'Containerfile'), containerfile);
    return dir;
  };

  before(async () => {
    env = new PodmanEnv({ prefix: 'hyrun-image-run-' });
    env.env.HYRUN_CACHE_DIR = join(env.dir, 'cache');
    store = join(env.dir, 'store');
    cache = join(env.dir, 'cache');
    registry = await startRegistry();
    const wasmArgs = ['--annotation', 'module.wasm.image/variant=compat', '--platform', 'wasi/wasm'];
    mustH(['build', '-q', '-t', 'seed:1', ...wasmArgs, context('seed', { 'hello.wasm': 'eng_hello' }, 'FROM scratch\nCOPY hello.wasm /\nCMD ["/hello.wasm"]\n')]);
    mustH(['build', '-q', '-t', 'exit42:1', ...wasmArgs, context('exit42', { 'exit42.wasm': 'eng_exit42' }, 'FROM scratch\nCOPY exit42.wasm /\nCMD ["/exit42.wasm"]\n')]);
    mustH(['build', '-q', '-t', 'env:1', ...wasmArgs, context('env', { 'env.wasm': 'diff_env' }, 'FROM scratch\nCOPY env.wasm /bin/\nENV FROM_IMAGE=yes\nENTRYPOINT ["env.wasm"]\n')]);
    mustH(['build', '-q', '-t', 'volume:1', ...wasmArgs, context('volume', { 'volume.wasm': 'eng_volume' }, 'FROM scratch\nCOPY volume.wasm /\nCMD ["/volume.wasm"]\n')]);
    mustH(['build', '-q', '-t', 'busy:1', ...wasmArgs, context('busy', { 'busy.wasm': 'eng_busy' }, 'FROM scratch\nCOPY busy.wasm /\nCMD ["/busy.wasm", "sleep"]\n')]);
    mustH(['build', '-q', '-t', 'tty:1', ...wasmArgs, context('tty', { 'tty.wasm': 'eng_tty' }, 'FROM scratch\nCOPY tty.wasm /\nCMD ["/tty.wasm"]\n')]);
    const bb = join(env.dir, 'busybox');
    stageBusyboxRootfs(join(bb, 'rootfs'));
    writeFileSync(join(bb, 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\nENV GREETING=hi\nWORKDIR /tmp\nCMD ["/bin/sh", "-c", "echo $GREETING from busybox in $(pwd)"]\n');
    mustH(['build', '-q', '-t', 'busybox:1', '--platform', 'linux/amd64', bb]);
  });
  after(async () => {
    await registry?.stop();
    env?.cleanup();
  });

  test('embedded executor: CMD, ARGS replacing it, the exit status, -e over the image ENV, -v', () => {
    const r = h(['run', '--rm', 'seed:1'], embedded);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
    assert.equal(h(['run', '--rm', 'seed:1', '/hello.wasm', 'x'], embedded).stdout, `${HELLO}arg1=x\n`);
    const exit = h(['run', '--rm', 'exit42:1'], embedded);
    assert.equal(exit.status, 42, explain(exit));
    const e = h(['run', '--rm', '-e', 'CLI=1', 'env:1', 'FROM_IMAGE', 'CLI'], embedded);
    assert.equal(e.status, 0, explain(e));
    assert.match(e.stdout, /^ {2}FROM_IMAGE=yes$/m);
    assert.match(e.stdout, /^ {2}CLI=1$/m);
    assert.match(e.stdout, /^ {2}PATH=/m);
    const data = join(env.dir, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'in.txt'), 'from the host');
    const v = h(['run', '--rm', '-v', `${data}:/data`, 'volume:1'], embedded);
    assert.equal(v.status, 0, explain(v));
    assert.equal(readFileSync(join(data, 'out.txt'), 'utf8'), 'wasm saw: from the host');
    // --rm left no container behind; the image's snapshot is kept and reused.
    assert.deepEqual(readdirSync(join(store, 'containers')).filter((n) => !n.startsWith('.')), []);
    assert.ok(readdirSync(join(store, 'snapshots')).length >= 4);
  });

  test('embedded executor: -v HOST:CTR:ro is read-only by every path the guest can take; reads work', () => {
    // The image: the guest, /tmp, and a symlink /ln -> /data (a way into the volume through `/`).
    const ctx = context('readonly', { 'readonly.wasm': 'eng_readonly' }, 'FROM scratch\nCOPY readonly.wasm /\nCOPY root/ /\nENTRYPOINT ["/readonly.wasm"]\n');
    mkdirSync(join(ctx, 'root', 'tmp'), { recursive: true });
    writeFileSync(join(ctx, 'root', 'tmp', '.keep'), '');
    symlinkSync('/data', join(ctx, 'root', 'ln'));
    mustH(['build', '-q', '-t', 'readonly:1', '--platform', 'wasi/wasm', ctx]);
    const data = join(env.dir, 'ro-data');
    const rw = join(env.dir, 'rw-data');
    mkdirSync(join(data, 'sub'), { recursive: true });
    mkdirSync(rw, { recursive: true });
    writeFileSync(join(data, 'in.txt'), 'hello');
    writeFileSync(join(data, 'sub', 'keep.txt'), 'kept');
    const list = (): string => runTool('find', [data, '-printf', '%P %y %s %T@\n']).stdout;
    const before = list();
    const r = h(['run', '--rm', '-v', `${data}:/data:ro`, '-v', `${rw}:/rw`, 'readonly:1', '/data', '/rw', '/./data/x', '/ln/y', '/data/../data/z', '/rw/../data/w', '/tmp/writable'], embedded);
    assert.equal(r.status, 0, explain(r));
    assert.deepEqual(r.stdout.trim().split('\n'), [...READONLY_REPORT, 'create /./data/x: EROFS', 'create /ln/y: EROFS', 'create /data/../data/z: EROFS',
      'create /rw/../data/w: EROFS', 'create /tmp/writable: ok', 'keep: kept']);
    assert.equal(list(), before, 'the read-only volume is unchanged');
    assert.deepEqual(readdirSync(rw), ['mine.txt'], 'the writable volume took its file');
    // The same image with the volume writable changes it: the flag is what refuses.
    const w = h(['run', '--rm', '-v', `${data}:/data`, '-v', `${rw}:/rw`, 'readonly:1', '/data', '/rw'], embedded);
    assert.match(w.stdout, /^mkdir: ok$/m, explain(w));
    assert.notEqual(list(), before);
  });

  test('--env-file, --annotation and --memory reach the OCI config; set-id bits only with --keep-setid', () => {
    const envFile = join(env.dir, 'vars.env');
    writeFileSync(envFile, '# comment\nFROM_FILE=1\n\nSECOND=two words\n');
    const r = h(['run', '--name', 'cfg', '--env-file', envFile, '--annotation', 'org.example/x=y', '--memory', '256m', 'busybox:1', '/bin/sh', '-c', 'echo $FROM_FILE $SECOND']);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, '1 two words\n');
    const id = (JSON.parse(mustH(['ps', '-a', '--format', 'json']).stdout) as { Id: string; Names: string[] }[]).find((c) => c.Names[0] === 'cfg')!.Id;
    const config = JSON.parse(readFileSync(join(store, 'containers', id, 'config.json'), 'utf8')) as { annotations: Record<string, string>; linux: { resources: { memory: { limit: number } } } };
    assert.equal(config.annotations['org.example/x'], 'y');
    assert.equal(config.linux.resources.memory.limit, 256 * 2 ** 20);
    mustH(['rm', 'cfg']);
    // A set-id file in the image: dropped by default, kept when root asks.
    const ctx = join(env.dir, 'setid');
    mkdirSync(join(ctx, 'root/bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(ctx, 'root/bin/busybox'));
    chmodSync(join(ctx, 'root/bin/busybox'), 0o4755);
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY root/ /\n');
    mustH(['build', '-q', '-t', 'setid:1', ctx]);
    const mode = (extra: string[]): string => mustH(['run', '--rm', ...extra, 'setid:1', '/bin/busybox', 'stat', '-c', '%a', '/bin/busybox']).stdout.trim();
    assert.equal(mode([]), '755');
    assert.equal(mode(['--keep-setid']), '4755');
  });

  test('a Linux image on the embedded path: one line naming what to install', () => {
    const r = h(['run', '--rm', 'busybox:1'], embedded);
    assert.equal(r.status, 125);
    assert.equal(r.stderr, 'hyrun: localhost/busybox:1 is a Linux image: running it needs root and crun or runc (apt-get install crun); Wasm images run without them\n');
  });

  test('a bare machine: a non-root user with nothing but hyrun pulls a Wasm image and runs it', () => {
    mustH(['push', '--tls-verify=false', 'seed:1', `${registry.host}/bare/seed:1`]);
    const home = join(env.dir, 'nobody-home');
    mkdirSync(home);
    chownSync(home, 65534, 65534);
    chmodSync(env.dir, 0o755);
    // PATH holds node only (bin/hyrun starts with `#!/usr/bin/env node`): no crun, runc, podman.
    const bin = join(env.dir, 'node-only-bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = runTool('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', hyrunBin, 'run', '--rm', '--tls-verify=false', `${registry.host}/bare/seed:1`], {
      env: { PATH: bin, HOME: home, HYRUN_CACHE_DIR: join(home, 'cache') }, timeout: 120_000,
    });
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
    assert.ok(existsSync(join(home, '.local/share/hyrun/storage/index.json')), 'the default rootless store');
  });

  test('as root with crun: Wasm images through hyrun\'s OCI runtime, Linux images too (env, workdir, user, exit status)', () => {
    const w = h(['run', '--rm', 'seed:1', '/hello.wasm', 'oci']);
    assert.equal(w.status, 0, explain(w));
    assert.equal(w.stdout, `${HELLO}arg1=oci\n`);
    assert.equal(h(['run', '--rm', 'exit42:1']).status, 42);
    const l = h(['run', '--rm', 'busybox:1']);
    assert.equal(l.status, 0, explain(l));
    assert.equal(l.stdout, 'hi from busybox in /tmp\n');
    const u = h(['run', '--rm', '--user', '1000:1001', '-w', '/', '-e', 'GREETING=hello', 'busybox:1', '/bin/sh', '-c', 'echo $(id -u):$(id -g) $GREETING $(pwd); exit 3']);
    assert.equal(u.status, 3, explain(u));
    assert.equal(u.stdout, '1000:1001 hello /\n');
    // Writes stay in the container (an overlay on the snapshot as root), never in the image's snapshot.
    const w2 = h(['run', '--rm', 'busybox:1', '/bin/sh', '-c', 'echo x > /tmp/written && rm /bin/true && grep -c . /proc/self/mountinfo >/dev/null']);
    assert.equal(w2.status, 0, explain(w2));
    for (const snap of readdirSync(join(store, 'snapshots'))) {
      assert.equal(existsSync(join(store, 'snapshots', snap, 'rootfs/tmp/written')), false);
    }
    assert.equal(h(['run', '--rm', 'busybox:1', '/bin/true']).status, 0, '/bin/true is still in the image');
    assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(join(store, 'containers')), false, 'no overlay left mounted');
    // A store path with a space (mountinfo escapes it): the overlay is still found and unmounted.
    const spaced = join(env.dir, 'store with space');
    const archive = join(env.dir, 'bb-for-spaced.tar');
    mustH(['save', '-o', archive, 'busybox:1']);
    assert.equal(hyrun(['load', '-i', archive], { env: hEnv({ HYRUN_STORAGE: spaced }) }).status, 0);
    const sp = hyrun(['run', '--rm', 'busybox:1', '/bin/true'], { env: hEnv({ HYRUN_STORAGE: spaced }), timeout: 60_000 });
    assert.equal(sp.status, 0, explain(sp));
    assert.deepEqual(readdirSync(join(spaced, 'containers')).filter((n) => !n.startsWith('.')), []);
  });

  test('as root through crun: -t on a terminal, with or without -i, gives the container that terminal (crun relays it); -d -t runs without one', () => {
    // crun relays a console on its own stdin: `-t` alone once failed with "tcgetattr: Inappropriate ioctl for device".
    for (const flags of [['-t'], ['-it']]) {
      const w = driveTty([hyrunBin, 'run', '--rm', ...flags, 'tty:1'], 'type a line:', 'typed', { env: hEnv() });
      assert.deepEqual({ status: w.status, output: w.output }, { status: 0, output: 'stdin tty: yes, stdout tty: yes\r\ntype a line:\r\ntyped\r\necho: [typed]\r\n' }, `Wasm, ${flags.join(' ')}`);
      const l = driveTty([hyrunBin, 'run', '--rm', ...flags, 'busybox:1', '/bin/sh', '-c', 'echo "type a line:"; read line; tty >/dev/null && echo "tty: [$line]"'], 'type a line:', 'typed', { env: hEnv() });
      assert.deepEqual({ status: l.status, output: l.output }, { status: 0, output: 'type a line:\r\ntyped\r\ntty: [typed]\r\n' }, `Linux, ${flags.join(' ')}`);
    }
    const d = driveTty([hyrunBin, 'run', '-d', '-t', '--name', 'detached-tty', 'busybox:1', '/bin/sh', '-c', 'tty || echo no terminal'], '', '', { env: hEnv() });
    assert.equal(d.status, 0, d.output);
    try {
      waitUntil('the detached container to exit', () => h(['ps', '-a']).stdout.split('\n').some((line) => line.includes('detached-tty') && line.includes('Exited')));
      assert.equal(mustH(['logs', 'detached-tty']).stdout, 'not a tty\nno terminal\n');
    } finally {
      h(['rm', '-f', 'detached-tty']);
    }
  });

  test('a buildah-built image from the registry is pulled on demand and run with its annotation', () => {
    buildWasmImage(env, { ...WASM_IMAGES.wasmAppSmart, tag: 'localhost/buildah/app-smart:1' });
    const remote = `${registry.host}/buildah/app-smart:1`;
    env.mustPodman(['push', '--tls-verify=false', 'localhost/buildah/app-smart:1', `docker://${remote}`]);
    const r = h(['run', '--name', 'smart', '--tls-verify=false', remote]);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
    const ps = JSON.parse(mustH(['ps', '-a', '--format', 'json']).stdout) as { Id: string; Names: string[]; Mode: string; ExitCode: number }[];
    const c = ps.find((p) => p.Names[0] === 'smart')!;
    assert.equal(c.Mode, 'oci');
    assert.equal(c.ExitCode, 0);
    const config = JSON.parse(readFileSync(join(store, 'containers', c.Id, 'config.json'), 'utf8')) as { annotations: Record<string, string>; process: { args: string[] } };
    assert.equal(config.annotations['module.wasm.image/variant'], 'compat-smart', 'the image annotation reaches the runtime');
    assert.deepEqual(config.process.args, ['/app']);
    mustH(['rm', 'smart']);
    // And on the embedded executor.
    const e = h(['run', '--rm', remote], embedded);
    assert.equal(e.status, 0, explain(e));
    assert.equal(e.stdout, HELLO);
  });

  test('Wasm artifacts (application/wasm, and the older vnd.wasm.content.layer.v1+wasm) run after a pull', () => {
    mustH(['build', '--artifact', guest('eng_hello'), '-t', 'artifact:1']);
    mustH(['push', '--tls-verify=false', 'artifact:1', `${registry.host}/art/new:1`]);
    // The older layout, assembled in a scratch store and pushed by hyrun.
    const scratch = join(env.dir, 'old-artifact-store');
    const s = new Store(scratch);
    const layer = s.putBlob(readFileSync(guest('eng_hello')));
    const config = s.putBlob(Buffer.from('{}'));
    const manifest = s.putBlob(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.wasmConfigV1, ...config },
      layers: [{ mediaType: MT.wasmLayerV1, ...layer, annotations: { 'org.opencontainers.image.title': 'hello.wasm' } }],
    })));
    s.tag('localhost/old-artifact:1', { mediaType: MT.ociManifest, ...manifest });
    const push = hyrun(['push', '--tls-verify=false', 'old-artifact:1', `${registry.host}/art/old:1`], { env: hEnv({ HYRUN_STORAGE: scratch }) });
    assert.equal(push.status, 0, explain(push));
    for (const ref of [`${registry.host}/art/new:1`, `${registry.host}/art/old:1`]) {
      const fresh = join(env.dir, `fresh-${sha256(ref).slice(7, 15)}`);
      for (const mode of [embedded, {}]) {
        const r = hyrun(['run', '--rm', '--tls-verify=false', ref, 'x'], { env: hEnv({ HYRUN_STORAGE: fresh, ...mode }), timeout: 120_000 });
        assert.equal(r.status, 0, `${ref} ${JSON.stringify(mode)}: ${explain(r)}`);
        assert.equal(r.stdout, `${HELLO}arg1=x\n`);
      }
    }
  });

  test('an index holding linux/amd64 and wasi/wasm: --platform picks the image run', async () => {
    mustH(['push', '--tls-verify=false', 'busybox:1', `${registry.host}/multi/run:linux`]);
    mustH(['push', '--tls-verify=false', 'seed:1', `${registry.host}/multi/run:wasm`]);
    const head = async (tag: string): Promise<{ digest: string; size: number }> => {
      const body = Buffer.from(await (await fetch(`http://${registry.host}/v2/multi/run/manifests/${tag}`, { headers: { Accept: MT.ociManifest } })).arrayBuffer());
      return { digest: sha256(body), size: body.length };
    };
    const index = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: [
      { mediaType: MT.ociManifest, ...(await head('linux')), platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: MT.ociManifest, ...(await head('wasm')), platform: { os: 'wasi', architecture: 'wasm' } },
    ] };
    const put = await fetch(`http://${registry.host}/v2/multi/run/manifests/both`, { method: 'PUT', headers: { 'Content-Type': MT.ociIndex }, body: JSON.stringify(index) });
    assert.equal(put.status, 201);
    const fresh = join(env.dir, 'multi-store');
    const runIn = (platform: string): Result => hyrun(['run', '--rm', '--tls-verify=false', '--platform', platform, `${registry.host}/multi/run:both`], { env: hEnv({ HYRUN_STORAGE: fresh }), timeout: 120_000 });
    const w = runIn('wasi/wasm');
    assert.equal(w.status, 0, explain(w));
    assert.equal(w.stdout, HELLO);
    const l = runIn('linux/amd64');
    assert.equal(l.status, 0, explain(l));
    assert.equal(l.stdout, 'hi from busybox in /tmp\n');
  });

  for (const [label, mode] of [['embedded', embedded], ['oci', {}]] as const) {
    test(`detached (${label}): ps shows it running, logs -f, stop ends it with the stop signal's status, rm removes it`, () => {
      const name = `busy-${label}`;
      const id = mustH(['run', '-d', '--name', name, 'busy:1'], mode).stdout.trim();
      assert.match(id, /^[a-f0-9]{64}$/);
      waitUntil('the container to print ready', () => h(['logs', name]).stdout.includes('ready sleep'), 60_000);
      const ps = JSON.parse(mustH(['ps', '--format', 'json']).stdout) as { Id: string; State: string; Mode: string }[];
      const mine = ps.find((p) => p.Id === id);
      assert.equal(mine?.State, 'running');
      assert.equal(mine?.Mode, label);
      assert.match(mustH(['ps']).stdout, new RegExp(`${id.slice(0, 12)} .*Up .*${name}`));
      const rmRunning = h(['rm', name]);
      assert.equal(rmRunning.status, 125);
      assert.match(rmRunning.stderr, /is running; stop it first/);
      mustH(['stop', '-t', '5', name]);
      const after1 = (JSON.parse(mustH(['ps', '-a', '--format', 'json']).stdout) as { Id: string; State: string; ExitCode: number }[]).find((p) => p.Id === id);
      assert.equal(after1?.State, 'exited');
      assert.equal(after1?.ExitCode, 143, 'SIGTERM: 128+15');
      assert.equal((JSON.parse(mustH(['ps', '--format', 'json']).stdout) as unknown[]).length, 0, 'ps without -a lists running ones only');
      assert.equal(mustH(['logs', '-f', name]).stdout, 'ready sleep\n');
      mustH(['rm', name]);
      assert.equal(existsSync(join(store, 'containers', id)), false);
      const gone = h(['logs', name]);
      assert.equal(gone.status, 125);
      assert.match(gone.stderr, /no container busy-/);
    });
  }

  test('embedded executor: -p HOST:CTR preopens a listening socket the guest serves on', async () => {
    mustH(['build', '-q', '-t', 'http:1', '--platform', 'wasi/wasm', context('http', { 'server.wasm': 'rt_http_server' }, 'FROM scratch\nCOPY server.wasm /\nCMD ["/server.wasm", "1"]\n')]);
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
    });
    mustH(['run', '-d', '--name', 'http', '-p', `127.0.0.1:${port}:8080`, 'http:1'], embedded);
    let body = '';
    for (let i = 0; i < 100 && body === ''; i++) {
      try {
        body = await (await fetch(`http://127.0.0.1:${port}/from-the-test`)).text();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.match(body, /GET \/from-the-test/);
    waitUntil('the server to exit after one request', () => (JSON.parse(h(['ps', '-a', '--format', 'json']).stdout) as { Names: string[]; State: string }[]).some((c) => c.Names[0] === 'http' && c.State === 'exited'), 30_000);
    mustH(['rm', 'http']);
  });

  test('as root through crun: -p HOST:CONTAINER with different ports is forwarded by the supervisor; stop frees the port', async () => {
    const [hostPort, ctrPort] = [await freePort(), await freePort()];
    const id = mustH(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${hostPort}:${ctrPort}`, 'busybox:1', '/bin/sh', '-c',
      `mkdir -p /www && echo forwarded from busybox > /www/index.html && exec httpd -f -p 127.0.0.1:${ctrPort} -h /www`]).stdout.trim();
    try {
      await servedThrough(id, hostPort, ctrPort);
    } finally {
      h(['rm', '-f', 'web']);
    }
    assert.equal(await canListen(hostPort), true, 'stop closed the forwarder');
    assert.equal(await canListen(ctrPort), true);
  });
  const servedThrough = async (id: string, hostPort: number, ctrPort: number): Promise<void> => {
    assert.equal((JSON.parse(mustH(['ps', '-a', '--format', 'json']).stdout) as { Id: string; Mode: string }[]).find((c) => c.Id === id)?.Mode, 'oci');
    const get = async (port: number): Promise<string> => {
      for (let i = 0; i < 150; i++) {
        try {
          return await (await fetch(`http://127.0.0.1:${port}/index.html`, { signal: AbortSignal.timeout(5000) })).text();
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      return '';
    };
    assert.equal(await get(hostPort), 'forwarded from busybox\n');
    // Several connections at once, each its own upstream connection.
    assert.deepEqual(await Promise.all([1, 2, 3].map(() => get(hostPort))), Array(3).fill('forwarded from busybox\n'));
    // No network namespace: the container's own port is the host's too (documented).
    assert.equal(await get(ctrPort), 'forwarded from busybox\n');
    mustH(['stop', '-t', '1', 'web']);
    assert.equal(await canListen(hostPort), true, 'stop closed the forwarder');
    mustH(['rm', 'web']);
  };

  test('as root through crun: a -p host port in use is refused with one line, no container, no mount', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((res) => blocker.listen(0, '127.0.0.1', () => res((blocker.address() as { port: number }).port)));
    const containers = (): string[] => readdirSync(join(store, 'containers')).filter((n) => !n.startsWith('.'));
    const mounts = (): string => readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(store)).join('\n');
    const before = [containers(), mounts()];
    try {
      for (const detach of [['-d'], []]) {
        const r = h(['run', ...detach, '--rm', '-p', `127.0.0.1:${port}:80`, 'busybox:1']);
        assert.equal(r.status, 125, explain(r));
        assert.equal(r.stderr, `hyrun: -p 127.0.0.1:${port}:80: port ${port} on 127.0.0.1 is in use; choose another host port\n`);
        assert.equal(r.stdout, '');
        assert.deepEqual([containers(), mounts()], before);
        assert.deepEqual(tmpFiles(), []);
      }
    } finally {
      blocker.close();
    }
  });

  test('an image with a hostile layer is refused at run: one line, nothing unpacked, no container', async () => {
    const { pack } = await import('tar-stream');
    const p = pack();
    const chunks: Buffer[] = [];
    const done = (async () => { for await (const c of p) chunks.push(c as Buffer); })();
    p.entry({ name: 'hello.wasm' }, readFileSync(guest('eng_hello')));
    p.entry({ name: '../../../../tmp/hyrun-escaped' }, Buffer.from('escaped'));
    p.finalize();
    await done;
    const s = new Store(store);
    const { gzipSync } = await import('node:zlib');
    const tar = Buffer.concat(chunks);
    const layer = s.putBlob(gzipSync(tar));
    const config = s.putBlob(Buffer.from(JSON.stringify({ architecture: 'wasm', os: 'wasi', config: { Cmd: ['/hello.wasm'] }, rootfs: { type: 'layers', diff_ids: [sha256(tar)] } })));
    const manifest = s.putBlob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, ...config }, layers: [{ mediaType: MT.ociLayerGzip, ...layer }] })));
    s.tag('localhost/hostile:1', { mediaType: MT.ociManifest, ...manifest });
    const before = readdirSync(join(store, 'containers')).filter((n) => !n.startsWith('.'));
    for (const mode of [embedded, {}]) {
      const r = h(['run', '--rm', 'hostile:1'], mode);
      assert.equal(r.status, 125, explain(r));
      assert.match(r.stderr, /^hyrun: layer [a-f0-9]{12}: entry "..\/..\/..\/..\/tmp\/hyrun-escaped" climbs out of the root filesystem with '..'; the image is refused\n$/);
    }
    assert.equal(existsSync('/tmp/hyrun-escaped'), false);
    assert.equal(existsSync(join(store, 'snapshots', manifest.digest.slice(7))), false);
    assert.deepEqual(readdirSync(join(store, 'containers')).filter((n) => !n.startsWith('.')), before);
    assert.deepEqual(tmpFiles(), []);
  });

  test('bad input: one line, non-zero, nothing left behind', () => {
    const containers = (): string[] => readdirSync(join(store, 'containers')).filter((n) => !n.startsWith('.'));
    const before = containers();
    const cases: [string[], RegExp][] = [
      [['run', '--rm', '--pull', 'never', 'localhost/not-there:1'], /no image localhost\/not-there:1 in the store and --pull never/],
      [['run', '--rm', '-v', 'relative-only', 'seed:1'], /-v 'relative-only' is not HOST:CONTAINER/],
      [['run', '--rm', '-p', '80:8080/udp', 'busybox:1'], /-p '80:8080\/udp' is not \[IP:\]HOST:CONTAINER \(TCP\)/],
      [['run', '--rm', '--memory', 'lots', 'seed:1'], /--memory 'lots' is not a size/],
      [['run', '--rm', 'seed:1', '/missing.wasm'], /missing\.wasm/],
    ];
    for (const [args, pattern] of cases) {
      const r = h(args);
      assert.notEqual(r.status, 0, `${args.join(' ')}: ${explain(r)}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('hyrun:')).length, 1, r.stderr);
    }
    assert.deepEqual(containers(), before, 'no container directory left by a refused run');
    assert.deepEqual(tmpFiles(), []);
  });
});
