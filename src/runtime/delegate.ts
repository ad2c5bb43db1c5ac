// The OCI runtime that really runs Linux containers (and the executor of Wasm ones): crun if it is
// present and usable, else runc; `--delegate PATH` or HYRUN_DELEGATE override. hyrun only spawns it
// with the engine's stdio and waits: the delegate forks the container and exits, so the container is
// re-parented to the engine's subreaper (shim/conmon), never kept as a child of hyrun.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path';
import { constants as osConstants } from 'node:os';
import type { DelegateInfo } from '../handlers/types.js';
import { OciError } from '../oci/errors.js';
import type { LogFormat } from './log.js';

/** Global flags, as given before the command. */
export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug: boolean;
  systemdCgroup: boolean;
  cgroupManager?: string;
  rootless?: string;
  /** --delegate, else HYRUN_DELEGATE. */
  delegate?: string;
}

const isExecutable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return !isDirectory(p);
  } catch {
    return false;
  }
};
const isDirectory = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

function which(name: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? resolve(name) : undefined;
  const dirs = (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter);
  for (const d of [...dirs, '/usr/sbin', '/sbin']) {
    if (!d || !isAbsolute(d)) continue;
    const p = join(d, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function kindOf(path: string): DelegateInfo['kind'] {
  const b = basename(path);
  if (b.includes('crun')) return 'crun';
  if (b.includes('runc')) return 'runc';
  return 'other';
}

/** Delegate info whose `version` is asked from the binary only when someone reads it. */
export function delegateInfo(path: string, kind: DelegateInfo['kind'] = kindOf(path)): DelegateInfo {
  let probed: { version: string; features: string } | undefined;
  const probe = (): { version: string; features: string } => {
    if (probed === undefined) {
      const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
      probed = r.status === 0 ? versionLines(String(r.stdout)) : { version: '', features: '' };
    }
    return probed;
  };
  return {
    path,
    kind,
    get version() { return probe().version; },
    get features() { return probe().features; },
  };
}

/** The first line of `--version` and crun's features line (`+SYSTEMD +SECCOMP …`, '' if none). */
function versionLines(out: string): { version: string; features: string } {
  const lines = out.split('\n').map((l) => l.trim());
  return { version: lines[0] ?? '', features: lines.find((l) => l.startsWith('+')) ?? '' };
}

/**
 * crun (1.8.x) refuses "hybrid" cgroup setups: cgroup v1 mounted at /sys/fs/cgroup while the unified
 * (v2) hierarchy at /sys/fs/cgroup/unified holds controllers. runc copes. (scripts/prepare-host.sh
 * frees the controller on our test machines.) Reading two files is cheaper than a trial container.
 */
export function crunRefusesCgroups(): boolean {
  try {
    const controllers = readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim();
    return controllers !== '';
  } catch {
    return false;
  }
}

/**
 * `crun --version`, remembered under hyrun's root for this exact binary (inode, size, mtime): the
 * probe costs every create a process spawn (~5-10 ms), and the answer only changes with the binary.
 * Returns the first line, or undefined when crun does not run.
 */
function crunVersion(crun: string, root: string | undefined): { version: string; features: string } | undefined {
  let id: string | undefined;
  const cache = root ? join(root, `@probe-${basename(crun)}`) : undefined;
  try {
    const st = statSync(crun, { bigint: true });
    id = `${crun} ${st.ino} ${st.size} ${st.mtimeNs}`;
    if (cache) {
      const [cachedId, version, features] = readFileSync(cache, 'utf8').split('\n');
      if (cachedId === id && version && features !== undefined && features.startsWith('features ')) {
        return { version, features: features.slice('features '.length) };
      }
    }
  } catch {
    // no cache yet (or no binary: the probe says so)
  }
  const r = spawnSync(crun, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return undefined;
  const probed = versionLines(String(r.stdout));
  if (cache && id) {
    try {
      mkdirSync(root!, { recursive: true, mode: 0o700 });
      writeFileSync(`${cache}.${process.pid}`, `${id}\n${probed.version}\nfeatures ${probed.features}\n`);
      renameSync(`${cache}.${process.pid}`, cache);
    } catch {
      // an unwritable root: probe again next time
    }
  }
  return probed;
}

/**
 * Pick the delegate for a new container (later commands use the one recorded at create). `root`
 * (hyrun's --root) lets the crun probe be remembered.
 */
export function resolveDelegate(override: string | undefined, root?: string): DelegateInfo {
  if (override) {
    const p = which(override);
    if (!p) {
      throw new OciError(`delegate runtime ${override} not found or not executable (from --delegate/HYRUN_DELEGATE): point it at a crun or runc binary`);
    }
    return delegateInfo(p);
  }
  const crun = which('crun');
  if (crun && !crunRefusesCgroups()) {
    const probed = crunVersion(crun, root);
    if (probed !== undefined) {
      const d = delegateInfo(crun, 'crun');
      // Known now: ociVersionFor and the Wasm handler read them without another spawn.
      Object.defineProperty(d, 'version', { value: probed.version });
      Object.defineProperty(d, 'features', { value: probed.features });
      return d;
    }
  }
  const runc = which('runc');
  if (runc) return delegateInfo(runc, 'runc');
  if (crun) {
    throw new OciError('crun cannot run containers on this host (hybrid cgroups) and runc is not installed: install runc or run scripts/prepare-host.sh');
  }
  throw new OciError('no OCI runtime to delegate to: install crun or runc, or set HYRUN_DELEGATE to one');
}

/** The delegate for a recorded container: the same binary as at create. */
export function recordedDelegate(path: string, kind: DelegateInfo['kind']): DelegateInfo {
  if (!isExecutable(path)) throw new OciError(`delegate runtime ${path} (used to create this container) is missing: reinstall it`);
  return delegateInfo(path, kind);
}

/** The delegate's own --root: a dir under hyrun's root whose name ("@crun") can never be a container id. */
export const delegateRoot = (root: string, d: DelegateInfo): string => join(root, '@' + basename(d.path));

/** Global flags for the delegate, translated where runc and crun differ. */
export function delegateGlobalArgs(o: GlobalOptions, d: DelegateInfo): string[] {
  const a = ['--root', delegateRoot(o.root, d)];
  if (o.log) a.push('--log', o.log);
  if (o.log || o.logFormat === 'json') a.push('--log-format', o.logFormat);
  if (o.debug) a.push('--debug');
  let systemd = o.systemdCgroup;
  if (o.cgroupManager !== undefined) {
    // runc has no --cgroup-manager: "systemd" is its --systemd-cgroup; cgroupfs is its default;
    // "disabled" (Podman, containers without cgroups) has no runc equivalent and is dropped.
    if (d.kind === 'runc') systemd ||= o.cgroupManager === 'systemd';
    else a.push(`--cgroup-manager=${o.cgroupManager}`);
  }
  if (systemd) a.push('--systemd-cgroup');
  if (o.rootless !== undefined) a.push(`--rootless=${o.rootless}`);
  return a;
}

export interface DelegateRun {
  /** Exit code, or 128+signal if the delegate died of a signal. */
  code: number;
  stdout: string;
}

export interface RunOptions {
  /** Collect stdout instead of inheriting it. */
  capture?: boolean;
  /** Number of extra fds (3..3+N-1) the delegate inherits (--preserve-fds). */
  preserveFds?: number;
  /** Forward hyrun's termination signals to the delegate (foreground run/exec). */
  forwardSignals?: boolean;
  /** Discard the delegate's stdout/stderr (best-effort cleanup calls). */
  quiet?: boolean;
}

let debugSink: ((msg: string) => void) | undefined;
/** With --debug, every delegate command line is reported here (the CLI points it at its logger). */
export function setDebugSink(f: ((msg: string) => void) | undefined): void {
  debugSink = f;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export function runDelegate(o: GlobalOptions, d: DelegateInfo, args: string[], r: RunOptions = {}): Promise<DelegateRun> {
  const stdio: (number | 'inherit' | 'pipe' | 'ignore')[] = r.quiet
    ? ['ignore', 'ignore', 'ignore']
    : ['inherit', r.capture ? 'pipe' : 'inherit', 'inherit'];
  for (let i = 0; i < (r.preserveFds ?? 0); i++) stdio.push(3 + i);
  // Best-effort (quiet) calls must not add lines to the engine's log after the real error.
  const globals = delegateGlobalArgs(r.quiet ? { ...o, log: undefined } : o, d);
  debugSink?.(`delegate: ${d.path} ${[...globals, ...args].join(' ')}`);
  const child = spawn(d.path, [...globals, ...args], { stdio });
  const out: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  const handlers: [NodeJS.Signals, () => void][] = [];
  if (r.forwardSignals) {
    for (const s of FORWARDED) {
      const h = () => { child.kill(s); };
      process.on(s, h);
      handlers.push([s, h]);
    }
  }
  return new Promise((resolvePromise, reject) => {
    child.on('error', (e) => {
      for (const [s, h] of handlers) process.off(s, h);
      reject(new OciError(`cannot start delegate runtime ${d.path}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      const c = code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1);
      resolvePromise({ code: c, stdout: Buffer.concat(out).toString('utf8') });
    });
  });
}
