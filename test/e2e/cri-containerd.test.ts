// Kubernetes' path, proven with the real daemon: Debian's containerd with its CRI plugin, configured
// by `hyrun install containerd --config` (on top of `containerd config default`), driven with
// crictl as a kubelet drives a node; pods on a CNI bridge. Every assertion is something a kubelet
// would see (statuses, exit codes, reasons, logs, exec results, stats, pod IPs) plus, for the
// evidence, which handler hyrun chose (its state record under the runtime's Root).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { parse, patch } from '@decimalturn/toml-patch';
import { hyrun, run } from '../helpers.js';
import { PodmanEnv } from './engines/podman.js';
import { buildBusybox, buildWasmImage, IMAGES } from './engines/images.js';
import { buildPauseImage, CRICTL, criDriver, criMissing, hyrunRecord, importImage, listCgroups, PAUSE_IMAGE, startCriNode, type ContainerStatus, type CriNode, type Pod } from './engines/cri.js';
import { cannotRun, explain, mountsUnder, sleep, waitFor } from './engines/tools.js';
import { driveTty } from './engines/tty.js';

const skip = cannotRun(['containerd', 'ctr', 'containerd-shim-runc-v2', 'podman', 'buildah', 'crun', 'gcc', 'ip']) ?? criMissing();
const WASM_IMAGE = 'localhost/hyrun-test/cri-wasm:latest';
const HELLO = 'hello from hyrun-test wasm';
/** Where the installed runtime keeps hyrun's state (the `Root` hyrun install writes) for namespace k8s.io. */
const HYRUN_ROOT = '/run/containerd/hyrun/k8s.io';

describe('containerd CRI with hyrun installed by `hyrun install containerd` (crictl)', { skip, timeout: 1_200_000 }, () => {
  let env: PodmanEnv;
  let node: CriNode;
  let prefix = '';
  const { writeJson, podConfig, containerConfig, runPod, createContainer, startContainer, status, waitState, removePod } = criDriver(() => node, { logs: 'pod-logs' });
  const waitExited = (id: string): Promise<ContainerStatus> => waitState(id, 'CONTAINER_EXITED');
  const waitRunning = async (id: string): Promise<void> => { await waitState(id, 'CONTAINER_RUNNING'); };
  const handlerOf = (id: string, root = HYRUN_ROOT): string | undefined => hyrunRecord(root, id)?.handler;

  before(async () => {
    env = new PodmanEnv({ prefix: 'hyrun-cri-images-' });
    buildBusybox(env);
    buildPauseImage(env);
    buildWasmImage(env, {
      tag: WASM_IMAGE,
      files: { 'hello.wasm': 'eng_hello', 'exit.wasm': 'diff_exit', 'exec.wasm': 'eng_exec', 'busy.wasm': 'eng_busy', 'malloc.wasm': 'rt_malloc', 'http.wasm': 'rt_http_server', 'tty.wasm': 'eng_tty' },
      cmd: ['/hello.wasm'],
    });
    node = await startCriNode({
      bridge: 'hyrunbr8', subnet: '10.213.0.0/24',
      configure(config, dir) {
        prefix = join(dir, 'prefix');
        // The test's own runtimes for the negative cases (in the main file: containerd 1.6 would let
        // an imported file replace the whole CRI section): the same hyrun without annotation
        // patterns, and with the pattern many guides give (module.wasm.image/variant.*, which
        // path.Match never matches to the key itself).
        const text = readFileSync(config, 'utf8');
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const doc = parse(text) as any;
        const runtimes = doc.plugins['io.containerd.grpc.v1.cri'].containerd.runtimes;
        const binary = join(prefix, 'bin/hyrun');
        runtimes['hyrun-nopass'] = { runtime_type: 'io.containerd.runc.v2', options: { BinaryName: binary, Root: join(dir, 'nopass-root') } };
        // crun itself, for the terminal-bytes comparison.
        runtimes['plain-crun'] = { runtime_type: 'io.containerd.runc.v2', options: { BinaryName: '/usr/bin/crun', Root: join(dir, 'crun-root') } };
        runtimes['hyrun-guide'] = {
          runtime_type: 'io.containerd.runc.v2', pod_annotations: ['module.wasm.image/variant.*'], container_annotations: ['module.wasm.image/variant.*'],
          options: { BinaryName: binary, Root: join(dir, 'guide-root') },
        };
        writeFileSync(config, patch(text, doc));
        const r = hyrun(['install', 'containerd', '--config', config, '--prefix', prefix]);
        if (r.status !== 0) throw new Error(`hyrun install containerd failed: ${explain(r)}`);
      },
    });
    for (const image of [PAUSE_IMAGE, IMAGES.busybox, WASM_IMAGE]) importImage(env, node, image);
  });
  after(async () => {
    await node?.stop();
    env?.cleanup();
  });

  test('the CRI reports the runtime handlers hyrun install configured, and the node is ready', () => {
    const info = JSON.parse(node.mustCrictl(['info']).stdout) as { status: { conditions: { type: string; status: boolean }[] }; config: { containerd: { runtimes: Record<string, { runtimeType: string; PodAnnotations?: string[]; options?: { BinaryName?: string } }> }; sandboxImage: string } };
    assert.ok(info.status.conditions.every((c) => c.status), JSON.stringify(info.status.conditions));
    const rt = info.config.containerd.runtimes.hyrun;
    assert.ok(rt, `runtimes: ${Object.keys(info.config.containerd.runtimes).join(', ')}`);
    assert.equal(rt.options?.BinaryName, join(prefix, 'bin/hyrun'));
    assert.deepEqual(rt.PodAnnotations, ['module.wasm.image/variant', 'run.oci.handler', 'io.hyrun.*']);
    // The import merged into the CRI table; the main file's own settings survived the merge.
    assert.equal(info.config.sandboxImage, PAUSE_IMAGE);
    assert.ok(info.config.containerd.runtimes.runc, 'runc is still configured');
  });

  test('1. compat-smart pod: the Wasm app and a busybox sidecar run; the pause container stays Linux; the CRI log holds the guest output', async () => {
    const pod = runPod(podConfig('smart', { 'module.wasm.image/variant': 'compat-smart' }), 'hyrun');
    try {
      const app = startContainer(pod, containerConfig('app', WASM_IMAGE, ['/busy.wasm', 'sleep']));
      const sidecar = startContainer(pod, containerConfig('sidecar', IMAGES.busybox, ['/bin/sh', '-c', 'echo sidecar up; exec sleep 1000']));
      await waitRunning(app);
      await waitRunning(sidecar);
      assert.equal(handlerOf(pod.id), 'linux', 'the pause container is Linux');
      assert.equal(handlerOf(app), 'wasm');
      assert.equal(handlerOf(sidecar), 'linux');
      const logPath = status(app).logPath!;
      await waitFor('the guest output in the CRI log', () => existsSync(logPath) && readFileSync(logPath, 'utf8').includes('ready sleep'));
      // CRI log format: RFC 3339 time, stream, tag (F full line / P partial), content.
      assert.match(readFileSync(logPath, 'utf8'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F ready sleep$/m);
      const logs = node.mustCrictl(['logs', sidecar]);
      assert.equal(logs.stdout, 'sidecar up\n');
      // A one-shot Wasm container in the same pod: output through crictl logs.
      const hello = startContainer(pod, containerConfig('hello', WASM_IMAGE, ['/hello.wasm']));
      const st = await waitExited(hello);
      assert.equal(st.exitCode, 0);
      assert.equal(node.mustCrictl(['logs', hello]).stdout, `${HELLO}\n`);
    } finally {
      removePod(pod);
    }
  });

  test('2. compat pod: a guest exiting 3 is exit code 3 / Error; one returning normally is 0 / Completed', async () => {
    const pod = runPod(podConfig('compat-exit', { 'module.wasm.image/variant': 'compat' }), 'hyrun');
    try {
      const three = startContainer(pod, containerConfig('three', WASM_IMAGE, ['/exit.wasm', 'exit', '3']));
      const zero = startContainer(pod, containerConfig('zero', WASM_IMAGE, ['/hello.wasm']));
      const s3 = await waitExited(three);
      const s0 = await waitExited(zero);
      assert.equal(s3.exitCode, 3, JSON.stringify(s3));
      assert.equal(s3.reason, 'Error');
      assert.equal(s0.exitCode, 0, JSON.stringify(s0));
      assert.equal(s0.reason, 'Completed');
      // Bad input: a pod whose Wasm module is missing ends with 127 and one line in its log.
      const missing = startContainer(pod, containerConfig('missing', WASM_IMAGE, ['/nope.wasm']));
      const sm = await waitExited(missing);
      assert.equal(sm.exitCode, 127, JSON.stringify(sm));
      assert.equal(sm.reason, 'Error');
      const log = node.mustCrictl(['logs', missing]);
      assert.match(log.stderr, /^hyrun: \/nope\.wasm: no such file\n$/);
    } finally {
      removePod(pod);
    }
  });

  test('3. ExecSync: a .wasm probe in the Wasm container, /bin/sh -c in the sidecar: stdout and exit codes', async () => {
    const pod = runPod(podConfig('exec', { 'module.wasm.image/variant': 'compat-smart' }), 'hyrun');
    try {
      const app = startContainer(pod, containerConfig('app', WASM_IMAGE, ['/busy.wasm', 'sleep']));
      const sidecar = startContainer(pod, containerConfig('sidecar', IMAGES.busybox, ['sleep', '1000']));
      await waitRunning(app);
      await waitRunning(sidecar);
      // crictl exec --sync is ExecSync; for a non-zero ExitCode it prints the code in its error
      // (and exits 1) instead of the output, so output is checked on probes that succeed.
      const probe = node.crictl(['exec', '--sync', '--timeout', '30', app, '/hello.wasm']);
      assert.equal(probe.status, 0, explain(probe));
      // crictl prints the response's stdout and then its own line breaks.
      assert.equal(probe.stdout.trimEnd(), HELLO);
      const failing = node.crictl(['exec', '--sync', '--timeout', '30', app, '/exec.wasm', 'probe', 'ok']);
      assert.equal(failing.status, 1, explain(failing));
      assert.match(failing.stderr, /command '\/exec\.wasm probe ok' exited with 7/);
      const missing = node.crictl(['exec', '--sync', '--timeout', '30', app, '/missing.wasm']);
      assert.match(missing.stderr, /exited with 127/, explain(missing));
      const sh = node.crictl(['exec', '--sync', sidecar, '/bin/sh', '-c', 'echo from sidecar']);
      assert.equal(sh.status, 0, explain(sh));
      assert.equal(sh.stdout.trimEnd(), 'from sidecar');
      const shFail = node.crictl(['exec', '--sync', sidecar, '/bin/sh', '-c', 'echo from sidecar; exit 4']);
      assert.match(shFail.stderr, /exited with 4/, explain(shFail));
    } finally {
      removePod(pod);
    }
  });

  test('4. StopContainer (timeout 10 s) on a busy-looping Wasm guest ends it with SIGTERM (143), not the SIGKILL after the timeout', async (t) => {
    const pod = runPod(podConfig('stop', { 'module.wasm.image/variant': 'compat' }), 'hyrun');
    try {
      const app = startContainer(pod, containerConfig('spin', WASM_IMAGE, ['/busy.wasm']));
      await waitRunning(app);
      await waitFor('the guest to spin', () => readFileSync(status(app).logPath!, 'utf8').includes('ready spin'));
      const t0 = Date.now();
      const stop = node.crictl(['stop', '--timeout', '10', app]);
      const ms = Date.now() - t0;
      t.diagnostic(`crictl stop --timeout 10 of a spinning Wasm guest: ${ms} ms`);
      assert.equal(stop.status, 0, explain(stop));
      const st = status(app);
      // 143 = 128 + SIGTERM; a SIGKILL after the grace period would be 137 (how long the stop took
      // is the machine's business, so only the diagnostic above reports it).
      assert.equal(st.exitCode, 143, `${JSON.stringify(st)} after ${ms} ms`);
    } finally {
      removePod(pod);
    }
  });

  test('5. ContainerStats / ListContainerStats of a Wasm container: memory working set and CPU', async () => {
    const pod = runPod(podConfig('stats', { 'module.wasm.image/variant': 'compat' }), 'hyrun');
    try {
      const app = startContainer(pod, containerConfig('spin', WASM_IMAGE, ['/busy.wasm']));
      await waitRunning(app);
      await sleep(1500);
      interface Stats { attributes: { id: string }; cpu: { usageCoreNanoSeconds?: { value: string } }; memory: { workingSetBytes?: { value: string } } }
      const one = JSON.parse(node.mustCrictl(['stats', '-o', 'json', '--id', app]).stdout) as { stats: Stats[] };
      const s = one.stats.find((x) => x.attributes.id === app);
      assert.ok(s, JSON.stringify(one));
      assert.ok(Number(s.memory.workingSetBytes?.value ?? 0) > 1 << 20, JSON.stringify(s));
      assert.ok(Number(s.cpu.usageCoreNanoSeconds?.value ?? 0) > 100_000_000, JSON.stringify(s));
      const all = JSON.parse(node.mustCrictl(['stats', '-o', 'json']).stdout) as { stats: Stats[] };
      assert.ok(all.stats.some((x) => x.attributes.id === app && Number(x.memory.workingSetBytes?.value ?? 0) > 0));
    } finally {
      removePod(pod);
    }
  });

  test('6. the CRI memory limit caps linear memory: malloc fails near the limit, the guest exits normally, no OOM kill', async () => {
    const pod = runPod(podConfig('memory', { 'module.wasm.image/variant': 'compat' }), 'hyrun');
    try {
      const limit = 192 * 1024 * 1024;
      const app = startContainer(pod, containerConfig('grow', WASM_IMAGE, ['/malloc.wasm'], { linux: { resources: { memory_limit_in_bytes: limit } } }));
      const st = await waitExited(app);
      assert.equal(st.exitCode, 0, JSON.stringify(st));
      assert.equal(st.reason, 'Completed');
      const out = node.mustCrictl(['logs', app]).stdout;
      const got = Number(/allocated (\d+) MiB, 0 corrupt/.exec(out)?.[1]);
      // hyrun caps linear memory at limit - 64 MiB (128 MiB): malloc gets nearly all of it.
      assert.ok(got >= 100 && got <= 128, out);
    } finally {
      removePod(pod);
    }
  });

  test('7. networking: a Wasm guest serves HTTP on the pod network through io.hyrun.tcp-listen; the host reaches it at the pod IP', async () => {
    const pod = runPod(podConfig('http', { 'module.wasm.image/variant': 'compat', 'io.hyrun.tcp-listen': '0.0.0.0:8080' }), 'hyrun');
    try {
      const app = startContainer(pod, containerConfig('web', WASM_IMAGE, ['/http.wasm', '2']));
      await waitRunning(app);
      const ip = (JSON.parse(node.mustCrictl(['inspectp', '-o', 'json', pod.id]).stdout) as { status: { network: { ip: string } } }).status.network.ip;
      assert.match(ip, /^10\.213\.0\.\d+$/);
      const get = (path: string): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
        const req = request({ host: ip, port: 8080, path, timeout: 10_000 }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => { body += d.toString(); });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
      let first: { status: number; body: string } | undefined;
      await waitFor(`HTTP on ${ip}:8080`, async () => { first = await get('/one'); return true; }, 30_000);
      assert.equal(first?.status, 200);
      assert.match(first!.body, /GET \/one HTTP\/1\.1/);
      const second = await get('/two');
      assert.match(second.body, /GET \/two/);
      const st = await waitExited(app);
      assert.equal(st.exitCode, 0, JSON.stringify(st));
    } finally {
      removePod(pod);
    }
  });

  test('8. negative: without the annotation patterns (or with the guides\' module.wasm.image/variant.*) the compat pod runs its entrypoint as Linux and fails as a non-ELF does', async () => {
    for (const [handler, root] of [['hyrun-nopass', join(node.dir, 'nopass-root/k8s.io')], ['hyrun-guide', join(node.dir, 'guide-root/k8s.io')]] as const) {
      const pod = runPod(podConfig(`neg-${handler}`, { 'module.wasm.image/variant': 'compat' }), handler);
      try {
        const id = createContainer(pod, containerConfig('app', WASM_IMAGE, ['/hello.wasm']));
        const start = node.crictl(['start', id]);
        assert.equal(handlerOf(id, root), 'linux', `${handler}: hyrun saw no Wasm annotation`);
        if (start.status === 0) {
          const st = await waitExited(id);
          assert.notEqual(st.exitCode, 0, `${handler}: ${JSON.stringify(st)}`);
        } else {
          assert.match(start.stderr, /exec format error|exec/i, `${handler}: ${explain(start)}`);
        }
        assert.equal(node.mustCrictl(['logs', id]).stdout.includes(HELLO), false);
      } finally {
        removePod(pod);
      }
    }
  });

  test('an upgrade of the installed hyrun (current swapped) while a Wasm pod runs: ExecSync and StopContainer still work', async () => {
    const pod = runPod(podConfig('upgrade', { 'module.wasm.image/variant': 'compat' }), 'hyrun');
    const lib = join(prefix, 'lib/hyrun');
    const before = readlinkSync(join(lib, 'current'));
    const newer = join(node.dir, 'newer-build');
    try {
      const app = startContainer(pod, containerConfig('app', WASM_IMAGE, ['/busy.wasm', 'sleep']));
      await waitRunning(app);
      // A newer build (one bundle changed) installs itself over the running node's copy.
      cpSync(join(lib, before), newer, { recursive: true, verbatimSymlinks: true });
      writeFileSync(join(newer, 'dist/hyrun.cjs'), `${readFileSync(join(newer, 'dist/hyrun.cjs'), 'utf8')}\n// newer build\n`);
      const up = run(join(newer, 'bin/hyrun'), ['install', 'containerd', '--config', node.config, '--prefix', prefix]);
      assert.equal(up.status, 0, explain(up));
      assert.notEqual(readlinkSync(join(lib, 'current')), before, 'current points at the new copy');
      const probe = node.crictl(['exec', '--sync', '--timeout', '30', app, '/hello.wasm']);
      assert.equal(probe.status, 0, explain(probe));
      assert.equal(probe.stdout.trimEnd(), HELLO);
      node.mustCrictl(['stop', '--timeout', '10', app]);
      assert.equal(status(app).exitCode, 143);
    } finally {
      removePod(pod);
    }
  });

  test('terminals: a tty container gives a CRI log and `crictl exec -it` the same bytes through hyrun as through crun; a Wasm program on a tty the bytes its native build gives', { skip: existsSync('/usr/bin/crun') ? false : 'no /usr/bin/crun' }, async () => {
    const execTty = (id: string, command: string[]): string => {
      const r = driveTty([CRICTL, '--config', join(node.dir, 'crictl.yaml'), 'exec', '-it', id, ...command], 'type a line:', 'typed');
      assert.equal(r.status, 0, r.output);
      return r.output;
    };
    // The CRI log without its timestamps; every byte shown (a NUL as \u0000).
    const log = (pod: Pod, name: string): string => JSON.stringify(readFileSync(join(pod.config.log_directory, `${name}.log`), 'latin1').replace(/^\S+ /gm, ''));
    const printer = ['/bin/sh', '-c', 'printf "first\\tline\\r\\nsecond"; echo; tty; exec sleep 1000'];
    const prompt = ['/bin/sh', '-c', 'echo "type a line:"; read line; printf "got [%s]\\tand no newline" "$line"'];
    const seen: Record<string, { log: string; exec: string }> = {};
    for (const handler of ['hyrun', 'plain-crun']) {
      const pod = runPod(podConfig(`tty-${handler}`, { 'module.wasm.image/variant': 'compat-smart' }), handler);
      try {
        const id = startContainer(pod, containerConfig('printer', IMAGES.busybox, printer, { tty: true }));
        await waitRunning(id);
        await waitFor('the tty line in the CRI log', () => log(pod, 'printer').includes('/dev/pts/'));
        seen[handler] = { log: log(pod, 'printer'), exec: execTty(id, prompt) };
        if (handler === 'hyrun') {
          assert.equal(handlerOf(id), 'linux');
          const wasm = startContainer(pod, containerConfig('wasm', WASM_IMAGE, ['/busy.wasm', 'sleep'], { tty: true }));
          await waitRunning(wasm);
          assert.equal(handlerOf(wasm), 'wasm');
          assert.equal(JSON.stringify(execTty(wasm, ['/tty.wasm'])), JSON.stringify('stdin tty: yes, stdout tty: yes\r\ntype a line:\r\ntyped\r\necho: [typed]\r\n'));
        }
      } finally {
        removePod(pod);
      }
    }
    assert.equal(seen['plain-crun']!.exec, 'type a line:\r\ntyped\r\ngot [typed]\tand no newline', 'crun itself');
    assert.deepEqual(seen.hyrun, seen['plain-crun']);
  });

  test('9. teardown: StopPodSandbox + RemovePodSandbox leave no container, mount, cgroup or hyrun state', async () => {
    const pod = runPod(podConfig('teardown', { 'module.wasm.image/variant': 'compat-smart' }), 'hyrun');
    const app = startContainer(pod, containerConfig('app', WASM_IMAGE, ['/busy.wasm', 'sleep']));
    const sidecar = startContainer(pod, containerConfig('sidecar', IMAGES.busybox, ['sleep', '1000']));
    await waitRunning(app);
    await waitRunning(sidecar);
    const ids = [pod.id, app, sidecar];
    for (const id of ids) assert.ok(existsSync(join(HYRUN_ROOT, id)), `hyrun state for ${id} while running`);
    node.mustCrictl(['stopp', pod.id]);
    node.mustCrictl(['rmp', pod.id]);
    const ps = node.mustCrictl(['ps', '-a', '-q']).stdout;
    for (const id of [app, sidecar]) assert.equal(ps.includes(id), false, `${id} still listed`);
    assert.equal(node.mustCrictl(['pods', '-q']).stdout.includes(pod.id), false);
    for (const id of ids) {
      assert.equal(existsSync(join(HYRUN_ROOT, id)), false, `hyrun state of ${id} left behind`);
      assert.equal(mountsUnder(node.dir, node.mountinfo).some((m) => m.includes(id)), false, `a mount of ${id} left behind`);
      // The daemon's mount namespace (this machine's node is hidden there), where the containers' mounts live.
      assert.equal(readFileSync(node.mountinfo, 'utf8').includes(id), false, `a mount naming ${id} left behind`);
      assert.equal(listCgroups(node.cgroupParent).some((c) => c.includes(id)), false, `a cgroup of ${id} left behind`);
    }
  });
});
