// containerd with its CRI plugin, owned by one test file, driven with crictl (the CRI's own client)
// exactly as a kubelet drives a node: root, state, sockets, CNI config and IPAM state in a temporary
// directory; `containerd config default` edited (toml-patch) to use them, then `hyrun install
// containerd --config` run on it by the test, as an operator would. CNI: Debian's
// containernetworking-plugins (bridge + host-local + loopback) on an unusual bridge and subnet.
// The sandbox image is a static pause program built here (engines/pause.c).
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, patch } from '@decimalturn/toml-patch';
import { repoRoot, run, type Result } from '../../helpers.js';
import type { PodmanEnv } from './podman.js';
import { describe, engineFiles, explain, must, pidsWithArg, removeTree, sleep, waitFor } from './tools.js';

/** crictl and CRI-O, built for the tests (../shared/cri/README.md); HYRUN_SHARED_CRI overrides. */
export const SHARED_CRI = process.env.HYRUN_SHARED_CRI ?? join(repoRoot, '../shared/cri');
export const CRICTL = join(SHARED_CRI, 'crictl');
export const CNI_BIN = '/usr/lib/cni';
export const PAUSE_IMAGE = 'localhost/hyrun-test/pause:latest';

/** Why the CRI tests cannot run (what is missing), or undefined. */
/**
 * Starts a daemon in a private mount namespace where this machine's node binaries are covered by an
 * empty file, with a PATH of the system directories (docs/node.md: the node has no Node.js; hyrun
 * brings its own). The daemon keeps the child's pid (unshare and sh exec it).
 */
export function spawnWithoutNode(cmd: string, args: string[], options: SpawnOptions): ChildProcess {
  const nodes = ['/usr/bin/node', '/usr/bin/nodejs', '/usr/local/bin/node', '/usr/local/bin/nodejs'].filter((p) => existsSync(p));
  const empty = join(tmpdir(), `hyrun-no-node-${process.pid}`);
  writeFileSync(empty, '');
  const script = 'while [ "$1" != -- ]; do mount --bind "$HYRUN_TEST_EMPTY" "$1" || exit 99; shift; done; shift; exec "$@"';
  return spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...nodes, '--', cmd, ...args], {
    ...options,
    env: { ...(options.env ?? process.env), PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HYRUN_TEST_EMPTY: empty },
  });
}

export function criMissing(extra: string[] = []): string | undefined {
  const missing = [CRICTL, ...extra].filter((f) => !existsSync(f));
  if (missing.length) return `missing ${missing.join(', ')} (the CRI test tools of ../shared/cri, see its README)`;
  for (const p of ['bridge', 'host-local', 'loopback']) {
    if (!existsSync(join(CNI_BIN, p))) return `missing ${join(CNI_BIN, p)} (apt-get install containernetworking-plugins; scripts/setup.sh --test)`;
  }
  return undefined;
}

/** Builds the pause image (a static C program) into `env` under PAUSE_IMAGE. */
export function buildPauseImage(env: PodmanEnv, tag = PAUSE_IMAGE): void {
  const context = join(env.dir, 'pause-context');
  mkdirSync(context, { recursive: true });
  must('gcc', ['-static', '-O2', '-o', join(context, 'pause'), join(engineFiles, 'pause.c')]);
  writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n');
  env.mustBuildah(['build', '--quiet', '-t', tag, context]);
}

/** A CNI network config: one bridge with host-local IPAM (state in `dir`), then loopback. */
export function cniConfig(name: string, bridge: string, subnet: string, ipamDir: string): string {
  return `${JSON.stringify({
    cniVersion: '0.4.0',
    name,
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: false, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir } },
      { type: 'loopback' },
    ],
  }, null, 2)}\n`;
}

export interface CriNode {
  dir: string;
  socket: string;
  config: string;
  cacheDir: string;
  cgroupParent: string;
  bridge: string;
  crictl(args: string[], options?: { timeout?: number; input?: string }): Result;
  mustCrictl(args: string[], options?: { timeout?: number; input?: string }): Result;
  ctr(args: string[], options?: { timeout?: number }): Result;
  log(): string;
  /** /proc/PID/mountinfo of the daemon: its mount namespace (spawnWithoutNode), where containers' mounts live. */
  mountinfo: string;
  stop(): Promise<void>;
}

export interface CriNodeOptions {
  /** Bridge name and subnet (unusual ones: other suites share this machine). */
  bridge: string;
  subnet: string;
  /** Called with the config path after the defaults are written and before the daemon starts. */
  configure(config: string, dir: string): void;
}

/** Writes the node's config (containerd defaults moved into a temporary directory) without starting it. */
export function prepareCriNode(options: CriNodeOptions): { dir: string; config: string; socket: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hyrun-cri-'));
  const socket = join(dir, 'containerd.sock');
  const config = join(dir, 'etc/config.toml');
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'cni/conf'), { recursive: true });
  writeFileSync(join(dir, 'cni/conf/10-hyrun-test.conflist'), cniConfig(`hyrun-test-${process.pid}`, options.bridge, options.subnet, join(dir, 'cni/ipam')));
  const text = must('containerd', ['config', 'default']).stdout;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const doc = parse(text) as any;
  const fsType = spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).stdout.trim();
  doc.root = join(dir, 'root');
  doc.state = join(dir, 'state');
  doc.grpc.address = socket;
  doc.ttrpc.address = `${socket}.ttrpc`;
  doc.plugins['io.containerd.internal.v1.opt'].path = join(dir, 'opt');
  const cri = doc.plugins['io.containerd.grpc.v1.cri'];
  cri.sandbox_image = PAUSE_IMAGE;
  // This machine's root lacks CAP_SYS_RESOURCE: the pause container's -998 cannot be written.
  cri.restrict_oom_score_adj = true;
  cri.cni.bin_dir = CNI_BIN;
  cri.cni.conf_dir = join(dir, 'cni/conf');
  cri.containerd.snapshotter = fsType === 'overlayfs' ? 'native' : 'overlayfs';
  writeFileSync(config, patch(text, doc));
  return { dir, config, socket };
}

export async function startCriNode(options: CriNodeOptions): Promise<CriNode> {
  const { dir, config, socket } = prepareCriNode(options);
  options.configure(config, dir);
  const cacheDir = join(dir, 'hyrun-cache');
  const cgroupParent = `/hyrun-cri-test-${process.pid}`;
  const crictlConfig = join(dir, 'crictl.yaml');
  writeFileSync(crictlConfig, `runtime-endpoint: unix://${socket}\nimage-endpoint: unix://${socket}\ntimeout: 60\n`);
  const logPath = join(dir, 'containerd.log');
  const logFd = openSync(logPath, 'a');
  // The shims inherit this environment, and hyrun with them: its runtime dir goes to the test's cache.
  // The daemon (and so the shims and hyrun) cannot reach this machine's node: the installed copy runs its own.
  const child: ChildProcess = spawnWithoutNode('containerd', ['--config', config, '--log-level', 'debug'], {
    stdio: ['ignore', logFd, logFd], env: { ...process.env, HYRUN_CACHE_DIR: cacheDir },
  });
  closeSync(logFd);
  let exited = false;
  child.once('exit', () => { exited = true; });
  const log = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  const crictl = (args: string[], o: { timeout?: number; input?: string } = {}): Result =>
    run(CRICTL, ['--config', crictlConfig, ...args], { timeout: o.timeout ?? 120_000, input: o.input });
  const ctr = (args: string[], o: { timeout?: number } = {}): Result =>
    run('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], { timeout: o.timeout ?? 120_000 });

  const stop = async (): Promise<void> => {
    try {
      crictl(['rmp', '--all', '--force'], { timeout: 60_000 });
    } catch (error) {
      process.stderr.write(`harness: crictl rmp: ${String(error)}\n`);
    }
    if (!exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await sleep(50);
      if (!exited) child.kill('SIGKILL');
      for (let i = 0; i < 100 && !exited; i++) await sleep(50);
    }
    for (const pid of pidsWithArg(socket)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    spawnSync('ip', ['link', 'del', options.bridge], { stdio: 'ignore' });
    for (const sub of listCgroups(cgroupParent).reverse()) spawnSync('rmdir', [sub], { stdio: 'ignore' });
    removeTree(dir);
  };

  try {
    await waitFor(`containerd (CRI) to answer on ${socket}`, () =>
      exited || (existsSync(socket) && crictl(['info'], { timeout: 10_000 }).status === 0), 60_000);
    if (exited) throw new Error('containerd exited during start-up');
  } catch (error) {
    const text = log();
    await stop();
    throw new Error(`${String(error)}\n--- containerd log (tail)\n${text.slice(-6000)}`);
  }
  return {
    dir, socket, config, cacheDir, cgroupParent, bridge: options.bridge, crictl, ctr, log, stop, mountinfo: `/proc/${child.pid}/mountinfo`,
    mustCrictl(args, o) {
      const r = crictl(args, o);
      if (r.status !== 0) throw new Error(`${describe('crictl', args)} failed: ${explain(r)}\n--- containerd log (tail)\n${log().slice(-4000)}`);
      return r;
    },
  };
}

/** Every cgroup directory named `parent` or below it, in every v1 hierarchy (parents first). */
export function listCgroups(parent: string): string[] {
  const out: string[] = [];
  const base = '/sys/fs/cgroup';
  if (!existsSync(base)) return out;
  const walk = (d: string): void => {
    out.push(d);
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
  };
  for (const h of readdirSync(base)) {
    const p = join(base, h, parent);
    if (existsSync(p)) walk(p);
  }
  return out;
}

/** Imports an image from `env` (oci-archive via podman save) into the node's k8s.io namespace. */
export function importImage(env: PodmanEnv, node: Pick<CriNode, 'ctr' | 'dir'>, image: string): void {
  const file = join(node.dir, `${image.replace(/[/:]/g, '_')}.oci.tar`);
  env.mustPodman(['save', '--format', 'oci-archive', '--output', file, image]);
  const r = node.ctr(['images', 'import', '--all-platforms', file]);
  if (r.status !== 0) throw new Error(`ctr images import ${file} failed: ${explain(r)}`);
}

export const CRIO = join(SHARED_CRI, 'crio');
export const PINNS = join(SHARED_CRI, 'pinns');

/**
 * CRI-O 1.32 from ../shared/cri with every path in a temporary directory (a private drop-in,
 * 00-test.conf; crio.conf itself empty), started as `crio --config DIR/crio.conf --config-dir
 * DIR/crio.conf.d` after `configure` (the test's `hyrun install crio --config DIR/crio.conf`).
 */
export async function startCrioNode(options: CriNodeOptions): Promise<CriNode> {
  const dir = mkdtempSync(join(tmpdir(), 'hyrun-crio-'));
  // This machine's missing CAP_SYS_RESOURCE: the pause container's oom_score_adj (-998) cannot be
  // written, and CRI-O has no switch for it. The test hands hyrun a crun wrapper that drops it.
  const delegateDir = join(dir, 'delegate');
  mkdirSync(delegateDir);
  copyFileSync(join(engineFiles, 'no-oom-adj-crun.py'), join(delegateDir, 'crun'));
  chmodSync(join(delegateDir, 'crun'), 0o755);
  const socket = join(dir, 'crio.sock');
  const config = join(dir, 'etc/crio.conf');
  const dropIns = join(dir, 'etc/crio.conf.d');
  mkdirSync(dropIns, { recursive: true });
  mkdirSync(join(dir, 'cni/conf'), { recursive: true });
  writeFileSync(join(dir, 'cni/conf/10-hyrun-test.conflist'), cniConfig(`hyrun-test-${process.pid}`, options.bridge, options.subnet, join(dir, 'cni/ipam')));
  writeFileSync(config, '');
  writeFileSync(join(dir, 'policy.json'), '{"default":[{"type":"insecureAcceptAnything"}]}\n');
  const fsType = spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).stdout.trim();
  const q = JSON.stringify;
  writeFileSync(join(dropIns, '00-test.conf'), [
    '# The test node: every path in its temporary directory.',
    '[crio]',
    `root = ${q(join(dir, 'root'))}`, `runroot = ${q(join(dir, 'runroot'))}`,
    `storage_driver = ${q(fsType === 'overlayfs' ? 'vfs' : 'overlay')}`,
    `log_dir = ${q(join(dir, 'pod-logs'))}`,
    `version_file = ${q(join(dir, 'version'))}`, `version_file_persist = ${q(join(dir, 'version-persist'))}`,
    `clean_shutdown_file = ${q(join(dir, 'clean.shutdown'))}`,
    '[crio.api]', `listen = ${q(socket)}`, 'stream_address = "127.0.0.1"', 'stream_port = "0"',
    '[crio.runtime]', 'cgroup_manager = "cgroupfs"', 'conmon = "/usr/bin/conmon"', 'conmon_cgroup = "pod"',
    // conmon and the runtime get only this environment (not crio's): the test's cache and delegate.
    `conmon_env = [${q('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')}, ${q(`HYRUN_CACHE_DIR=${join(dir, 'hyrun-cache')}`)}, ${q(`HYRUN_DELEGATE=${join(dir, 'delegate/crun')}`)}]`,
    `namespaces_dir = ${q(join(dir, 'ns'))}`, `pinns_path = ${q(PINNS)}`,
    `container_exits_dir = ${q(join(dir, 'exits'))}`, `container_attach_socket_dir = ${q(join(dir, 'attach'))}`,
    '[crio.image]', `signature_policy = ${q(join(dir, 'policy.json'))}`, `pause_image = ${q(PAUSE_IMAGE)}`, 'pause_command = "/pause"',
    '[crio.network]', `network_dir = ${q(join(dir, 'cni/conf'))}`, `plugin_dirs = [${q(CNI_BIN)}]`,
    '[crio.nri]', 'enable_nri = false',
    '',
  ].join('\n'));
  options.configure(config, dir);
  const cacheDir = join(dir, 'hyrun-cache');
  const cgroupParent = `/hyrun-crio-test-${process.pid}`;
  const crictlConfig = join(dir, 'crictl.yaml');
  writeFileSync(crictlConfig, `runtime-endpoint: unix://${socket}\nimage-endpoint: unix://${socket}\ntimeout: 60\n`);
  const logPath = join(dir, 'crio.log');
  const logFd = openSync(logPath, 'a');
  // Like containerd's: CRI-O, conmon and hyrun run where this machine's node is hidden.
  const child: ChildProcess = spawnWithoutNode(CRIO, ['--config', config, '--config-dir', dropIns, '--log-level', 'info'], {
    stdio: ['ignore', logFd, logFd], env: { ...process.env, HYRUN_CACHE_DIR: cacheDir, HYRUN_DELEGATE: join(delegateDir, 'crun') },
  });
  closeSync(logFd);
  let exited = false;
  child.once('exit', () => { exited = true; });
  const log = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  const crictl = (args: string[], o: { timeout?: number; input?: string } = {}): Result =>
    run(CRICTL, ['--config', crictlConfig, ...args], { timeout: o.timeout ?? 120_000, input: o.input });
  const stop = async (): Promise<void> => {
    try {
      crictl(['rmp', '--all', '--force'], { timeout: 60_000 });
    } catch (error) {
      process.stderr.write(`harness: crictl rmp: ${String(error)}\n`);
    }
    if (!exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await sleep(50);
      if (!exited) child.kill('SIGKILL');
      for (let i = 0; i < 100 && !exited; i++) await sleep(50);
    }
    for (const pid of pidsWithArg(dir)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    spawnSync('ip', ['link', 'del', options.bridge], { stdio: 'ignore' });
    for (const sub of listCgroups(cgroupParent).reverse()) spawnSync('rmdir', [sub], { stdio: 'ignore' });
    removeTree(dir);
  };
  try {
    // Ready means RuntimeReady and NetworkReady (the CNI config is read shortly after start-up).
    const ready = (): boolean => {
      const r = crictl(['info'], { timeout: 10_000 });
      return r.status === 0 && (JSON.parse(r.stdout) as { status: { conditions: { status: boolean }[] } }).status.conditions.every((c) => c.status);
    };
    await waitFor(`CRI-O to answer on ${socket} and be ready`, () => exited || (existsSync(socket) && ready()), 60_000);
    if (exited) throw new Error('crio exited during start-up');
  } catch (error) {
    const text = log();
    await stop();
    throw new Error(`${String(error)}\n--- crio log (tail)\n${text.slice(-6000)}`);
  }
  return {
    dir, socket, config, cacheDir, cgroupParent, bridge: options.bridge, crictl, log, stop, mountinfo: `/proc/${child.pid}/mountinfo`,
    ctr: () => { throw new Error('no ctr for CRI-O'); },
    mustCrictl(args, o) {
      const r = crictl(args, o);
      if (r.status !== 0) throw new Error(`${describe('crictl', args)} failed: ${explain(r)}\n--- crio log (tail)\n${log().slice(-4000)}`);
      return r;
    },
  };
}

/** Copies an image from `env`'s store into CRI-O's (containers-storage with its root and runroot). */
export function copyImageToCrio(env: PodmanEnv, node: Pick<CriNode, 'dir'>, image: string): void {
  const fsType = spawnSync('stat', ['-f', '-c', '%T', node.dir], { encoding: 'utf8' }).stdout.trim();
  const driver = fsType === 'overlayfs' ? 'vfs' : 'overlay';
  const from = `containers-storage:[${env.driver}@${env.root}+${env.runroot}]${image}`;
  const to = `containers-storage:[${driver}@${join(node.dir, 'root')}+${join(node.dir, 'runroot')}]${image}`;
  env.mustSkopeo(['copy', '--quiet', from, to]);
}

/** What `crictl inspect` says of a container's state. */
export interface ContainerStatus { state: string; exitCode: number; reason: string; message?: string; logPath?: string }

/** A PodSandboxConfig as a kubelet would send it. */
export interface PodConfig {
  metadata: { name: string; namespace: string; uid: string; attempt: number };
  hostname: string;
  log_directory: string;
  annotations: Record<string, string>;
  linux: { cgroup_parent: string };
}

/** A ContainerConfig: the image, the command, the log path (relative to the pod's log directory), and anything else given. */
export type ContainerConfig = { metadata: { name: string }; image: { image: string }; command: string[]; log_path: string } & Record<string, unknown>;

export interface Pod { id: string; configFile: string; config: PodConfig }

export interface CriDriverOptions {
  /** The pods' log directories' parent, under the node's dir. */
  logs?: string;
  /** How long waitState waits. */
  waitMs?: number;
}

/**
 * crictl as a kubelet drives a node: pod and container configs written as files under the node's
 * dir (names unique per test file), pods run with a runtime handler, containers created and
 * started, their state read back. `node` is asked for on each call (the suites start it in
 * `before`).
 */
export function criDriver(node: () => CriNode, options: CriDriverOptions = {}) {
  let serial = 0;
  const writeJson = (name: string, value: unknown): string => {
    const dir = join(node().dir, 'specs');
    mkdirSync(dir, { recursive: true });
    const p = join(dir, `${name}-${++serial}.json`);
    writeFileSync(p, JSON.stringify(value));
    return p;
  };
  /** Name and uid unique per call. */
  const podConfig = (name: string, annotations: Record<string, string> = {}): PodConfig => {
    const uid = `${name}-${process.pid}-${++serial}`;
    return {
      metadata: { name: uid, namespace: 'hyrun-test', uid, attempt: 0 },
      hostname: name,
      log_directory: join(node().dir, options.logs ?? 'logs', uid),
      annotations,
      linux: { cgroup_parent: node().cgroupParent },
    };
  };
  const containerConfig = (name: string, image: string, command: string[], extra: Record<string, unknown> = {}): ContainerConfig => ({
    metadata: { name }, image: { image }, command, log_path: `${name}.log`, ...extra,
  });
  const runPod = (config: PodConfig, handler = 'hyrun'): Pod => {
    const configFile = writeJson('pod', config);
    const id = node().mustCrictl(['runp', '--runtime', handler, configFile]).stdout.trim();
    return { id, configFile, config };
  };
  const createContainer = (pod: Pod, config: ContainerConfig): string =>
    node().mustCrictl(['create', pod.id, writeJson('ctr', config), pod.configFile]).stdout.trim();
  const startContainer = (pod: Pod, config: ContainerConfig): string => {
    const id = createContainer(pod, config);
    node().mustCrictl(['start', id]);
    return id;
  };
  const status = (id: string): ContainerStatus =>
    (JSON.parse(node().mustCrictl(['inspect', '-o', 'json', id]).stdout) as { status: ContainerStatus }).status;
  const waitState = async (id: string, state: string): Promise<ContainerStatus> => {
    await waitFor(`container ${id} to be ${state}`, () => status(id).state === state, options.waitMs ?? 60_000);
    return status(id);
  };
  const removePod = (pod: Pod): void => {
    node().crictl(['stopp', pod.id]);
    node().crictl(['rmp', pod.id]);
  };
  return { writeJson, podConfig, containerConfig, runPod, createContainer, startContainer, status, waitState, removePod };
}

/** hyrun's state record of a container (under the runtime's root), if it has one. */
export function hyrunRecord(root: string, id: string): { handler: string; annotations?: Record<string, string> } | undefined {
  const p = join(root, id, 'hyrun.json');
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) as { handler: string; annotations?: Record<string, string> } : undefined;
}
