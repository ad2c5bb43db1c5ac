// The OCI runtime config for `hyrun run IMAGE`: the image's Entrypoint, Cmd, Env, WorkingDir, User,
// StopSignal and manifest annotations, overridden by the command line, on a conventional Linux
// container skeleton (the mounts and namespaces runc's own `spec` writes).
import { readFileSync } from 'node:fs';
import type { OciMount, OciSpec } from '../oci/spec.js';
import { ImageError } from './errors.js';
import { WASM_VARIANT, type ImageConfig, type Manifest } from './media.js';
import { artifactModuleName, isWasmArtifact, resolveInRoot } from './unpack.js';

export interface RunSettings {
  /** ARGS after IMAGE (replace Cmd). */
  args: string[];
  entrypoint?: string[];
  env: string[];
  workdir?: string;
  user?: string;
  annotations: Record<string, string>;
  volumes: { host: string; container: string; readonly: boolean }[];
  memoryBytes?: number;
  terminal: boolean;
  hostname: string;
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const WASM_OSES = ['wasi', 'wasip1', 'wasip2', 'wasm'];

/** A Wasm image: a Wasm artifact, a wasi/wasm platform, or the variant annotation. */
export function isWasmImage(manifest: Manifest, config: ImageConfig): boolean {
  return isWasmArtifact(manifest) || WASM_OSES.includes(config.os) || config.architecture === 'wasm'
    || ['compat', 'compat-smart'].includes(manifest.annotations?.[WASM_VARIANT] ?? '');
}

/** The argv the image asks for, after the command line's overrides. */
export function processArgs(manifest: Manifest, config: ImageConfig, settings: Pick<RunSettings, 'args' | 'entrypoint'>): string[] {
  if (isWasmArtifact(manifest)) return [`/${artifactModuleName(manifest)}`, ...settings.args];
  const entrypoint = settings.entrypoint ?? config.config?.Entrypoint ?? [];
  const cmd = settings.args.length > 0 ? settings.args : settings.entrypoint ? [] : config.config?.Cmd ?? [];
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (argv.length === 0) throw new ImageError('the image has no Entrypoint or Cmd and no command was given: write hyrun run IMAGE COMMAND [ARGS...]');
  return argv;
}

/** Env: the image's, then -e/--env-file (later wins), PATH defaulted as engines do. */
export function mergeEnv(config: ImageConfig, extra: string[]): string[] {
  const env = new Map<string, string>();
  for (const e of [...(config.config?.Env ?? []), ...extra]) {
    const eq = e.indexOf('=');
    env.set(eq < 0 ? e : e.slice(0, eq), e);
  }
  return [...env.values()];
}

/** USER as uid/gid: numbers, or names looked up in the image's /etc/passwd and /etc/group. */
export function resolveUser(rootfs: string, user: string | undefined): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 };
  const [u, g] = user.split(':', 2);
  const read = (file: string): string[][] => {
    try {
      return readFileSync(resolveInRoot(rootfs, file.split('/'), true), 'utf8').split('\n').map((l) => l.split(':'));
    } catch {
      return [];
    }
  };
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(u)) uid = Number(u);
  else {
    const line = read('etc/passwd').find((f) => f[0] === u);
    if (!line) throw new ImageError(`user ${JSON.stringify(u)} is not in the image's /etc/passwd; give a numeric --user UID[:GID]`);
    uid = Number(line[2]);
    gid = Number(line[3]);
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const line = read('etc/group').find((f) => f[0] === g);
      if (!line) throw new ImageError(`group ${JSON.stringify(g)} is not in the image's /etc/group; give a numeric --user UID:GID`);
      gid = Number(line[2]);
    }
  }
  return { uid, gid: gid ?? (/^\d+$/.test(u) ? uid : 0) };
}

const CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

/** The config for a container whose rootfs will be `rootfs`; user names are read from `lookupRootfs`. */
export function ociConfig(rootfs: string, manifest: Manifest, config: ImageConfig, s: RunSettings, lookupRootfs = rootfs): OciSpec {
  const wasm = isWasmImage(manifest, config);
  const annotations: Record<string, string> = { ...(manifest.annotations ?? {}), ...s.annotations };
  // A Wasm image without the variant annotation (platform wasi/wasm, artifacts): say it, so the
  // runtime's detection needs no guess.
  if (wasm && annotations[WASM_VARIANT] === undefined && annotations['run.oci.handler'] === undefined) annotations[WASM_VARIANT] = 'compat';
  const env = mergeEnv(config, s.env);
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  if (s.terminal && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ...s.volumes.map((v) => ({ destination: v.container, type: 'bind', source: v.host, options: ['rbind', v.readonly ? 'ro' : 'rw'] })),
  ];
  const resources: Record<string, unknown> = { devices: [{ allow: false, access: 'rwm' }] };
  if (s.memoryBytes !== undefined) resources.memory = { limit: s.memoryBytes };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: s.terminal,
      user: resolveUser(lookupRootfs, s.user ?? config.config?.User),
      args: processArgs(manifest, config, s),
      env,
      cwd: s.workdir ?? (config.config?.WorkingDir || '/'),
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: false },
    hostname: s.hostname,
    mounts,
    annotations,
    linux: {
      // No network namespace: hyrun has no network plumbing, so containers share the host's (like --network host).
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      resources,
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

