// A Podman (plus Buildah and Skopeo) environment owned by one test file: its own storage
// (graphroot/runroot, overlay driver) and tmpdir in a temporary directory, the harness's
// containers.conf, and hyrun as the OCI runtime unless a call says otherwise. Nothing touches the
// machine's /var/lib/containers; cleanup() removes every container, image and mount it made.
//
// Overlay vs vfs: on this ext4 host overlay builds the images in ~0.2 s and starts containers
// without copying layers, vfs copies every layer per container; overlay it is, unless the temporary
// directory is itself on overlayfs (CI inside a container), where the kernel refuses overlay on
// overlay: then vfs.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hyrunBin, run, type Result } from '../../helpers.js';
import { describe, engineFiles, explain, removeTree } from './tools.js';

export interface CallOptions {
  /** OCI runtime for this call (absolute path, or a name: hyrun, hyrun-wasm, crun, runc); default bin/hyrun by path. */
  runtime?: string;
  timeout?: number;
  input?: string;
}

export class PodmanEnv {
  readonly dir: string;
  readonly root: string;
  readonly runroot: string;
  readonly tmp: string;
  readonly env: NodeJS.ProcessEnv;
  readonly runtime: string;
  readonly driver: 'overlay' | 'vfs';

  constructor(options: { runtime?: string; prefix?: string } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'hyrun-podman-'));
    this.root = join(this.dir, 'root');
    this.runroot = join(this.dir, 'runroot');
    this.tmp = join(this.dir, 'tmp');
    this.runtime = options.runtime ?? hyrunBin;
    // storage.conf makes podman, buildah and skopeo's containers-storage: transport agree on the store.
    const fsType = spawnSync('stat', ['-f', '-c', '%T', this.dir], { encoding: 'utf8' }).stdout.trim();
    const forced = process.env.HYRUN_E2E_STORAGE_DRIVER; // overlay | vfs, to try the other one
    this.driver = forced === 'vfs' || forced === 'overlay' ? forced : fsType === 'overlayfs' ? 'vfs' : 'overlay';
    const storageConf = join(this.dir, 'storage.conf');
    writeFileSync(storageConf, `[storage]\ndriver = "${this.driver}"\ngraphroot = "${this.root}"\nrunroot = "${this.runroot}"\n`);
    // containers.conf: the harness's file plus the runtimes by name, as a Podman user would configure.
    const containersConf = join(this.dir, 'containers.conf');
    writeFileSync(containersConf, `${readFileSync(join(engineFiles, 'containers.conf'), 'utf8')}
[engine.runtimes]
hyrun = ["${hyrunBin}"]
hyrun-wasm = ["${hyrunBin}-wasm"]
`);
    this.env = {
      ...process.env,
      CONTAINERS_CONF: containersConf,
      CONTAINERS_STORAGE_CONF: storageConf,
    };
  }

  /** The global flags every podman call gets. */
  globalArgs(runtime = this.runtime): string[] {
    return ['--root', this.root, '--runroot', this.runroot, '--storage-driver', this.driver, '--tmpdir', this.tmp, '--runtime', runtime];
  }

  podman(args: string[], options: CallOptions = {}): Result {
    return run('podman', [...this.globalArgs(options.runtime), ...args], this.spawnOptions(options));
  }

  /** Like podman() but throws (with the full call and output) unless it exits 0. */
  mustPodman(args: string[], options: CallOptions = {}): Result {
    const r = this.podman(args, options);
    if (r.status !== 0) throw new Error(`${describe('podman', [...this.globalArgs(options.runtime), ...args])} failed: ${explain(r)}`);
    return r;
  }

  buildah(args: string[], options: CallOptions = {}): Result {
    return run('buildah', args, this.spawnOptions(options));
  }

  mustBuildah(args: string[], options: CallOptions = {}): Result {
    const r = this.buildah(args, options);
    if (r.status !== 0) throw new Error(`${describe('buildah', args)} failed: ${explain(r)}`);
    return r;
  }

  skopeo(args: string[], options: CallOptions = {}): Result {
    return run('skopeo', args, this.spawnOptions(options));
  }

  mustSkopeo(args: string[], options: CallOptions = {}): Result {
    const r = this.skopeo(args, options);
    if (r.status !== 0) throw new Error(`${describe('skopeo', args)} failed: ${explain(r)}`);
    return r;
  }

  /** A skopeo/containers-image reference to an image in this environment's store. */
  storageRef(image: string): string {
    return `containers-storage:[${this.driver}@${this.root}+${this.runroot}]${image}`;
  }

  /** The command line a caller would type, for failure messages. */
  commandLine(args: string[], runtime?: string): string {
    return describe('podman', [...this.globalArgs(runtime), ...args]);
  }

  spawnOptions(options: CallOptions): SpawnSyncOptions {
    return { env: this.env, timeout: options.timeout ?? 120_000, input: options.input };
  }

  /** Removes every container and image of this environment, then its directory. Never throws. */
  cleanup(): void {
    try {
      this.podman(['rm', '--all', '--force', '--time', '0'], { timeout: 60_000 });
      this.podman(['rmi', '--all', '--force'], { timeout: 60_000 });
      this.buildah(['rm', '--all'], { timeout: 30_000 });
    } catch (error) {
      process.stderr.write(`harness: podman cleanup: ${String(error)}\n`);
    }
    removeTree(this.dir);
  }
}

/**
 * A copy of the machine's /etc/containers in `dir`, with `containersConf` as its containers.conf:
 * for tests of `hyrun install podman`, whose drop-in Podman 4.3 reads only from
 * /etc/containers/containers.conf.d (and not when CONTAINERS_CONF is set). Returns its path.
 */
export function copyEtcContainers(dir: string, containersConf: string): string {
  const etc = join(dir, 'etc-containers');
  if (existsSync('/etc/containers')) cpSync('/etc/containers', etc, { recursive: true });
  else mkdirSync(etc);
  writeFileSync(join(etc, 'containers.conf'), containersConf);
  return etc;
}

/**
 * Runs `command` in a private mount namespace where `etc` is bind-mounted over /etc/containers, so
 * Podman (and Buildah) read it and the machine's files are never touched; CONTAINERS_CONF is left
 * out of `env` (it would hide the drop-ins).
 */
export function runWithEtcContainers(etc: string, env: NodeJS.ProcessEnv, command: string[], options: SpawnSyncOptions = {}): Result {
  const { CONTAINERS_CONF: _ignored, ...rest } = env;
  return run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/containers && exec "$@"', etc, ...command],
    { env: rest, timeout: 120_000, ...options });
}

/** Podman's own run-time warning for images of another platform (the Wasm images are wasi/wasm). */
export const platformWarning = /WARNING: image platform .* does not match the expected platform .*\n?/g;

/** stderr without the lines Podman prints for every run of a wasi/wasm image. */
export const cleanStderr = (stderr: string): string => stderr.replace(platformWarning, '');
