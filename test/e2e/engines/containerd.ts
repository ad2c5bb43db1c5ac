// A containerd daemon owned by one test file: root, state, opt dir and sockets in a temporary
// directory, CRI disabled, overlayfs snapshotter (native when the temporary directory is itself on
// overlayfs, as in CI inside a container). Never the machine's /run/containerd socket.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type Result } from '../../helpers.js';
import { describe, explain, pidsWithArg, removeTree, sleep, waitFor } from './tools.js';

export const NAMESPACE = 'hyrun-test';

export interface Containerd {
  dir: string;
  socket: string;
  namespace: string;
  /** The snapshotter every ctr call uses (CONTAINERD_SNAPSHOTTER). */
  snapshotter: string;
  /** Environment for ctr processes a test spawns itself (carries CONTAINERD_SNAPSHOTTER). */
  env: NodeJS.ProcessEnv;
  /** `ctr --address SOCK -n NS ARGS`. */
  ctr(args: string[], options?: { timeout?: number; input?: string }): Result;
  mustCtr(args: string[], options?: { timeout?: number; input?: string }): Result;
  /** The daemon's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export async function startContainerd(namespace = NAMESPACE): Promise<Containerd> {
  const dir = mkdtempSync(join(tmpdir(), 'hyrun-containerd-'));
  const socket = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(config, [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = "${socket}"`,
    '[ttrpc]',
    `  address = "${socket}.ttrpc"`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${dir}/opt"`,
    '',
  ].join('\n'));
  const logPath = join(dir, 'containerd.log');
  const logFd = openSync(logPath, 'a');
  const child: ChildProcess = spawn('containerd', ['--config', config, '--log-level', 'info'], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited = false;
  child.once('exit', () => { exited = true; });
  const log = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');

  const fsType = spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).stdout.trim();
  const snapshotter = fsType === 'overlayfs' ? 'native' : 'overlayfs';
  const env = { ...process.env, CONTAINERD_SNAPSHOTTER: snapshotter };
  const ctr = (args: string[], options: { timeout?: number; input?: string } = {}): Result =>
    run('ctr', ['--address', socket, '--namespace', namespace, ...args], { timeout: options.timeout ?? 120_000, input: options.input, env });

  const stop = async (): Promise<void> => {
    try {
      // Tasks and containers left by a failed test: kill, delete, so the shims exit on their own.
      for (const id of ctr(['tasks', 'ls', '-q'], { timeout: 20_000 }).stdout.split('\n').filter(Boolean)) {
        ctr(['tasks', 'kill', '--signal', 'SIGKILL', id], { timeout: 20_000 });
        ctr(['tasks', 'delete', '--force', id], { timeout: 20_000 });
      }
      for (const id of ctr(['containers', 'ls', '-q'], { timeout: 20_000 }).stdout.split('\n').filter(Boolean)) {
        ctr(['containers', 'delete', id], { timeout: 20_000 });
      }
    } catch (error) {
      process.stderr.write(`harness: containerd cleanup: ${String(error)}\n`);
    }
    if (!exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await sleep(50);
      if (!exited) child.kill('SIGKILL');
      for (let i = 0; i < 100 && !exited; i++) await sleep(50);
    }
    // Shims this daemon started carry its socket address on their command line.
    for (const pid of pidsWithArg(socket)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    removeTree(dir);
  };

  try {
    await waitFor(`containerd to listen on ${socket}`, () =>
      exited || (existsSync(socket) && run('ctr', ['--address', socket, 'version'], { timeout: 10_000 }).status === 0), 30_000);
    if (exited) throw new Error('containerd exited during start-up');
  } catch (error) {
    const text = log();
    await stop();
    throw new Error(`${String(error)}\n--- containerd log\n${text}`);
  }
  return {
    dir, socket, namespace, snapshotter, env, ctr, log, stop,
    mustCtr(args, options) {
      const r = ctr(args, options);
      if (r.status !== 0) throw new Error(`${describe('ctr', ['--address', socket, '--namespace', namespace, ...args])} failed: ${explain(r)}`);
      return r;
    },
  };
}
