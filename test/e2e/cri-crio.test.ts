// CRI-O 1.32 (../shared/cri) with the drop-in `hyrun install crio --config` wrote, driven with
// crictl: the §2 scenarios 1, 2, 3, 4 and 9, and module.wasm.image/variant reaching hyrun with no
// allow-listing. CRI-O writes ociVersion 1.2.0 and a pids limit of -1, which Debian's crun 1.8.1
// refuses; hyrun smooths both (configForDelegate). CRI-O 1.32 drops the infra (pause) container by
// default (drop_infra_ctr), so this machine's missing CAP_SYS_RESOURCE (the pause container's
// oom_score_adj -998) does not arise here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrun } from '../helpers.js';
import { PodmanEnv } from './engines/podman.js';
import { buildBusybox, buildWasmImage, IMAGES } from './engines/images.js';
import { buildPauseImage, copyImageToCrio, CRIO, criDriver, criMissing, hyrunRecord, listCgroups, PAUSE_IMAGE, PINNS, startCrioNode, type CriNode } from './engines/cri.js';
import { cannotRun, explain, waitFor } from './engines/tools.js';

const skip = cannotRun(['podman', 'buildah', 'skopeo', 'crun', 'conmon', 'gcc', 'ip']) ?? criMissing([CRIO, PINNS]);
const WASM_IMAGE = 'localhost/hyrun-test/crio-wasm:latest';
/** The same module in an image of platform linux/amd64: only the annotation can make it Wasm. */
const WASM_LINUX_IMAGE = 'localhost/hyrun-test/crio-wasm-linux:latest';
const HELLO = 'hello from hyrun-test wasm';
/** runtime_root of the runtime hyrun install crio writes. */
const HYRUN_ROOT = '/run/hyrun-crio';

describe('CRI-O with hyrun installed by `hyrun install crio` (crictl)', { skip, timeout: 1_200_000 }, () => {
  let env: PodmanEnv;
  let node: CriNode;
  const { writeJson, podConfig, containerConfig, runPod, startContainer, status, waitState, removePod } = criDriver(() => node);
  const record = (id: string): ReturnType<typeof hyrunRecord> => hyrunRecord(HYRUN_ROOT, id);

  before(async () => {
    env = new PodmanEnv({ prefix: 'hyrun-crio-images-' });
    buildBusybox(env);
    buildPauseImage(env);
    buildWasmImage(env, {
      tag: WASM_IMAGE,
      files: { 'hello.wasm': 'eng_hello', 'exit.wasm': 'diff_exit', 'exec.wasm': 'eng_exec', 'busy.wasm': 'eng_busy' },
      cmd: ['/hello.wasm'],
    });
    const context = join(env.dir, 'wasm-linux');
    mkdirSync(context);
    copyFileSync(guest('eng_hello'), join(context, 'hello.wasm'));
    writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY hello.wasm /\nCMD ["/hello.wasm"]\n');
    env.mustBuildah(['build', '--quiet', '--platform', 'linux/amd64', '-t', WASM_LINUX_IMAGE, context]);
    node = await startCrioNode({
      bridge: 'hyrunbr8c', subnet: '10.213.1.0/24',
      configure(config, dir) {
        const r = hyrun(['install', 'crio', '--config', config, '--prefix', join(dir, 'prefix')]);
        if (r.status !== 0) throw new Error(`hyrun install crio failed: ${explain(r)}`);
        // The test's own runtimes: hyrun without the allow-list (what CRI-O does then), and with
        // run.oci.handler allow-listed (which CRI-O refuses).
        writeFileSync(join(dir, 'etc/crio.conf.d/50-test.conf'), [
          '[crio.runtime.runtimes.hyrun-noallow]', `runtime_path = ${JSON.stringify(join(dir, 'prefix/bin/hyrun'))}`, 'runtime_type = "oci"',
          `runtime_root = ${JSON.stringify(join(dir, 'noallow-root'))}`,
          '[crio.runtime.runtimes.hyrun-handler]', `runtime_path = ${JSON.stringify(join(dir, 'prefix/bin/hyrun'))}`, 'runtime_type = "oci"',
          `runtime_root = ${JSON.stringify(join(dir, 'handler-root'))}`, 'allowed_annotations = ["run.oci.handler"]', '',
        ].join('\n'));
      },
    });
    for (const image of [PAUSE_IMAGE, IMAGES.busybox, WASM_IMAGE, WASM_LINUX_IMAGE]) copyImageToCrio(env, node, image);
  });
  after(async () => {
    await node?.stop();
    env?.cleanup();
  });

  test('CRI-O loaded the drop-in: runtime handler hyrun is known and the node is ready', () => {
    const info = JSON.parse(node.mustCrictl(['info']).stdout) as { status: { conditions: { type: string; status: boolean }[] } };
    assert.ok(info.status.conditions.every((c) => c.status), JSON.stringify(info.status.conditions));
    const bogus = node.crictl(['runp', '--runtime', 'no-such-handler', writeJson('pod', podConfig('bogus'))]);
    assert.notEqual(bogus.status, 0, 'an unknown handler is refused, so the next tests really use the drop-in');
  });

  test('1. compat-smart pod: the Wasm app (by platform_runtime_paths) and a busybox sidecar run; the allow-listed annotation reaches the sidecar config; the CRI log holds the guest output', async () => {
    const pod = runPod(podConfig('smart', { 'module.wasm.image/variant': 'compat-smart' }));
    try {
      const sidecar = startContainer(pod, containerConfig('sidecar', IMAGES.busybox, ['/bin/sh', '-c', 'echo sidecar up; exec sleep 1000']));
      await waitState(sidecar, 'CONTAINER_RUNNING');
      assert.equal(record(sidecar)?.handler, 'linux');
      // The sidecar's image is linux/amd64, so CRI-O used hyrun itself (not the platform's hyrun-wasm).
      // CRI-O 1.32 keeps pod annotations on the sandbox unless the runtime allow-lists them (the
      // allow-list test below shows both ways); hyrun install writes that list.
      const bundle = (JSON.parse(readFileSync(join(HYRUN_ROOT, sidecar, 'hyrun.json'), 'utf8')) as { bundle: string }).bundle;
      const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { annotations: Record<string, string>; ociVersion: string; linux?: { resources?: { pids?: { limit?: number } } } };
      assert.equal(spec.annotations['module.wasm.image/variant'], 'compat-smart', `the allow-listed pod annotation in the container config: ${JSON.stringify(spec.annotations, null, 1)}`);
      assert.equal(spec.ociVersion, '1.2.0', 'what CRI-O 1.32 writes (crun 1.8.1 alone refuses it)');
      // ... with a pids limit crun 1.8.1 writes literally into pids.max (EINVAL) when given as is.
      const pids = spec.linux?.resources?.pids?.limit;
      assert.ok(pids === undefined || pids === -1 || pids > 0, `pids limit ${pids}`);
      assert.equal(node.mustCrictl(['logs', sidecar]).stdout, 'sidecar up\n');
      const app = startContainer(pod, containerConfig('app', WASM_IMAGE, ['/busy.wasm', 'sleep']));
      await waitState(app, 'CONTAINER_RUNNING');
      assert.equal(record(app)?.handler, 'wasm');
      // Wasm because CRI-O picked hyrun-wasm for the wasi/wasm image (platform_runtime_paths).
      assert.equal(record(app)?.annotations?.['io.kubernetes.cri-o.PlatformRuntimePath'], join(node.dir, 'prefix/bin/hyrun-wasm'));
      const logPath = status(app).logPath!;
      await waitFor('the guest output in the CRI log', () => existsSync(logPath) && readFileSync(logPath, 'utf8').includes('ready sleep'));
      assert.match(readFileSync(logPath, 'utf8'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F ready sleep$/m);
    } finally {
      removePod(pod);
    }
  });

  test('2. compat pod: guest exit 3 is 3 / Error; a normal return is 0 / Completed', async () => {
    const pod = runPod(podConfig('exit', { 'module.wasm.image/variant': 'compat' }));
    try {
      const three = startContainer(pod, containerConfig('three', WASM_IMAGE, ['/exit.wasm', 'exit', '3']));
      const zero = startContainer(pod, containerConfig('zero', WASM_IMAGE, ['/hello.wasm']));
      const s3 = await waitState(three, 'CONTAINER_EXITED');
      const s0 = await waitState(zero, 'CONTAINER_EXITED');
      assert.equal(s3.exitCode, 3, JSON.stringify(s3));
      assert.equal(s3.reason, 'Error');
      assert.equal(s0.exitCode, 0, JSON.stringify(s0));
      assert.equal(s0.reason, 'Completed');
      assert.equal(node.mustCrictl(['logs', zero]).stdout, `${HELLO}\n`);
    } finally {
      removePod(pod);
    }
  });

  test('3. ExecSync into the Wasm container (.wasm probe) and the sidecar (/bin/sh -c)', async () => {
    const pod = runPod(podConfig('exec', { 'module.wasm.image/variant': 'compat-smart' }));
    try {
      const app = startContainer(pod, containerConfig('app', WASM_IMAGE, ['/busy.wasm', 'sleep']));
      const sidecar = startContainer(pod, containerConfig('sidecar', IMAGES.busybox, ['sleep', '1000']));
      await waitState(app, 'CONTAINER_RUNNING');
      await waitState(sidecar, 'CONTAINER_RUNNING');
      const probe = node.crictl(['exec', '--sync', '--timeout', '30', app, '/hello.wasm']);
      assert.equal(probe.status, 0, explain(probe));
      assert.equal(probe.stdout.trimEnd(), HELLO);
      const failing = node.crictl(['exec', '--sync', '--timeout', '30', app, '/exec.wasm', 'probe']);
      assert.match(failing.stderr, /exited with 7/, explain(failing));
      const sh = node.crictl(['exec', '--sync', sidecar, '/bin/sh', '-c', 'echo from sidecar']);
      assert.equal(sh.status, 0, explain(sh));
      assert.equal(sh.stdout.trimEnd(), 'from sidecar');
      const shFail = node.crictl(['exec', '--sync', sidecar, '/bin/sh', '-c', 'exit 4']);
      assert.match(shFail.stderr, /exited with 4/, explain(shFail));
    } finally {
      removePod(pod);
    }
  });

  test('4. StopContainer (timeout 10 s) ends a busy-looping Wasm guest with SIGTERM (143)', async (t) => {
    const pod = runPod(podConfig('stop', { 'module.wasm.image/variant': 'compat' }));
    try {
      const app = startContainer(pod, containerConfig('spin', WASM_IMAGE, ['/busy.wasm']));
      await waitState(app, 'CONTAINER_RUNNING');
      await waitFor('the guest to spin', () => readFileSync(status(app).logPath!, 'utf8').includes('ready spin'));
      const t0 = Date.now();
      const stop = node.crictl(['stop', '--timeout', '10', app]);
      const ms = Date.now() - t0;
      t.diagnostic(`crictl stop --timeout 10 of a spinning Wasm guest: ${ms} ms`);
      assert.equal(stop.status, 0, explain(stop));
      const st = status(app);
      // 143 = 128 + SIGTERM: the SIGKILL after the grace period would give 137 (how long the stop
      // took is the machine's business, so only the diagnostic above reports it).
      assert.equal(st.exitCode, 143, `${JSON.stringify(st)} after ${ms} ms`);
    } finally {
      removePod(pod);
    }
  });

  test('the pod annotation reaches hyrun only through the allow-list hyrun install writes (proven both ways, with a linux/amd64 Wasm image)', async () => {
    for (const [handler, wasm] of [['hyrun', true], ['hyrun-noallow', false]] as const) {
      const pod = runPod(podConfig(`allow-${handler}`, { 'module.wasm.image/variant': 'compat' }), handler);
      try {
        const id = node.mustCrictl(['create', pod.id, writeJson('ctr', containerConfig('app', WASM_LINUX_IMAGE, ['/hello.wasm'])), pod.configFile]).stdout.trim();
        const start = node.crictl(['start', id]);
        if (wasm) {
          assert.equal(start.status, 0, explain(start));
          const st = await waitState(id, 'CONTAINER_EXITED');
          assert.equal(st.exitCode, 0, JSON.stringify(st));
          assert.equal(node.mustCrictl(['logs', id]).stdout, `${HELLO}\n`);
        } else {
          // Linux: crun cannot exec a Wasm file.
          const failed = start.status !== 0 || (await waitState(id, 'CONTAINER_EXITED')).exitCode !== 0;
          assert.ok(failed, `${handler}: ${explain(start)}`);
          assert.equal(node.crictl(['logs', id]).stdout.includes(HELLO), false);
        }
      } finally {
        removePod(pod);
      }
    }
    // And run.oci.handler cannot be allow-listed at all: CRI-O drops that runtime handler.
    assert.match(node.log(), /Runtime handler \\?"hyrun-handler\\?" is being ignored due to: invalid allowed_annotation: run\.oci\.handler/);
  });

  test('platform_runtime_paths: a wasi/wasm image runs under hyrun-wasm even without the annotation', async () => {
    const pod = runPod(podConfig('platform'));
    try {
      const app = startContainer(pod, containerConfig('hello', WASM_IMAGE, ['/hello.wasm']));
      const st = await waitState(app, 'CONTAINER_EXITED');
      assert.equal(st.exitCode, 0, JSON.stringify(st));
      assert.equal(node.mustCrictl(['logs', app]).stdout, `${HELLO}\n`);
    } finally {
      removePod(pod);
    }
  });

  test('9. teardown: StopPodSandbox + RemovePodSandbox leave no container, mount, cgroup or hyrun state', async () => {
    const pod = runPod(podConfig('teardown', { 'module.wasm.image/variant': 'compat-smart' }));
    const app = startContainer(pod, containerConfig('app', WASM_IMAGE, ['/busy.wasm', 'sleep']));
    const sidecar = startContainer(pod, containerConfig('sidecar', IMAGES.busybox, ['sleep', '1000']));
    await waitState(app, 'CONTAINER_RUNNING');
    await waitState(sidecar, 'CONTAINER_RUNNING');
    for (const id of [app, sidecar]) assert.ok(record(id), `hyrun state for ${id} while running`);
    node.mustCrictl(['stopp', pod.id]);
    node.mustCrictl(['rmp', pod.id]);
    const ps = node.mustCrictl(['ps', '-a', '-q']).stdout;
    assert.equal(node.mustCrictl(['pods', '-q']).stdout.includes(pod.id), false);
    for (const id of [pod.id, app, sidecar]) {
      assert.equal(ps.includes(id), false, `${id} still listed`);
      assert.equal(existsSync(join(HYRUN_ROOT, id)), false, `hyrun state of ${id} left behind`);
      // The daemon's mount namespace (this machine's node is hidden there), where the containers' mounts live.
      assert.equal(readFileSync(node.mountinfo, 'utf8').includes(id), false, `a mount naming ${id} left behind`);
      assert.equal(listCgroups(node.cgroupParent).some((c) => c.includes(id)), false, `a cgroup of ${id} left behind`);
    }
  });
});
