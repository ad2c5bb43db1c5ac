// WASI 0.2 command components on Kubernetes' path (issue 16 §4): containerd's CRI plugin and CRI-O,
// each configured by `hyrun install`, driven with crictl as a kubelet drives a node. The image is
// FROM scratch with the component at /app (platform wasi/wasm): hyrun knows it by its header. On
// containerd the pod says module.wasm.image/variant=compat-smart; on CRI-O the pod says nothing
// (CRI-O picks hyrun-wasm for the wasi/wasm platform, platform_runtime_paths). The component is
// transpiled by create, outside the container, into the node's hyrun cache.
import { after, before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hyrun } from '../helpers.js';
import { connectionRefused, HTTP_HANDLER, httpGet, inFlightEcho, sha256File, transpiledIn, uniqueComponent, type HttpReply } from './engines/components.js';
import { buildPauseImage, copyImageToCrio, CRICTL, CRIO, criDriver, criMissing, hyrunRecord, importImage, PAUSE_IMAGE, PINNS, startCriNode, startCrioNode, type ContainerConfig, type CriNode, type Pod } from './engines/cri.js';
import { buildWasmImage } from './engines/images.js';
import { PodmanEnv } from './engines/podman.js';
import { cannotRun, explain, waitFor } from './engines/tools.js';

const IMAGE = 'localhost/hyrun-test/cri-component:latest';
/** The HTTP handler fixture at /app.wasm: served at the pod IP on 8080 (the default address). */
const HTTP_IMAGE = 'localhost/hyrun-test/cri-component-http:latest';

interface Engine {
  name: string;
  skip: string | undefined;
  /** Starts the node with hyrun installed, the images in its store. */
  start(env: PodmanEnv): Promise<CriNode>;
  /** Pod annotations the engine needs for the image to run as Wasm. */
  podAnnotations: Record<string, string>;
  /** Where hyrun keeps its state records for this engine's runtime. */
  hyrunRoot(node: CriNode): string;
}

const ENGINES: Engine[] = [
  {
    name: 'containerd',
    skip: cannotRun(['containerd', 'ctr', 'containerd-shim-runc-v2', 'podman', 'buildah', 'crun', 'gcc', 'ip']) ?? criMissing(),
    podAnnotations: { 'module.wasm.image/variant': 'compat-smart' },
    hyrunRoot: () => '/run/containerd/hyrun/k8s.io',
    async start(env) {
      const node = await startCriNode({
        bridge: 'hyrunbr9', subnet: '10.213.8.0/24',
        configure(config, dir) {
          const r = hyrun(['install', 'containerd', '--config', config, '--prefix', join(dir, 'prefix')]);
          if (r.status !== 0) throw new Error(`hyrun install containerd failed: ${explain(r)}`);
        },
      });
      for (const image of [PAUSE_IMAGE, IMAGE, HTTP_IMAGE]) importImage(env, node, image);
      return node;
    },
  },
  {
    name: 'CRI-O',
    skip: cannotRun(['podman', 'buildah', 'skopeo', 'crun', 'conmon', 'gcc', 'ip']) ?? criMissing([CRIO, PINNS]),
    podAnnotations: {},
    hyrunRoot: () => '/run/hyrun-crio',
    async start(env) {
      const node = await startCrioNode({
        bridge: 'hyrunbr9c', subnet: '10.213.9.0/24',
        configure(config, dir) {
          const r = hyrun(['install', 'crio', '--config', config, '--prefix', join(dir, 'prefix')]);
          if (r.status !== 0) throw new Error(`hyrun install crio failed: ${explain(r)}`);
        },
      });
      for (const image of [PAUSE_IMAGE, IMAGE, HTTP_IMAGE]) copyImageToCrio(env, node, image);
      return node;
    },
  },
];

/** crictl in the background (the test talks HTTP meanwhile). */
function spawnCrictl(node: CriNode, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(CRICTL, ['--config', join(node.dir, 'crictl.yaml'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

for (const engine of ENGINES) {
  describe(`${engine.name} CRI: command component images (crictl)`, { skip: engine.skip, timeout: 1_200_000 }, () => {
    let env: PodmanEnv;
    let node: CriNode;
    let app = '';
    let serial = 0;
    const cache = (): string => join(node.cacheDir, 'components');
    const cri = criDriver(() => node, { waitMs: 90_000 });
    const { startContainer, status, waitState, removePod } = cri;
    const runPod = (name: string): Pod => cri.runPod(cri.podConfig(name, engine.podAnnotations));
    const containerConfig = (name: string, command: string[], extra: Record<string, unknown> = {}, image = IMAGE): ContainerConfig =>
      cri.containerConfig(name, image, command, extra);
    const handlerOf = (id: string): string | undefined => hyrunRecord(engine.hyrunRoot(node), id)?.handler;

    before(async () => {
      env = new PodmanEnv({ prefix: 'hyrun-cri-comp-images-' });
      buildPauseImage(env);
      app = uniqueComponent('comp_cli.component', join(env.dir, 'app'));
      buildWasmImage(env, {
        tag: IMAGE,
        files: { app, 'exit.wasm': 'comp_exit.component', 'volume.wasm': 'eng_volume.component', 'loop.wasm': 'rt_loop.component' },
        cmd: ['/app'],
        variant: 'compat-smart',
      });
      buildWasmImage(env, { tag: HTTP_IMAGE, files: { 'app.wasm': HTTP_HANDLER }, cmd: ['/app.wasm'], variant: 'compat-smart' });
      node = await engine.start(env);
    });
    after(async () => {
      await node?.stop();
      env?.cleanup();
    });

    test('a component pod: args, envs, a hostPath volume, exit-with-code; the CRI log holds its output; transpiled once, by create', async () => {
      const data = join(node.dir, `data-${++serial}`);
      mkdirSync(data, { recursive: true });
      chmodSync(data, 0o777);
      writeFileSync(join(data, 'in.txt'), 'from the node');
      const pod = runPod('comp');
      try {
        const cli = startContainer(pod, containerConfig('cli', ['/app'], { args: ['one', 'two words'], envs: [{ key: 'GREETING', value: 'hello there' }] }));
        const sc = await waitState(cli, 'CONTAINER_EXITED');
        assert.equal(sc.exitCode, 0, JSON.stringify(sc));
        const out = node.mustCrictl(['logs', cli]).stdout;
        assert.match(out, /^argc=3\nargv\[1\]=one\nargv\[2\]=two words\n/);
        assert.match(out, /^env GREETING=hello there$/m);
        const stamp = transpiledIn(cache()).get(sha256File(app));
        assert.ok(stamp !== undefined, `no transpiled form of /app in ${cache()}`);

        const exit = startContainer(pod, containerConfig('exit', ['/exit.wasm', '42']));
        const se = await waitState(exit, 'CONTAINER_EXITED');
        assert.equal(se.exitCode, 42, JSON.stringify(se));
        assert.equal(se.reason, 'Error');
        assert.equal(node.mustCrictl(['logs', exit]).stdout, 'exiting with 42\n');

        const vol = startContainer(pod, containerConfig('volume', ['/volume.wasm'], { mounts: [{ container_path: '/data', host_path: data }] }));
        const sv = await waitState(vol, 'CONTAINER_EXITED');
        assert.equal(sv.exitCode, 0, `${JSON.stringify(sv)} ${node.crictl(['logs', vol]).stderr}`);
        assert.equal(readFileSync(join(data, 'out.txt'), 'utf8'), 'wasm saw: from the node');

        // A second container of the same component: its create found it in the cache.
        const again = startContainer(pod, containerConfig('again', ['/app']));
        assert.equal((await waitState(again, 'CONTAINER_EXITED')).exitCode, 0);
        assert.equal(transpiledIn(cache()).get(sha256File(app)), stamp);
      } finally {
        removePod(pod);
      }
    });

    test('StopContainer (timeout 10 s) ends a busy component with SIGTERM: 143, not the SIGKILL after the timeout', async (t) => {
      const pod = runPod('comp-stop');
      try {
        const loop = startContainer(pod, containerConfig('loop', ['/loop.wasm']));
        await waitState(loop, 'CONTAINER_RUNNING');
        // (containerd deletes an exited container's task, and hyrun's record with it: asked while it runs.)
        assert.equal(handlerOf(loop), 'wasm');
        await waitFor('the loop to say spinning', () => node.crictl(['logs', loop]).stdout.includes('spinning'), 90_000);
        const started = performance.now();
        const stop = node.crictl(['stop', '--timeout', '10', loop]);
        t.diagnostic(`crictl stop --timeout 10 of a spinning component: ${(performance.now() - started).toFixed(0)} ms`);
        assert.equal(stop.status, 0, explain(stop));
        const s = await waitState(loop, 'CONTAINER_EXITED');
        assert.equal(s.exitCode, 143, JSON.stringify(s));
      } finally {
        removePod(pod);
      }
    });

    test('an HTTP component pod answers at the pod IP on 8080 with no hyrun annotation; StopContainer lets the request under way finish: exit 0', async (t) => {
      const pod = runPod('comp-http');
      try {
        const web = startContainer(pod, containerConfig('web', ['/app.wasm'], {}, HTTP_IMAGE));
        await waitState(web, 'CONTAINER_RUNNING');
        assert.equal(handlerOf(web), 'wasm');
        const ip = (JSON.parse(node.mustCrictl(['inspectp', '-o', 'json', pod.id]).stdout) as { status: { network: { ip: string } } }).status.network.ip;
        assert.match(ip, /^10\.213\.\d+\.\d+$/);
        let hello: HttpReply | undefined;
        await waitFor(`HTTP on ${ip}:8080`, async () => { hello = await httpGet(ip, 8080, '/hello'); return true; }, 90_000);
        assert.equal(hello?.status, 200);
        assert.equal(hello?.body, 'hello from C\n');

        // Outbound HTTP (wasi:http/outgoing-handler) is allowed in a container: its network
        // namespace is the boundary. The upstream listens on the node; the pod reaches it at its gateway.
        const seen: string[] = [];
        const upstream = createHttpServer((req, res) => { seen.push(req.url ?? ''); res.end('from upstream\n'); });
        await new Promise<void>((resolve) => upstream.listen(0, '0.0.0.0', resolve));
        try {
          const gateway = ip.replace(/\.\d+$/, '.1');
          const fetched = await httpGet(ip, 8080, '/fetch', { 'x-target': `${gateway}:${(upstream.address() as AddressInfo).port}/data` });
          assert.deepEqual([fetched.status, fetched.body], [200, 'from upstream\n']);
          assert.deepEqual(seen, ['/data']);
        } finally {
          upstream.close();
        }

        const echo = inFlightEcho(ip, 8080, 'in flight;', ' and done');
        await echo.echoed;
        const started = performance.now();
        const stop = spawnCrictl(node, ['stop', '--timeout', '30', web]);
        await connectionRefused(ip, 8080);
        echo.finish();
        const r = await echo.reply;
        assert.equal(r.status, 200);
        assert.equal(r.body, 'in flight; and done');
        const stopped = await stop;
        t.diagnostic(`crictl stop of a serving component with a request in flight: ${(performance.now() - started).toFixed(0)} ms`);
        assert.equal(stopped.code, 0, stopped.stderr);
        const st = await waitState(web, 'CONTAINER_EXITED');
        assert.equal(st.exitCode, 0, JSON.stringify(st));
      } finally {
        removePod(pod);
      }
    });
  });
}
