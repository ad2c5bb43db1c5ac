// §7 container benchmark: the start→exit of one container, through the OCI CLI (create, start,
// wait for the container process to exit, delete) and through Podman (`podman run --rm`), for
//   crun native, runc native, hyrun native (hyrun delegating a busybox `true`), hyrun Wasm hello,
// and the comparison "crun running a bare node:wasi runner inside the same rootfs": node, its
// libraries, its loader and a tiny node:wasi runner bind-mounted read-only into the rootfs the way
// hyrun mounts its runtime directory, started through the loader, run by crun directly.
//
// All variants are interleaved (one run of each per round) so drift hits them alike; the first
// rounds are warm-up. Median of ROUNDS runs each.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import {
  chmodSync, closeSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync,
  rmSync, writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Section, Target } from '../run.js';
import { fmtMs, fmtRatio, fmtTargetRatio, guestWasm, hyrunBin, median, nodeWasiRunner, progress, timeOnce } from '../lib.js';
import { stageBusyboxRootfs, buildImages, IMAGES } from '../../test/e2e/engines/images.js';
import { cleanStderr, PodmanEnv } from '../../test/e2e/engines/podman.js';
import { alive, pidsWithArg, removeTree, sleepSync, waitUntil } from '../../test/e2e/engines/tools.js';

const ROUNDS = Number(process.env.HYRUN_BENCH_CONTAINER_RUNS ?? 12);
const WARMUP = 2;
/** Idle Wasm containers started at once for the density row. */
const DENSITY = 50;
const STOP_RUNS = 5;
const HELLO = 'hello from hyrun-test wasm\n';
const RT = '/.nodewasi';

/**
 * Every command runs without NODE_EXTRA_CA_CERTS / NODE_OPTIONS: this machine's environment sets
 * NODE_EXTRA_CA_CERTS, which makes each node start parse the whole CA bundle (~25 ms here), a cost
 * of the environment that a container process (clean env) does not pay; measured separately below.
 */
const INHERITED_NODE_VARS = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];
const cleanEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !INHERITED_NODE_VARS.includes(k)));

interface OciVariant { name: string; runtime: string[]; bundle: string; expect?: string }
interface PodmanVariant { name: string; runtime: string; args: string[]; expect: string }

const which = (cmd: string): string | undefined => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

function must(cmd: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${String(r.stderr ?? '')}`);
  return String(r.stdout ?? '');
}

/** A bundle config: crun's own default spec, not a terminal, running `args`. */
function writeConfig(bundle: string, rootfs: string, args: string[], extra: { annotations?: Record<string, string>; mounts?: object[] } = {}): void {
  mkdirSync(bundle, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'hyrun-bench-spec-'));
  must('crun', ['spec'], { cwd: scratch });
  const config = JSON.parse(readFileSync(join(scratch, 'config.json'), 'utf8')) as {
    ociVersion: string; process: { terminal: boolean; args: string[] }; root: { path: string; readonly: boolean };
    mounts: object[]; annotations?: Record<string, string>;
  };
  rmSync(scratch, { recursive: true, force: true });
  config.ociVersion = '1.0.2';
  config.process.terminal = false;
  config.process.args = args;
  config.root = { path: rootfs, readonly: true };
  if (extra.mounts) config.mounts.push(...extra.mounts);
  if (extra.annotations) config.annotations = extra.annotations;
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
}

/** node + the libraries ldd lists + the loader + the runner, as hyrun's runtime directory holds them. */
function nodeWasiRuntimeDir(dir: string): { loader: string } {
  mkdirSync(join(dir, 'lib'), { recursive: true });
  const node = realpathSync(process.execPath);
  const place = (src: string, dst: string): void => {
    const real = realpathSync(src);
    try { linkSync(real, dst); } catch { copyFileSync(real, dst); chmodSync(dst, 0o755); }
  };
  let loader = '';
  for (const line of must('ldd', [node]).split('\n')) {
    const arrow = /=> (\/\S+) \(/.exec(line);
    const bare = /^\s*(\/\S+) \(/.exec(line);
    if (arrow) place(arrow[1]!, join(dir, 'lib', basename(arrow[1]!)));
    else if (bare) { loader = basename(bare[1]!); place(bare[1]!, join(dir, loader)); }
  }
  if (!loader) throw new Error('no dynamic loader in ldd output for node');
  place(node, join(dir, 'node'));
  // .mjs: no package.json inside the mount says "type": "module".
  copyFileSync(nodeWasiRunner, join(dir, 'runner.mjs'));
  return { loader };
}

/**
 * conmon runs `podman … container cleanup` after the container exits, in the background, after
 * `podman run` has returned: wait for those (they name our store on their command line) so they
 * do not load the CPU during the next measurement.
 */
let settleNeedle = '';
function settle(): void {
  const deadline = Date.now() + 10_000;
  while (pidsWithArg(settleNeedle).length > 0 && Date.now() < deadline) sleepSync(5);
}

interface Steps { total: number; create: number; start: number; state: number; run: number; delete: number }

/** create → start → state → wait for the container process to exit → delete; returns ms per step. */
function ociLifecycle(v: OciVariant, id: string, outFd: number): Steps {
  const pidFile = join(v.bundle, `${id}.pid`);
  const stdio: SpawnSyncOptions['stdio'] = ['ignore', outFd, outFd];
  const call = (args: string[], out: SpawnSyncOptions['stdio'] = stdio): void => {
    const r = spawnSync(v.runtime[0]!, [...v.runtime.slice(1), ...args], { stdio: out, timeout: 60_000, env: cleanEnv });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${v.name}: ${[...v.runtime, ...args].join(' ')} exited ${r.status} (output in the bench log)`);
  };
  const now = (): number => Number(process.hrtime.bigint()) / 1e6;
  const t0 = now();
  call(['create', '--bundle', v.bundle, '--pid-file', pidFile, id]);
  const t1 = now();
  call(['start', id]);
  const ts = now();
  // What an engine asks right after start (Podman and CRI-O do): one more runtime call.
  call(['state', id], ['ignore', 'ignore', outFd]);
  const t2 = now();
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const deadline = Date.now() + 60_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`${v.name}: container ${id} (pid ${pid}) did not exit`);
    sleepSync(1);
  }
  const t3 = now();
  call(['delete', id]);
  const t4 = now();
  rmSync(pidFile, { force: true });
  return { total: t4 - t0, create: t1 - t0, start: ts - t1, state: t2 - ts, run: t3 - t2, delete: t4 - t3 };
}

export async function run(): Promise<Section> {
  for (const tool of ['crun', 'runc', 'podman', 'buildah', 'conmon', 'ldd']) {
    if (!which(tool)) throw new Error(`${tool} is not installed (scripts/setup.sh --test)`);
  }
  if (process.getuid?.() !== 0) throw new Error('the container benchmark needs root');
  const dir = mkdtempSync(join(tmpdir(), 'hyrun-bench-containers-'));
  const env = new PodmanEnv({ prefix: 'hyrun-bench-podman-' });
  for (const k of INHERITED_NODE_VARS) delete env.env[k];
  const outPath = join(dir, 'container-output.log');
  const outFd = openSync(outPath, 'a');
  settleNeedle = env.root;
  const loadBefore = loadavg()[0]!;
  try {
    // --- bundles for the OCI CLI runs
    const linuxRootfs = join(dir, 'linux-rootfs');
    stageBusyboxRootfs(linuxRootfs);
    const wasmRootfs = join(dir, 'wasm-rootfs');
    mkdirSync(wasmRootfs);
    copyFileSync(guestWasm('eng_hello'), join(wasmRootfs, 'hello.wasm'));
    const rtDir = join(dir, 'nodewasi-rt');
    const { loader } = nodeWasiRuntimeDir(rtDir);
    const nodeWasiArgs = [`${RT}/${loader}`, '--library-path', `${RT}/lib`, `${RT}/node`, '--no-warnings', `${RT}/runner.mjs`, '/hello.wasm'];
    const rtMount = { destination: RT, type: 'bind', source: rtDir, options: ['rbind', 'ro', 'nosuid', 'nodev'] };
    writeConfig(join(dir, 'b-linux'), linuxRootfs, ['/bin/true']);
    writeConfig(join(dir, 'b-wasm'), wasmRootfs, ['/hello.wasm'], { annotations: { 'module.wasm.image/variant': 'compat' } });
    writeConfig(join(dir, 'b-nodewasi'), wasmRootfs, nodeWasiArgs, { mounts: [rtMount] });
    const state = (name: string): string => join(dir, `state-${name}`);
    const oci: OciVariant[] = [
      { name: 'crun native', runtime: ['crun', '--root', state('crun')], bundle: join(dir, 'b-linux') },
      { name: 'runc native', runtime: ['runc', '--root', state('runc')], bundle: join(dir, 'b-linux') },
      { name: 'hyrun native', runtime: [hyrunBin, '--root', state('hyrun')], bundle: join(dir, 'b-linux') },
      { name: 'crun + node:wasi hello', runtime: ['crun', '--root', state('crun')], bundle: join(dir, 'b-nodewasi'), expect: HELLO },
      { name: 'hyrun Wasm hello', runtime: [hyrunBin, '--root', state('hyrun')], bundle: join(dir, 'b-wasm'), expect: HELLO },
    ];

    // --- images for the Podman runs (--entrypoint clears the image's CMD: the args name the module)
    progress('containers: building images');
    buildImages(env, ['busybox', 'wasmHello']);
    const podman: PodmanVariant[] = [
      { name: 'crun native', runtime: which('crun')!, args: [IMAGES.busybox, 'true'], expect: '' },
      { name: 'runc native', runtime: which('runc')!, args: [IMAGES.busybox, 'true'], expect: '' },
      { name: 'hyrun native', runtime: hyrunBin, args: [IMAGES.busybox, 'true'], expect: '' },
      { name: 'crun + node:wasi hello', runtime: which('crun')!, args: ['-v', `${rtDir}:${RT}:ro`, '--entrypoint', JSON.stringify(nodeWasiArgs), IMAGES.wasmHello], expect: HELLO },
      { name: 'hyrun Wasm hello', runtime: hyrunBin, args: [IMAGES.wasmHello], expect: HELLO },
    ];

    // --- correctness first: every variant does what it claims (output checked), once
    progress('containers: checking each variant once');
    let serial = 0;
    for (const v of oci) {
      const before = readFileSync(outPath, 'utf8').length;
      ociLifecycle(v, `check-${++serial}`, outFd);
      const out = readFileSync(outPath, 'utf8').slice(before);
      if (v.expect !== undefined && out !== v.expect) throw new Error(`${v.name}: expected ${JSON.stringify(v.expect)}, container printed ${JSON.stringify(out)}`);
    }
    for (const v of podman) {
      const r = env.podman(['run', '--rm', ...v.args], { runtime: v.runtime });
      if (r.status !== 0 || r.stdout !== v.expect) {
        throw new Error(`podman ${v.name}: status ${r.status}, stdout ${JSON.stringify(r.stdout)}, stderr ${cleanStderr(r.stderr)}`);
      }
    }

    // --- diagnostic variant: the private bundle hyrun writes for a Wasm container (its executor as
    // the process, the runtime dir mounted), run by crun directly: the in-container cost of hyrun's
    // executor without any hyrun CLI call. Skipped (with a note) if hyrun's state layout changes.
    let executorNote = '';
    {
      const probe = 'probe-private-bundle';
      const hyrunState = state('hyrun');
      spawnSync(hyrunBin, ['--root', hyrunState, 'create', '--bundle', join(dir, 'b-wasm'), probe], { stdio: 'ignore', env: cleanEnv, timeout: 60_000 });
      const privateConfig = join(hyrunState, probe, 'bundle', 'config.json');
      try {
        const bundle = join(dir, 'b-hyrun-executor');
        mkdirSync(bundle);
        copyFileSync(privateConfig, join(bundle, 'config.json'));
        const v: OciVariant = { name: 'crun + hyrun executor (no hyrun CLI)', runtime: ['crun', '--root', state('crun')], bundle, expect: HELLO };
        const before = readFileSync(outPath, 'utf8').length;
        ociLifecycle(v, `check-${++serial}`, outFd);
        const out = readFileSync(outPath, 'utf8').slice(before);
        if (out !== HELLO) throw new Error(`printed ${JSON.stringify(out)}`);
        oci.splice(oci.length - 1, 0, v);
      } catch (error) {
        executorNote = `The "crun + hyrun executor" row is missing: hyrun's private bundle (${privateConfig}) could not be run by crun: ${(error as Error).message}`;
      } finally {
        spawnSync(hyrunBin, ['--root', hyrunState, 'delete', '--force', probe], { stdio: 'ignore', env: cleanEnv, timeout: 60_000 });
      }
    }

    // --- exec probes: a running Linux container per runtime, `exec` of /bin/true into it, as a
    // liveness/readiness probe does (conmon, the shim and CRI-O pass a process file).
    writeConfig(join(dir, 'b-sleep'), linuxRootfs, ['/bin/sleep', '100000']);
    const probeProcess = join(dir, 'probe-process.json');
    writeFileSync(probeProcess, JSON.stringify({ terminal: false, user: { uid: 0, gid: 0 }, args: ['/bin/true'], env: ['PATH=/bin'], cwd: '/' }));
    const sleepers: { name: string; argv: string[] }[] = [];
    for (const [name, runtime] of [['crun', ['crun', '--root', state('crun')]], ['runc', ['runc', '--root', state('runc')]], ['hyrun', [hyrunBin, '--root', state('hyrun')]]] as const) {
      const id = `probe-${name}`;
      for (const step of [['create', '--bundle', join(dir, 'b-sleep'), id], ['start', id]]) {
        const r = spawnSync(runtime[0], [...runtime.slice(1), ...step], { stdio: ['ignore', outFd, outFd], env: cleanEnv, timeout: 60_000 });
        if (r.status !== 0) throw new Error(`exec probe: ${name} ${step[0]} exited ${r.status}`);
      }
      sleepers.push({ name: `${name} exec --process (engine form)`, argv: [...runtime, 'exec', '--process', probeProcess, id] });
      if (name === 'hyrun') sleepers.push({ name: 'hyrun exec ID /bin/true (command-line form)', argv: [...runtime, 'exec', id, '/bin/true'] });
    }
    const execMs = sleepers.map(() => [] as number[]);

    // --- timed rounds, interleaved
    const ociMs = oci.map(() => [] as Steps[]);
    const podmanMs = podman.map(() => [] as number[]);
    const nodeMs: number[] = [];
    const nodeCaMs: number[] = [];
    const caBundle = process.env.NODE_EXTRA_CA_CERTS;
    const hyrunVersionMs: number[] = [];
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const keep = round >= WARMUP;
      if (round % 5 === 0) progress(`containers: round ${round + 1}/${WARMUP + ROUNDS}`);
      const node = timeOnce([process.execPath, '-e', '0'], { env: cleanEnv });
      const version = timeOnce([hyrunBin, '--version'], { env: cleanEnv });
      if (keep) { nodeMs.push(node.ms); hyrunVersionMs.push(version.ms); }
      if (caBundle && keep) nodeCaMs.push(timeOnce([process.execPath, '-e', '0'], { env: { ...cleanEnv, NODE_EXTRA_CA_CERTS: caBundle } }).ms);
      oci.forEach((v, i) => {
        const steps = ociLifecycle(v, `bench-${round}-${i}`, outFd);
        if (keep) ociMs[i]!.push(steps);
      });
      sleepers.forEach((v, i) => {
        const r = timeOnce(v.argv, { env: cleanEnv, stdio: 'ignore' });
        if (r.status !== 0) throw new Error(`${v.name} exited ${r.status}`);
        if (keep) execMs[i]!.push(r.ms);
      });
      podman.forEach((v, i) => {
        const t0 = process.hrtime.bigint();
        const r = env.podman(['run', '--rm', ...v.args], { runtime: v.runtime });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r.status !== 0) throw new Error(`podman ${v.name} failed: ${r.stderr}`);
        if (keep) podmanMs[i]!.push(ms);
        settle();
      });
    }

    // --- podman stop of a busy container (SIGTERM handled → 143): Wasm spin loop vs Linux sh trap
    progress('containers: podman stop');
    buildImages(env, ['wasmBusy']);
    const stopCases = [
      { name: 'hyrun Wasm (spinning guest)', runtime: hyrunBin, args: [IMAGES.wasmBusy], ready: 'ready spin' },
      { name: 'crun Linux (sh with a TERM trap)', runtime: which('crun')!, args: [IMAGES.busybox, 'sh', '-c', 'trap "exit 143" TERM; echo ready spin; while :; do :; done'], ready: 'ready spin' },
    ];
    const stopRows: string[][] = [];
    for (const c of stopCases) {
      const times: number[] = [];
      const codes = new Set<string>();
      for (let i = 0; i < STOP_RUNS; i++) {
        const name = `bench-stop-${i}-${process.pid}`;
        const started = env.podman(['run', '--detach', '--name', name, ...c.args], { runtime: c.runtime });
        if (started.status !== 0) throw new Error(`podman run ${c.name}: ${started.stderr}`);
        waitUntil(`${name} ready`, () => env.podman(['logs', name]).stdout.includes(c.ready));
        const t0 = process.hrtime.bigint();
        const stop = env.podman(['stop', '--time', '30', name]);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (stop.status !== 0) throw new Error(`podman stop ${c.name}: ${stop.stderr}`);
        codes.add(env.podman(['inspect', '--format', '{{.State.ExitCode}}', name]).stdout.trim());
        env.podman(['rm', '--force', name]);
      }
      stopRows.push([`podman stop: ${c.name}`, '', fmtMs(median(times)), `exit ${[...codes].join('/')}`]);
    }

    // --- density: idle Wasm containers under Podman, the memory each costs (PSS of the container's
    // process, the executor: shared pages such as node's text count once, split among the sharers)
    progress(`containers: density (${DENSITY} idle Wasm containers)`);
    // The peer: the same number of crun containers running the bare node:wasi runner (same node,
    // bind-mounted as in the hello rows) on the same sleeping guest: the floor any Node-based executor pays.
    const busyPeerArgs = [...nodeWasiArgs.slice(0, -1), '/busy.wasm', 'sleep'];
    const densityOf = (label: string, runtime: string, args: string[]): number[] => {
      const kb: number[] = [];
      const names = Array.from({ length: DENSITY }, (_, i) => `bench-density-${label}-${i}-${process.pid}`);
      try {
        for (const name of names) {
          const started = env.podman(['run', '--detach', '--name', name, ...args], { runtime });
          if (started.status !== 0) throw new Error(`podman run ${name}: ${started.stderr}`);
        }
        const pids = names.map((name) => Number(env.podman(['inspect', '--format', '{{.State.Pid}}', name]).stdout.trim()));
        // Let each process finish starting (a container is "running" before its guest is).
        spawnSync('sleep', ['2']);
        for (const pid of pids) {
          const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
          kb.push(Number(/^Pss:\s+(\d+) kB/m.exec(rollup)![1]));
        }
      } finally {
        env.podman(['rm', '--force', '--time', '0', ...names]);
      }
      return kb;
    };
    const pssKb = densityOf('hyrun', hyrunBin, [IMAGES.wasmBusy, '/busy.wasm', 'sleep']);
    const peerKb = densityOf('nodewasi', which('crun')!, ['-v', `${rtDir}:${RT}:ro`, '--entrypoint', JSON.stringify(busyPeerArgs), IMAGES.wasmBusy]);
    const peerPssMb = peerKb.reduce((a, b) => a + b, 0) / peerKb.length / 1024;
    const pssMb = pssKb.reduce((a, b) => a + b, 0) / pssKb.length / 1024;

    // --- table and targets
    const node = median(nodeMs);
    const step = (i: number, k: keyof Steps): number => median(ociMs[i]!.map((x) => x[k]));
    const o = Object.fromEntries(oci.map((v, i) => [v.name, step(i, 'total')])) as Record<string, number>;
    const breakdown = (i: number): string =>
      `create ${fmtMs(step(i, 'create'))} · start ${fmtMs(step(i, 'start'))} · state ${fmtMs(step(i, 'state'))} · run ${fmtMs(step(i, 'run'))} · delete ${fmtMs(step(i, 'delete'))}`;
    const p = Object.fromEntries(podman.map((v, i) => [v.name, median(podmanMs[i]!)])) as Record<string, number>;
    const rows: string[][] = oci.map((v, i) => [v.name, fmtMs(o[v.name]!), p[v.name] === undefined ? '' : fmtMs(p[v.name]!), `OCI steps: ${breakdown(i)}`]);
    rows.push(['bare `node -e 0`', fmtMs(node), '', 'one node start']);
    rows.push(['`hyrun --version`', fmtMs(median(hyrunVersionMs)), '', 'one hyrun CLI start']);
    if (caBundle) rows.push(['bare `node -e 0`, NODE_EXTRA_CA_CERTS set', fmtMs(median(nodeCaMs)), '', 'the environment of this machine (not used above)']);
    rows.push(...stopRows);
    rows.push([`density: ${DENSITY} idle Wasm containers (Podman)`, '', '', `mean PSS per container ${pssMb.toFixed(1)} MB (the executor's process)`]);
    rows.push([`density: ${DENSITY} idle crun + node:wasi containers (Podman)`, '', '', `mean PSS per container ${peerPssMb.toFixed(1)} MB (bare node:wasi runner, same node and guest); hyrun / peer ${fmtRatio(pssMb / peerPssMb)}`]);
    const exec = Object.fromEntries(sleepers.map((v, i) => [v.name, median(execMs[i]!)])) as Record<string, number>;
    for (const v of sleepers) rows.push([`exec probe: ${v.name}`, fmtMs(exec[v.name]!), '', '`exec` of /bin/true into a running busybox container']);

    const addedOci = o['hyrun native']! - o['crun native']!;
    const addedPodman = p['hyrun native']! - p['crun native']!;
    const nativeRatioPodman = p['hyrun native']! / p['crun native']!;
    const wasmRatioOci = o['hyrun Wasm hello']! / o['crun + node:wasi hello']!;
    const wasmRatioPodman = p['hyrun Wasm hello']! / p['crun + node:wasi hello']!;
    const execAdded = exec['hyrun exec --process (engine form)']! - exec['crun exec --process (engine form)']!;
    const targets: Target[] = [
      {
        description: 'hyrun native create+start+state+delete (OCI CLI) adds ≤ 15 ms over crun',
        measured: `+${fmtMs(addedOci)} ms`,
        met: addedOci <= 15,
      },
      {
        description: '`podman run --rm` busybox: hyrun native / crun native ≤ 1.1×',
        measured: fmtTargetRatio(nativeRatioPodman),
        met: nativeRatioPodman <= 1.1,
      },
      {
        description: 'Wasm hello through Podman: hyrun / crun + node:wasi runner in the same image ≤ 1.5×',
        measured: fmtTargetRatio(wasmRatioPodman),
        met: wasmRatioPodman <= 1.5,
      },
      {
        description: `${DENSITY} idle Wasm containers under Podman: mean PSS per container ≤ 8 MB`,
        measured: `${pssMb.toFixed(1)} MB`,
        met: pssMb <= 8,
      },
      {
        description: 'hyrun Wasm hello / crun + node:wasi hello (OCI CLI) ≤ 1.3×',
        measured: fmtTargetRatio(wasmRatioOci),
        met: wasmRatioOci <= 1.3,
      },
    ];
    const notes = [
      `Density: a bare node:wasi runner on the same node, guest and engine costs ${peerPssMb.toFixed(1)} MB per container (hyrun ${pssMb.toFixed(1)} MB, ${fmtRatio(pssMb / peerPssMb)}); an idle bare node 26 process (\`node -e 'setInterval(…)'\`, 50 at once on the host) was measured at 8.9 MB PSS, 8.2 MB of it anonymous, with no V8/node flag moving it below 8 MB (docs/v8-tiers.md): the 8 MB target is at or below what node 26 itself needs (the peer row varies between runs: 7.3 and 10.3 MB on 2026-12-08).`,
      `Through Podman: hyrun native adds ${fmtMs(addedPodman)} ms over crun (${fmtRatio(nativeRatioPodman)}); hyrun Wasm hello / crun + node:wasi = ${fmtRatio(wasmRatioPodman)}.`,
      `Per hyrun invocation (the OCI lifecycle calls hyrun 4 times: create, start, state, delete): ${fmtMs(addedOci / 4)} ms added over crun. bin/hyrun (POSIX sh) hands a Linux container's calls to the delegate without starting node; a Wasm container's create still starts node (its state goes to crun when create marked it state-direct, its delete through the release list).`,
      `Exec probe: hyrun adds ${fmtMs(execAdded)} ms over crun (${fmtRatio(exec['hyrun exec --process (engine form)']! / exec['crun exec --process (engine form)']!)}) in the engines' form (a process file: bin/hyrun hands it to crun); the command-line form (\`exec ID CMD\`) builds the process in the CLI and starts node.`,
      ...(executorNote ? [executorNote] : ['"crun + hyrun executor (no hyrun CLI)": the config.json hyrun writes for the Wasm container (executor as the process, runtime dir mounted), run by crun directly: hyrun Wasm hello minus it is the cost of the hyrun calls (create starts node; start, state and delete go through bin/hyrun alone under crun); it minus crun + node:wasi is the executor\'s own cost over a bare node:wasi runner.']),
      `All commands ran without ${INHERITED_NODE_VARS.join('/')} in their environment${caBundle ? ' (this machine sets NODE_EXTRA_CA_CERTS: see the row that measures it; every hyrun call would pay it)' : ''}.`,
      'hyrun native delegates to crun (its default delegate when installed); crun native is therefore the baseline of the added time.',
      `crun + node:wasi: node (hard link), its ldd libraries and loader, and bench/node-wasi-run.ts as runner.mjs, bind-mounted read-only at ${RT} in the same rootfs (only hello.wasm), started as \`${nodeWasiArgs.join(' ')}\`.`,
      `podman stop rows: median of ${STOP_RUNS}; the container is already printing when \`podman stop --time 30\` starts; exit 143 means SIGTERM ended it (137 would mean Podman fell back to SIGKILL).`,
      `Load average (1 min) before/after the suite: ${loadBefore.toFixed(2)}/${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} CPUs; other work on the machine inflates every row, the interleaving keeps the ratios fairer than the absolute times.`,
      `Podman: ${must('podman', ['--version']).trim()}, test-owned overlay store, --network none, cgroupfs; ${must('crun', ['--version']).split('\n')[0]}; ${must('runc', ['--version']).split('\n')[0]}.`,
    ];
    return {
      title: 'Containers: start→exit',
      method: `Wall time from the first runtime call to the end of the last, median of ${ROUNDS} runs after ${WARMUP} warm-up rounds, all variants interleaved round by round. OCI CLI: \`RUNTIME --root DIR create --bundle B --pid-file P ID\`, \`start ID\`, \`state ID\`, poll /proc/PID until the container process has exited (1 ms steps), \`delete ID\`; Linux variants run busybox \`/bin/true\`, Wasm variants a C hello (eng_hello.c, wasm32-wasi). Podman: \`podman run --rm --runtime RUNTIME IMAGE\` with locally built images (busybox \`true\`; the seed's wasm-hello image). Lower is better; ratios are hyrun / baseline.`,
      columns: ['variant', 'OCI CLI ms', 'Podman ms', 'note (OCI step medians in ms; run = state returned → process gone)'],
      rows,
      notes,
      targets,
    };
  } finally {
    closeSync(outFd);
    // containers left by a failed run
    for (const name of ['crun', 'runc', 'hyrun']) {
      const bin = name === 'hyrun' ? hyrunBin : name;
      const list = spawnSync(bin, ['--root', join(dir, `state-${name}`), 'list', '-q'], { encoding: 'utf8' });
      for (const id of String(list.stdout ?? '').split('\n').filter(Boolean)) spawnSync(bin, ['--root', join(dir, `state-${name}`), 'delete', '--force', id]);
    }
    env.cleanup();
    removeTree(dir);
  }
}
