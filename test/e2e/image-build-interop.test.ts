// hyrun-built images in the real tools: the seed's Wasm image built by `hyrun build` runs under
// `podman --runtime hyrun` and under containerd (`ctr run --runc-binary hyrun`) exactly as the
// buildah-built one does; skopeo reads hyrun's store as an OCI layout; oci-archive round-trips
// through `podman load` / `podman save`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrun, hyrunBin, type Result } from '../helpers.js';
import { cleanStderr, PodmanEnv } from './engines/podman.js';
import { stageBusyboxRootfs } from './engines/images.js';
import { startContainerd, type Containerd } from './engines/containerd.js';
import { cannotRun, explain } from './engines/tools.js';

const skip = cannotRun(['podman', 'buildah', 'skopeo', 'containerd', 'ctr', 'crun', 'busybox']);
const HELLO = 'hello from hyrun-test wasm\n';

describe('images built by hyrun build, run by podman and containerd', { skip, timeout: 900_000 }, () => {
  let env: PodmanEnv;
  let storage: string;
  let context: string;
  const h = (args: string[]): Result => hyrun(args, { env: { ...process.env, HYRUN_STORAGE: storage }, timeout: 120_000 });
  const mustH = (args: string[]): Result => {
    const r = h(args);
    assert.equal(r.status, 0, `hyrun ${args.join(' ')}: ${explain(r)}`);
    return r;
  };

  before(() => {
    env = new PodmanEnv({ prefix: 'hyrun-build-interop-' });
    env.env.HYRUN_CACHE_DIR = join(env.dir, 'hyrun-cache');
    storage = join(env.dir, 'hyrun-storage');
    context = join(env.dir, 'seed');
    mkdirSync(context);
    copyFileSync(guest('eng_hello'), join(context, 'hello.wasm'));
    writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY hello.wasm /\nCMD ["/hello.wasm"]\n');
    mustH(['build', '-q', '-t', 'hyrun-test/seed:built', '--annotation', 'module.wasm.image/variant=compat', '--platform', 'wasi/wasm', context]);
  });
  after(() => env?.cleanup());

  test('skopeo inspects the store as an OCI layout: platform, CMD, annotation', () => {
    const ref = `oci:${storage}:localhost/hyrun-test/seed:built`;
    const config = JSON.parse(env.mustSkopeo(['inspect', '--config', ref]).stdout) as { os: string; architecture: string; config: { Cmd: string[] } };
    assert.deepEqual([config.os, config.architecture, config.config.Cmd], ['wasi', 'wasm', ['/hello.wasm']]);
    const raw = JSON.parse(env.mustSkopeo(['inspect', '--raw', ref]).stdout) as { annotations?: Record<string, string> };
    assert.equal(raw.annotations?.['module.wasm.image/variant'], 'compat');
  });

  test('podman load of hyrun save (oci-archive), then podman run --runtime hyrun', () => {
    const archive = join(env.dir, 'seed-oci.tar');
    mustH(['save', '-o', archive, 'hyrun-test/seed:built']);
    const loaded = env.mustPodman(['load', '-i', archive]);
    assert.match(loaded.stdout, /localhost\/hyrun-test\/seed:built/);
    const annotation = env.mustPodman(['image', 'inspect', '--format', '{{index .Annotations "module.wasm.image/variant"}}', 'localhost/hyrun-test/seed:built']);
    assert.equal(annotation.stdout.trim(), 'compat');
    const r = env.podman(['run', '--rm', 'localhost/hyrun-test/seed:built']);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
    assert.equal(cleanStderr(r.stderr), '');
    // And back: podman save (oci-archive) loads into a fresh hyrun store with the same image.
    const back = join(env.dir, 'back.tar');
    env.mustPodman(['save', '--format', 'oci-archive', '-o', back, 'localhost/hyrun-test/seed:built']);
    const store2 = join(env.dir, 'hyrun-storage-2');
    const l = hyrun(['load', '-i', back], { env: { ...process.env, HYRUN_STORAGE: store2 } });
    assert.equal(l.status, 0, explain(l));
    const images = JSON.parse(hyrun(['images', '--format', 'json'], { env: { ...process.env, HYRUN_STORAGE: store2 } }).stdout) as { id: string }[];
    const ours = JSON.parse(mustH(['images', '--format', 'json']).stdout) as { id: string }[];
    assert.equal(images.length, 1);
    assert.equal(images[0].id, ours[0].id, 'same config digest after the round trip');
  });

  test('the same image built by buildah runs the same way (reference)', () => {
    env.mustBuildah(['build', '--quiet', '--annotation', 'module.wasm.image/variant=compat', '--platform', 'wasi/wasm', '-t', 'localhost/hyrun-test/seed:buildah', context]);
    const r = env.podman(['run', '--rm', 'localhost/hyrun-test/seed:buildah']);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, HELLO);
  });

  test('a hyrun-built busybox image (COPY of a whole rootfs) runs as Linux under podman --runtime hyrun', () => {
    const bb = join(env.dir, 'busybox-ctx');
    stageBusyboxRootfs(join(bb, 'rootfs'));
    writeFileSync(join(bb, 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\nENV GREETING=hi\nCMD ["/bin/sh", "-c", "echo $GREETING from busybox"]\n');
    mustH(['build', '-q', '-t', 'hyrun-test/busybox:built', bb]);
    const archive = join(env.dir, 'bb.tar');
    mustH(['save', '-o', archive, 'hyrun-test/busybox:built']);
    env.mustPodman(['load', '-i', archive]);
    const r = env.podman(['run', '--rm', 'localhost/hyrun-test/busybox:built']);
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stdout, 'hi from busybox\n');
    // The docker-archive format too, under another name.
    mustH(['tag', 'hyrun-test/busybox:built', 'hyrun-test/busybox:docker']);
    const dockerArchive = join(env.dir, 'bb-docker.tar');
    mustH(['save', '--format', 'docker-archive', '-o', dockerArchive, 'hyrun-test/busybox:docker']);
    assert.match(env.mustPodman(['load', '-i', dockerArchive]).stdout, /localhost\/hyrun-test\/busybox:docker/);
    const d = env.podman(['run', '--rm', 'localhost/hyrun-test/busybox:docker']);
    assert.equal(d.status, 0, explain(d));
    assert.equal(d.stdout, 'hi from busybox\n');
  });

  test('containerd imports the oci-archive and runs it with ctr run --runc-binary hyrun', async () => {
    let cd: Containerd | undefined;
    try {
      cd = await startContainerd();
      const archive = join(env.dir, 'seed-ctr.tar');
      mustH(['save', '-o', archive, 'hyrun-test/seed:built']);
      cd.mustCtr(['images', 'import', '--all-platforms', archive]);
      const r = cd.ctr(['run', '--rm', '--runc-binary', hyrunBin, '--platform', 'wasi/wasm',
        '--annotation', 'module.wasm.image/variant=compat', 'localhost/hyrun-test/seed:built', `hyrun-build-${process.pid}`]);
      assert.equal(r.status, 0, explain(r));
      assert.equal(r.stdout, HELLO);
    } finally {
      await cd?.stop();
    }
  });
});
