// Pod start latency through the CRI, as a kubelet sees it: `crictl run` (RunPodSandbox,
// CreateContainer, StartContainer; the container is running when it returns) against a private
// containerd 1.6 configured by `hyrun install containerd`, CNI bridge, local pause image. Three pods,
// interleaved one of each per round: a Linux pod (busybox sleep) under runc, the same pod under
// hyrun (pause and busybox delegated to crun), and a Wasm pod under hyrun (compat, a sleeping guest).
// Median of ROUNDS after WARMUP rounds (the first Wasm pod builds hyrun's runtime directory).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Section } from '../run.js';
import { fmtMs, fmtRatio, median, progress, STRIPPED_NODE_VARS } from '../lib.js';
import { buildBusybox, buildWasmImage, IMAGES } from '../../test/e2e/engines/images.js';
import { PodmanEnv } from '../../test/e2e/engines/podman.js';
import { buildPauseImage, criMissing, importImage, PAUSE_IMAGE, startCriNode } from '../../test/e2e/engines/cri.js';
import { hyrun } from '../../test/helpers.js';

const ROUNDS = Number(process.env.HYRUN_BENCH_POD_RUNS ?? 7);
const WARMUP = 2;
const WASM_IMAGE = 'localhost/hyrun-test/bench-pod-wasm:latest';

interface Variant { name: string; handler: string; annotations: Record<string, string>; image: string; command: string[] }

export async function run(): Promise<Section> {
  const missing = criMissing();
  if (missing) throw new Error(missing);
  // The daemon and its shims (and so hyrun) must not inherit this machine's NODE_EXTRA_CA_CERTS.
  const saved = Object.fromEntries(STRIPPED_NODE_VARS.map((k) => [k, process.env[k]]));
  for (const k of STRIPPED_NODE_VARS) delete process.env[k];
  const env = new PodmanEnv({ prefix: 'hyrun-bench-pods-' });
  let node: Awaited<ReturnType<typeof startCriNode>> | undefined;
  try {
    buildBusybox(env);
    buildPauseImage(env);
    buildWasmImage(env, { tag: WASM_IMAGE, files: { 'busy.wasm': 'eng_busy' }, cmd: ['/busy.wasm', 'sleep'] });
    node = await startCriNode({
      bridge: 'hyrunbr8b', subnet: '10.213.3.0/24',
      configure(config, dir) {
        const r = hyrun(['install', 'containerd', '--config', config, '--prefix', join(dir, 'prefix')]);
        if (r.status !== 0) throw new Error(`hyrun install containerd: ${r.stderr}`);
      },
    });
    for (const image of [PAUSE_IMAGE, IMAGES.busybox, WASM_IMAGE]) importImage(env, node, image);
    const variants: Variant[] = [
      { name: 'Linux pod, runc', handler: 'runc', annotations: {}, image: IMAGES.busybox, command: ['sleep', '1000'] },
      { name: 'Linux pod, hyrun', handler: 'hyrun', annotations: {}, image: IMAGES.busybox, command: ['sleep', '1000'] },
      { name: 'Wasm pod, hyrun', handler: 'hyrun', annotations: { 'module.wasm.image/variant': 'compat' }, image: WASM_IMAGE, command: ['/busy.wasm', 'sleep'] },
    ];
    const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    const specs = join(node.dir, 'bench-specs');
    mkdirSync(specs, { recursive: true });
    let serial = 0;
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      progress(`pods: round ${round + 1}/${WARMUP + ROUNDS}`);
      for (const v of variants) {
        const uid = `bench-${process.pid}-${++serial}`;
        const pod = join(specs, `pod-${serial}.json`);
        const ctr = join(specs, `ctr-${serial}.json`);
        writeFileSync(pod, JSON.stringify({ metadata: { name: uid, namespace: 'bench', uid, attempt: 0 }, log_directory: join(node.dir, 'bench-logs', uid), annotations: v.annotations, linux: { cgroup_parent: node.cgroupParent } }));
        writeFileSync(ctr, JSON.stringify({ metadata: { name: 'c' }, image: { image: v.image }, command: v.command, log_path: 'c.log' }));
        const t0 = process.hrtime.bigint();
        const r = node.crictl(['run', '--no-pull', '--runtime', v.handler, ctr, pod]);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r.status !== 0) throw new Error(`crictl run (${v.name}) failed: ${r.stderr}`);
        const id = r.stdout.trim().split('\n').pop()!;
        const st = JSON.parse(node.mustCrictl(['inspect', '-o', 'json', id]).stdout) as { status: { state: string } };
        if (st.status.state !== 'CONTAINER_RUNNING') throw new Error(`${v.name}: container not running after crictl run (${st.status.state})`);
        if (round >= WARMUP) times.get(v.name)!.push(ms);
        const pods = node.mustCrictl(['pods', '-q', '--name', uid]).stdout.trim();
        node.crictl(['stopp', pods]);
        node.crictl(['rmp', pods]);
      }
    }
    const base = median(times.get(variants[0]!.name)!);
    return {
      title: 'Pod start latency through the CRI (containerd 1.6 + crictl)',
      method: `\`crictl run\` (RunPodSandbox + CreateContainer + StartContainer, returning once the container runs) against a private containerd whose runtime \`hyrun\` was written by \`hyrun install containerd\`; pods on a CNI bridge, a local static pause image. Variants interleaved, ${WARMUP} warm-up rounds, median of ${ROUNDS}. Ratio: median / the Linux pod under runc (lower is faster). Includes crictl's own start (~the same for all).`,
      columns: ['pod', 'median ms', 'vs runc'],
      rows: variants.map((v) => {
        const m = median(times.get(v.name)!);
        return [v.name, fmtMs(m), fmtRatio(m / base)];
      }),
      notes: [
        'Under hyrun each of the pod\'s containers costs a hyrun start (node) before crun runs; the pause container is Linux and delegated.',
        'For the Wasm pod, StartContainer returns once the executor (node, inside the container) has been started by crun; the guest compiles and runs right after.',
      ],
    };
  } finally {
    await node?.stop();
    env.cleanup();
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  }
}
