// The node installer image (deploy/installer): staged offline from the release artifact (npm run
// dist; the image has no node but the artifact's), built with buildah from its Containerfile, run with Podman the way the DaemonSet runs it (the node's root at /host), against
// a temporary directory standing in for a node with containerd's default config. Install, then the
// uninstall the DaemonSet does on request: the node's config comes back byte for byte.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@decimalturn/toml-patch';
import { guest, repoRoot, runWithoutNode } from '../helpers.js';
import { PodmanEnv } from './engines/podman.js';
import { cannotRun, explain, must } from './engines/tools.js';

const skip = cannotRun(['podman', 'buildah', 'crun', 'containerd', 'ldd', 'unshare']);
const IMAGE = 'localhost/hyrun/node-installer:test';

describe('deploy/installer: the node installer image', { skip, timeout: 600_000 }, () => {
  let env: PodmanEnv;
  let host = '';
  let original = '';
  const runInstaller = (action: string) =>
    env.podman(['run', '--rm', '--runtime', 'crun', '-v', `${host}:/host`, '-e', `ACTION=${action}`, '-e', 'ONESHOT=1', '-e', 'NO_RESTART=1', IMAGE], { runtime: 'crun' });

  before(() => {
    env = new PodmanEnv({ prefix: 'hyrun-installer-' });
    const context = join(env.dir, 'context');
    must(process.execPath, [join(repoRoot, 'scripts/dist.mjs'), env.dir], { timeout: 240_000 });
    const artifact = readdirSync(env.dir).find((f) => f.endsWith('.tar.gz'))!;
    must(process.execPath, [join(repoRoot, 'deploy/installer/stage.mjs'), context, join(env.dir, artifact)]);
    env.mustBuildah(['build', '--quiet', '-f', join(repoRoot, 'deploy/installer/Containerfile'), '-t', IMAGE, context]);
    host = join(env.dir, 'node-root');
    mkdirSync(join(host, 'etc/containerd'), { recursive: true });
    original = must('containerd', ['config', 'default']).stdout;
    writeFileSync(join(host, 'etc/containerd/config.toml'), original);
  });
  after(() => env?.cleanup());

  test('ACTION=install: hyrun copied to the node /usr/local, containerd configured with the node paths, the label step reports no cluster', () => {
    const r = runInstaller('install');
    assert.equal(r.status, 0, explain(r));
    assert.match(r.stdout, /not in a cluster .* node label hyrun\/installed not set/);
    assert.match(r.stdout, /hyrun-node-installer: installed/);
    const doc = parse(readFileSync(join(host, 'etc/containerd/config.toml'), 'utf8'));
    const runtime = doc.plugins['io.containerd.grpc.v1.cri'].containerd.runtimes.hyrun;
    assert.equal(runtime.options.BinaryName, '/usr/local/bin/hyrun');
    assert.equal(readlinkSync(join(host, 'usr/local/bin/hyrun')), '../lib/hyrun/current/bin/hyrun');
    // The copy runs on the node it carries: this machine's node is hidden (a node with no node).
    const v = runWithoutNode(join(host, 'usr/local/bin/hyrun'), ['--version']);
    assert.equal(v.status, 0, explain(v));
    assert.match(v.stdout, /^hyrun version /);
    assert.match(v.stdout, new RegExp(`^node: \\S+ at ${host}/usr/local/lib/hyrun/[^/]+/node/node `, 'm'));
    // And runs a Wasm container's worth of work through it: a module, with the host's node hidden.
    const hello = runWithoutNode(join(host, 'usr/local/bin/hyrun'), ['run', guest('hello')]);
    assert.equal(hello.status, 0, explain(hello));
    assert.match(hello.stdout, /^hello from wasi/);
  });

  test('ACTION=uninstall: the node config restored byte for byte, the copy removed', () => {
    const r = runInstaller('uninstall');
    assert.equal(r.status, 0, explain(r));
    assert.match(r.stdout, /hyrun-node-installer: uninstalled/);
    assert.equal(readFileSync(join(host, 'etc/containerd/config.toml'), 'utf8'), original);
    assert.equal(existsSync(join(host, 'usr')), false);
    const bad = env.podman(['run', '--rm', '--runtime', 'crun', '-v', `${host}:/host`, '-e', 'ACTION=reinstall', '-e', 'ONESHOT=1', IMAGE], { runtime: 'crun' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /ACTION must be install or uninstall, not 'reinstall'/);
  });
});
