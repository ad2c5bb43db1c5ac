// The Wasm image round-trips through a real registry (Debian's docker-registry on 127.0.0.1):
// pushed from one Podman store, inspected with skopeo, pulled into a fresh store and run there with
// hyrun; also pulled by containerd (ctr, plain HTTP) and run with ctr --runc-binary hyrun.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hyrunBin } from '../helpers.js';
import { cleanStderr, PodmanEnv } from './engines/podman.js';
import { buildImages, IMAGES } from './engines/images.js';
import { startRegistry, type Registry } from './engines/registry.js';
import { startContainerd, type Containerd } from './engines/containerd.js';
import { cannotRun, explain } from './engines/tools.js';

const skip = cannotRun(['docker-registry', 'skopeo', 'podman', 'buildah', 'containerd', 'ctr', 'crun']);
const HELLO = 'hello from hyrun-test wasm\n';

describe('a Wasm image through a registry', { skip, timeout: 900_000 }, () => {
  let builder: PodmanEnv;
  let puller: PodmanEnv;
  let registry: Registry;
  let remote: string;

  before(async () => {
    builder = new PodmanEnv({ prefix: 'hyrun-podman-builder-' });
    puller = new PodmanEnv({ prefix: 'hyrun-podman-puller-' });
    buildImages(builder, ['wasmHello']);
    registry = await startRegistry();
    remote = `${registry.host}/hyrun-test/wasm-hello:latest`;
  });
  after(async () => {
    await registry?.stop();
    builder?.cleanup();
    puller?.cleanup();
  });

  test('podman push stores it in the registry with its platform and annotation', () => {
    builder.mustPodman(['push', '--tls-verify=false', IMAGES.wasmHello, `docker://${remote}`]);
    const manifest = JSON.parse(builder.mustSkopeo(['inspect', '--tls-verify=false', '--raw', `docker://${remote}`]).stdout) as {
      mediaType?: string; annotations?: Record<string, string>; layers: unknown[];
    };
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(manifest.annotations?.['module.wasm.image/variant'], 'compat');
    assert.equal(manifest.layers.length, 1);
    const config = JSON.parse(builder.mustSkopeo(['inspect', '--tls-verify=false', '--config', `docker://${remote}`]).stdout) as {
      os: string; architecture: string; config?: { Cmd?: string[] };
    };
    assert.deepEqual([config.os, config.architecture, config.config?.Cmd], ['wasi', 'wasm', ['/hello.wasm']]);
  });

  test('pulled into a fresh Podman store, it runs under hyrun', () => {
    assert.equal(puller.podman(['image', 'exists', remote]).status, 1, 'the puller store starts empty');
    puller.mustPodman(['pull', '--tls-verify=false', remote]);
    const annotation = puller.mustPodman(['image', 'inspect', '--format', '{{index .Annotations "module.wasm.image/variant"}}', remote]);
    assert.equal(annotation.stdout.trim(), 'compat');
    const r = puller.podman(['run', '--rm', remote, '/hello.wasm', 'pulled']);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, `${HELLO}arg1=pulled\n`);
    assert.equal(cleanStderr(r.stderr), '');
  });

  test('skopeo copies it registry -> registry under a new name, digest unchanged', () => {
    const copy = `${registry.host}/hyrun-test/wasm-hello-copy:v1`;
    builder.mustSkopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${remote}`, `docker://${copy}`]);
    const digest = (ref: string): string =>
      (JSON.parse(builder.mustSkopeo(['inspect', '--tls-verify=false', `docker://${ref}`]).stdout) as { Digest: string }).Digest;
    assert.equal(digest(copy), digest(remote));
  });

  test('containerd pulls it over plain HTTP and runs it with --runc-binary hyrun', async () => {
    let cd: Containerd | undefined;
    try {
      cd = await startContainerd();
      cd.mustCtr(['images', 'pull', '--plain-http', '--platform', 'wasi/wasm', remote]);
      const r = cd.ctr(['run', '--rm', '--runc-binary', hyrunBin, '--platform', 'wasi/wasm',
        '--annotation', 'module.wasm.image/variant=compat', remote, `hyrun-registry-${process.pid}`]);
      assert.equal(r.status, 0, explain(r));
      assert.equal(r.stdout, HELLO);
    } finally {
      await cd?.stop();
    }
  });
});
