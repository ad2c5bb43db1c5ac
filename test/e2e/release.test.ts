// The release artifact (npm run dist, scripts/dist.mjs): reproducible, and self-contained: unpacked
// where this machine's node cannot be reached, `hyrun/bin/hyrun run hello.wat` and
// `hyrun install containerd` work, and the installed copy runs its own node (and transpiles components).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, repoRoot, run, runWithoutNode, tempDir } from '../helpers.js';
import { haveBusybox, makeBusyboxBundle } from './fixtures/rootfs.js';

const skip = process.getuid?.() !== 0 ? 'needs root (a mount namespace hides node)' : !existsSync(join(repoRoot, 'dist/hyrun.cjs')) ? 'not built' : false;
const HELLO_WAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from a release\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 21))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;

describe('the release artifact', { skip, timeout: 300_000 }, () => {
  const t = tempDir('hyrun-release-');
  let artifact = '';
  const dist = (out: string): string => {
    mkdirSync(out, { recursive: true });
    const r = run(process.execPath, [join(repoRoot, 'scripts/dist.mjs'), out], { env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' }, timeout: 240_000 });
    assert.equal(r.status, 0, r.stderr);
    const [name] = readdirSync(out);
    return join(out, name!);
  };
  before(() => {
    artifact = dist(join(t.path, 'a'));
  });
  after(() => t.cleanup());

  test('is named for the version and platform, and two runs give the same bytes', () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.match(artifact, new RegExp(`/hyrun-${version.replaceAll('.', '\\.')}-linux-(x64|arm64)\\.tar\\.gz$`));
    const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
    assert.equal(sha(dist(join(t.path, 'b'))), sha(artifact));
    // Sorted entries, root owners, one fixed time.
    const listing = run('tar', ['-tzvf', artifact, '--numeric-owner']).stdout.trim().split('\n');
    const names = listing.map((l) => l.split(/\s+/)[5]!);
    assert.ok(names.includes('hyrun/node/node') && names.includes('hyrun/bin/hyrun') && names.includes('hyrun/dist/hyrun.cjs'), names.join(' '));
    for (const l of listing) assert.match(l, /^\S+ 0\/0 .* 2023-11-14 \d\d:\d\d /, l);
  });

  test('unpacked on a machine without node: run hello.wat, --version names its own node, install containerd', () => {
    const dir = join(t.path, 'unpacked');
    mkdirSync(dir);
    assert.equal(run('tar', ['-xzf', artifact, '-C', dir]).status, 0);
    writeFileSync(join(dir, 'hello.wat'), HELLO_WAT);
    const hyrun = join(dir, 'hyrun/bin/hyrun');
    const hello = runWithoutNode(hyrun, ['run', join(dir, 'hello.wat')]);
    assert.deepEqual([hello.status, hello.stdout], [0, 'hello from a release\n'], hello.stderr);
    const version = runWithoutNode(hyrun, ['--version']);
    assert.match(version.stdout, new RegExp(`^node: \\d+\\.\\d+\\.\\d+ at ${dir}/hyrun/node/node \\(supported until \\d{4}-\\d\\d-\\d\\d\\)$`, 'm'), version.stderr);
    assert.match(version.stdout, /^code cache: used$/m);

    // hyrun install containerd onto a host root with no node: the copy carries node/ and runs it.
    const host = join(t.path, 'host');
    mkdirSync(join(host, 'etc/containerd'), { recursive: true });
    writeFileSync(join(host, 'etc/containerd/config.toml'), 'version = 2\n');
    const install = runWithoutNode(hyrun, ['install', 'containerd', '--host-root', host]);
    assert.equal(install.status, 0, install.stderr);
    const installed = join(host, 'usr/local/bin/hyrun');
    const id = readlinkSync(join(host, 'usr/local/lib/hyrun/current'));
    assert.ok(existsSync(join(host, 'usr/local/lib/hyrun', id, 'node/loader')));
    const v = runWithoutNode(installed, ['--version']);
    assert.match(v.stdout, new RegExp(`^node: \\S+ at ${host}/usr/local/lib/hyrun/${id}/node/node `, 'm'), v.stderr);
    const again = runWithoutNode(installed, ['run', join(dir, 'hello.wat')]);
    assert.deepEqual([again.status, again.stdout], [0, 'hello from a release\n'], again.stderr);
  });

  test('a Wasm container through the installed copy, node hidden: its executor runs the copy\'s node', { skip: !haveBusybox() && 'busybox-static is not installed' }, () => {
    const host = join(t.path, 'host');
    const installed = join(host, 'usr/local/bin/hyrun');
    const bundle = makeBusyboxBundle(join(t.path, 'wasm-bundle'), {
      args: ['/hello.wasm'], annotations: { 'module.wasm.image/variant': 'compat' }, files: { 'hello.wasm': readFileSync(guest('eng_hello')) },
    });
    const r = runWithoutNode(installed, ['--root', join(t.path, 'oci-root'), 'run', '--bundle', bundle, `release-${process.pid}`],
      { env: { HYRUN_CACHE_DIR: join(t.path, 'cache') } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /hello from hyrun-test wasm/);
    // The runtime directory mounted into the container holds the copy's node (same size: the same binary).
    const [rt] = readdirSync(join(t.path, 'cache')).filter((n) => n.startsWith('runtime-'));
    const id = readlinkSync(join(host, 'usr/local/lib/hyrun/current'));
    assert.equal(statSync(join(t.path, 'cache', rt!, 'node')).size, statSync(join(host, 'usr/local/lib/hyrun', id, 'node/node')).size);
  });

  test('a WASI 0.2 component container through the installed copy: transpiled at create with nothing but the copy (its transpiler\'s Wasm, no node_modules)', { skip: !haveBusybox() && 'busybox-static is not installed' }, () => {
    const installed = join(t.path, 'host/usr/local/bin/hyrun');
    const bundle = makeBusyboxBundle(join(t.path, 'component-bundle'), {
      args: ['/app', 'from the release'], annotations: { 'module.wasm.image/variant': 'compat-smart' }, files: { app: readFileSync(guest('comp_cli.component')) },
    });
    const cache = join(t.path, 'component-cache');
    const r = runWithoutNode(installed, ['--root', join(t.path, 'oci-root'), 'run', '--bundle', bundle, `release-comp-${process.pid}`], { env: { HYRUN_CACHE_DIR: cache } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^argv\[1\]=from the release$/m);
    assert.equal(readdirSync(join(cache, 'components')).length, 1);
  });
});
