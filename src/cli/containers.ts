// `hyrun run IMAGE` and its containers (ps, logs, stop, rm). A container is a directory under
// <store>/containers/<id>: record.json, rootfs/ (a copy of the image's snapshot), config.json (the
// OCI bundle) and, when detached, its log. It runs one of two ways:
//   oci       through hyrun's own OCI runtime (`hyrun run --bundle`), when root and crun/runc are there;
//   embedded  a Wasm image on the WASI sandbox alone, the rootfs preopened as `/` (nothing but hyrun needed).
// A Linux image without the OCI path gets one line naming what to install.
import { nodeCommand } from '../runtime/self-node.js';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync, cpSync, existsSync, lchownSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, readSync, fstatSync,
} from 'node:fs';
import type { Server, Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { ImageError } from '../image/errors.js';
import { isWasmImage, ociConfig, mergeEnv, processArgs, type RunSettings } from '../image/container-config.js';
import { parsePlatform } from '../image/resolve.js';
import type { Store } from '../image/store.js';
import { resolveInRoot, snapshot } from '../image/unpack.js';
import { UsageError } from './errors.js';
import { openStore, parse } from './image.js';

export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  imageDigest: string;
  created: string;
  command: string[];
  mode: 'oci' | 'embedded';
  status: 'created' | 'running' | 'exited';
  pid?: number;
  exitCode?: number;
  finished?: string;
  rm: boolean;
  detached: boolean;
  stopSignal: string;
  /** OCI mode: `-p HOST:CONTAINER` with different ports, forwarded by the supervising process. */
  forwards?: PortForward[];
  /** The supervising process (the foreground `hyrun run`, or `hyrun __supervise`). */
  supervisor?: number;
  /** Embedded mode: what the executor is given. */
  wasm?: { module: string; args: string[]; env: string[]; preopens: { hostPath: string; guestPath: string; readOnly?: boolean; mountOnly?: boolean }[]; memoryLimit?: number; tcpListen?: string[] };
  interactive: boolean;
}

/** `-p [IP:]HOST:CONTAINER`. */
interface PortForward { ip: string; host: number; container: number }

const containersDir = (store: Store): string => join(store.root, 'containers');
const ociRoot = (store: Store): string => join(store.root, 'containers', '.oci');
const dirOf = (store: Store, id: string): string => join(containersDir(store), id);
const hyrunEntry = (): string => process.argv[1];

function readRecord(store: Store, id: string): ContainerRecord {
  return JSON.parse(readFileSync(join(dirOf(store, id), 'record.json'), 'utf8')) as ContainerRecord;
}

function writeRecord(store: Store, r: ContainerRecord): void {
  const file = join(dirOf(store, r.id), 'record.json');
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(r, null, 2));
  renameSync(tmp, file);
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function allRecords(store: Store): ContainerRecord[] {
  if (!existsSync(containersDir(store))) return [];
  const out: ContainerRecord[] = [];
  for (const id of readdirSync(containersDir(store))) {
    if (id.startsWith('.')) continue;
    try {
      const r = readRecord(store, id);
      if (r.status === 'running' && !alive(r.pid)) r.status = 'exited';
      out.push(r);
    } catch {
      // being created or removed
    }
  }
  return out.sort((a, b) => (a.created < b.created ? 1 : -1));
}

function findContainer(store: Store, text: string): ContainerRecord {
  const all = allRecords(store);
  const hits = all.filter((r) => r.name === text || r.id === text);
  if (hits.length === 0 && /^[a-f0-9]{3,64}$/.test(text)) hits.push(...all.filter((r) => r.id.startsWith(text)));
  if (hits.length === 0) throw new ImageError(`no container ${text}; see 'hyrun ps -a'`);
  if (hits.length > 1) throw new ImageError(`${text} matches ${hits.length} containers; give more of the ID`);
  return hits[0];
}

/** `--memory`/`-m`: bytes or K/M/G (binary). */
function parseSize(text: string): number {
  const m = /^(\d+)\s*([kmg]?)(i?b?)$/i.exec(text.trim());
  if (!m) throw new UsageError(`--memory '${text}' is not a size; write e.g. 64m, 512MiB, 1g`);
  return Number(m[1]) * 1024 ** ['', 'k', 'm', 'g'].indexOf(m[2].toLowerCase());
}

function delegateAvailable(): boolean {
  for (const name of ['crun', 'runc']) {
    if (spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0) return true;
  }
  return false;
}

/** Splits `run` arguments at IMAGE: options before, the container's arguments after. */
function splitAtImage(args: string[], valueFlags: Set<string>): { options: string[]; image?: string; rest: string[] } {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return { options: args.slice(0, i), image: args[i + 1], rest: args.slice(i + 2) };
    if (a.startsWith('-') && a !== '-') {
      if (!a.includes('=') && valueFlags.has(a)) i++;
      continue;
    }
    return { options: args.slice(0, i), image: a, rest: args.slice(i + 1) };
  }
  return { options: args, rest: [] };
}

const RUN_OPTIONS = {
  name: { type: 'string' },
  rm: { type: 'boolean' },
  detach: { type: 'boolean', short: 'd' },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  env: { type: 'string', short: 'e', multiple: true },
  'env-file': { type: 'string', multiple: true },
  volume: { type: 'string', short: 'v', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  annotation: { type: 'string', multiple: true },
  memory: { type: 'string', short: 'm' },
  publish: { type: 'string', short: 'p', multiple: true },
  platform: { type: 'string' },
  entrypoint: { type: 'string' },
  'tls-verify': { type: 'string' },
  pull: { type: 'string' },
  'keep-setid': { type: 'boolean' },
} as const;
const RUN_VALUE_FLAGS = new Set(['--name', '-e', '--env', '--env-file', '-v', '--volume', '-w', '--workdir', '-u', '--user', '--annotation', '-m', '--memory',
  '-p', '--publish', '--platform', '--entrypoint', '--storage', '--pull']);

function readEnvFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`--env-file ${file}: no such file`);
  }
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!line.includes('=')) {
      // `NAME` alone: the value from hyrun's environment, as docker does.
      if (process.env[line] !== undefined) out.push(`${line}=${process.env[line]}`);
      continue;
    }
    out.push(line);
  }
  return out;
}

export async function containerCommand(command: string, args: string[]): Promise<number> {
  switch (command) {
    case 'run': return runCommand(args);
    case 'ps': return psCommand(args);
    case 'logs': return logsCommand(args);
    case 'stop': return stopCommand(args);
    case 'rm': return rmCommand(args);
    case '__supervise': {
      const store = openStore({ storage: args[0] });
      return supervise(store, args[1], false, await receiveListeners(readRecord(store, args[1]).forwards ?? []));
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

async function runCommand(rawArgs: string[]): Promise<number> {
  const args = rawArgs.map((a) => (a === '--tls-verify' ? '--tls-verify=true' : a === '-it' || a === '-ti' ? ['-i', '-t'] : a)).flat();
  const split = splitAtImage(args, RUN_VALUE_FLAGS);
  const { values } = parse('run', split.options, RUN_OPTIONS, false);
  if (!split.image) throw new UsageError('run needs an image: hyrun run [OPTIONS] IMAGE [ARGS...]');
  const store = openStore(values);
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);
  const env = [...strings(values['env-file']).flatMap(readEnvFile), ...strings(values.env).map((e) => {
    if (!e.includes('=')) return process.env[e] !== undefined ? `${e}=${process.env[e]}` : '';
    return e;
  }).filter(Boolean)];
  for (const e of env) if (e.indexOf('=') <= 0) throw new UsageError(`-e '${e}' is not KEY=VALUE`);
  const annotations: Record<string, string> = {};
  for (const kv of strings(values.annotation)) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--annotation '${kv}' is not KEY=VALUE`);
    annotations[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const volumes = strings(values.volume).map((v) => {
    const parts = v.split(':');
    if (parts.length < 2 || parts.length > 3 || !parts[1].startsWith('/') || (parts[2] !== undefined && !['ro', 'rw'].includes(parts[2]))) {
      throw new UsageError(`-v '${v}' is not HOST:CONTAINER[:ro]; the container path must be absolute`);
    }
    const host = resolve(parts[0]);
    if (!existsSync(host)) throw new UsageError(`-v '${v}': ${host} does not exist; create it first`);
    return { host, container: posix.normalize(parts[1]), readonly: parts[2] === 'ro' };
  });
  const ports = strings(values.publish).map((p) => {
    const m = /^(?:([\d.]+):)?(\d{1,5}):(\d{1,5})(?:\/tcp)?$/.exec(p);
    if (!m) throw new UsageError(`-p '${p}' is not [IP:]HOST:CONTAINER (TCP)`);
    return { ip: m[1] ?? '0.0.0.0', host: Number(m[2]), container: Number(m[3]) };
  });
  const memoryBytes = typeof values.memory === 'string' ? parseSize(values.memory) : undefined;
  const platform = typeof values.platform === 'string' ? parsePlatform(values.platform) : undefined;
  const tlsVerify = values['tls-verify'] !== 'false';
  const pullPolicy = (values.pull as string | undefined) ?? 'missing';
  if (!['missing', 'always', 'never'].includes(pullPolicy)) throw new UsageError(`--pull ${pullPolicy}: use missing, always or never`);

  const { findImage } = await import('../image/resolve.js');
  let image = pullPolicy === 'always' ? undefined : findImage(store, split.image, platform);
  if (!image) {
    if (pullPolicy === 'never') throw new ImageError(`no image ${split.image} in the store and --pull never; pull it first`);
    const { pullImage } = await import('../image/registry.js');
    await pullImage(store, split.image, { platform, tlsVerify, log: (l) => process.stderr.write(`${l}\n`) });
    image = findImage(store, split.image, platform);
    if (!image) throw new ImageError(`${split.image} was pulled but is not in the store`);
  }
  const wasm = isWasmImage(image.manifest, image.config);
  const forced = process.env.HYRUN_RUN_MODE;
  const canOci = process.getuid?.() === 0 && delegateAvailable();
  let mode: 'oci' | 'embedded';
  if (forced === 'oci' || forced === 'embedded') mode = forced;
  else mode = canOci ? 'oci' : 'embedded';
  if (mode === 'embedded' && !wasm) {
    throw new ImageError(`${image.stored.name ?? split.image} is a Linux image: running it needs root and crun or runc (apt-get install crun); Wasm images run without them`);
  }
  // OCI mode shares the host's network: the same port on both sides needs nothing; different
  // ports get a forwarder in the supervising process. Its listening sockets are bound now, before
  // anything is created, so a port in use is refused with nothing left behind.
  const forwards = mode === 'oci' ? ports.filter((p) => p.host !== p.container) : [];
  const name = typeof values.name === 'string' ? values.name : undefined;
  if (name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new UsageError(`--name '${name}': use letters, digits, '_', '.', '-'`);
  if (name && allRecords(store).some((r) => r.name === name)) throw new ImageError(`the name ${name} is already used by a container; remove it (hyrun rm ${name}) or choose another`);

  const listeners = await listenAll(forwards);
  const id = randomBytes(32).toString('hex');
  const dir = dirOf(store, id);
  const building = store.tempPath('container');
  let record: ContainerRecord;
  try {
    mkdirSync(containersDir(store), { recursive: true });
    if (values['keep-setid'] === true && process.getuid?.() !== 0) throw new UsageError('--keep-setid needs root: set-id files are only kept for containers root runs');
    const snap = await snapshot(store, image, { keepSetid: values['keep-setid'] === true });
    mkdirSync(building, { recursive: true });
    const rootfs = join(building, 'rootfs');
    // Writes never reach the image's snapshot: as root for the OCI runtime, an overlay on it
    // (mounted once the directory has its final name); otherwise the container's own copy.
    const overlay = mode === 'oci' && process.getuid?.() === 0 && !/[,:]/.test(snap + dir) && process.env.HYRUN_RUN_COPY !== '1';
    if (overlay) {
      for (const d of ['rootfs', 'upper', 'work']) mkdirSync(join(building, d));
    } else copyTree(snap, rootfs);
    const lookupRoot = overlay ? snap : rootfs;
    const settings: RunSettings = {
      args: split.rest, entrypoint: typeof values.entrypoint === 'string' ? [values.entrypoint] : undefined, env,
      workdir: typeof values.workdir === 'string' ? values.workdir : undefined, user: typeof values.user === 'string' ? values.user : undefined,
      annotations, volumes, memoryBytes, terminal: values.tty === true && process.stdin.isTTY === true, hostname: id.slice(0, 12),
    };
    const finalRootfs = join(dir, 'rootfs');
    // Paths in the config are the final ones; --user names are looked up in the copy being built.
    const config = ociConfig(finalRootfs, image.manifest, image.config, settings, lookupRoot);
    writeFileSync(join(building, 'config.json'), JSON.stringify(config, null, 2));
    record = {
      id, name: name ?? `hyrun-${id.slice(0, 12)}`, image: image.stored.name ?? split.image, imageDigest: image.descriptor.digest,
      created: new Date().toISOString(), command: config.process!.args!, mode, status: 'created', rm: values.rm === true,
      detached: values.detach === true, stopSignal: image.config.config?.StopSignal ?? 'SIGTERM', interactive: values.interactive === true,
    };
    if (forwards.length > 0) record.forwards = forwards;
    if (mode === 'embedded') {
      const args0 = processArgs(image.manifest, image.config, settings);
      const envList = config.process!.env!;
      const cwd = config.process!.cwd;
      const module = findModule(lookupRoot, args0[0], cwd, envList);
      record.wasm = {
        module: join(finalRootfs, posix.relative('/', module)),
        args: args0,
        env: mergeEnv({ ...image.config, config: { ...image.config.config, Env: envList } }, []),
        // Volumes are mounted inside `/` (src/wasi/preopen.ts), as in a container: the guest holds
        // only `/`, so every path resolves from there; `:ro` ones refuse every change with EROFS.
        preopens: [{ hostPath: finalRootfs, guestPath: '/' }, ...volumes.map((v) => ({ hostPath: v.host, guestPath: v.container, mountOnly: true, ...(v.readonly ? { readOnly: true } : {}) }))],
        memoryLimit: memoryBytes,
        tcpListen: ports.length > 0 ? ports.map((p) => `${p.ip}:${p.host}`) : undefined,
      };
    }
    if (mode === 'embedded') for (const v of volumes) makeMountPoint(rootfs, v.container);
    writeFileSync(join(building, 'record.json'), JSON.stringify(record, null, 2));
    renameSync(building, dir);
    if (overlay && !mountOverlay(snap, dir)) {
      // No overlayfs here (e.g. the store itself on overlayfs): copy instead.
      rmSync(join(dir, 'upper'), { recursive: true, force: true });
      rmSync(join(dir, 'work'), { recursive: true, force: true });
      rmSync(join(dir, 'rootfs'), { recursive: true, force: true });
      copyTree(snap, join(dir, 'rootfs'));
    }
  } catch (e) {
    for (const l of listeners) l.close();
    rmSync(building, { recursive: true, force: true });
    if (existsSync(dir)) removeContainerDir(dir);
    throw e;
  }

  if (record.detached) {
    const log = openSync(join(dir, 'log'), 'a');
    // The forwarder's listening sockets are inherited by the supervisor as its fds 3, 4, …
    const fds = listeners.map((l) => (l as unknown as { _handle: { fd: number } })._handle.fd);
    const child = spawn(nodeCommand()[0]!, [...nodeCommand().slice(1), hyrunEntry(), '__supervise', store.root, id], { detached: true, stdio: ['ignore', log, log, ...fds] });
    closeSync(log);
    for (const l of listeners) l.close();
    child.unref();
    process.stdout.write(`${id}\n`);
    return 0;
  }
  return supervise(store, id, true, listeners);
}

/** Binds one listening socket per forward, in order; on any failure closes those bound and says which port. */
async function listenAll(forwards: PortForward[]): Promise<Server[]> {
  if (forwards.length === 0) return [];
  const { createServer } = await import('node:net');
  const bound: Server[] = [];
  for (const f of forwards) {
    const server = createServer({ allowHalfOpen: true });
    try {
      await new Promise<void>((res, rej) => {
        server.once('error', rej);
        server.listen({ host: f.ip, port: f.host, exclusive: true }, () => res());
      });
    } catch (e) {
      for (const b of bound) b.close();
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'is in use' : code === 'EACCES' ? 'needs privileges' : code === 'EADDRNOTAVAIL' ? 'is not an address of this machine' : `cannot be bound (${code ?? (e as Error).message})`;
      throw new ImageError(`-p ${f.ip}:${f.host}:${f.container}: port ${f.host} on ${f.ip} ${why}; choose another host port`);
    }
    bound.push(server);
  }
  return bound;
}

/** `__supervise`: the forwarder's listening sockets, inherited from `hyrun run -d` as fds 3, 4, … (in the order of `forwards`). */
async function receiveListeners(forwards: PortForward[]): Promise<Server[]> {
  if (forwards.length === 0) return [];
  const { createServer } = await import('node:net');
  return Promise.all(forwards.map((_, i) => new Promise<Server>((res, rej) => {
    const server = createServer({ allowHalfOpen: true });
    server.once('error', rej);
    server.listen({ fd: 3 + i }, () => res(server));
  })));
}

/**
 * Forwards each connection accepted on `listeners[i]` to 127.0.0.1:forwards[i].container, both
 * directions, half-closes passed on. Returns a function that stops: listeners closed, connections cut.
 */
async function forwardPorts(forwards: PortForward[], listeners: Server[]): Promise<() => void> {
  if (listeners.length === 0) return () => {};
  const { connect } = await import('node:net');
  const open = new Set<Socket>();
  listeners.forEach((server, i) => {
    server.on('connection', (client: Socket) => {
      const upstream = connect({ host: '127.0.0.1', port: forwards[i].container, allowHalfOpen: true });
      open.add(client);
      open.add(upstream);
      const cut = (): void => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
      client.on('error', cut);
      upstream.on('error', cut);
      let ended = 0;
      const halfDone = (): void => { if (++ended === 2) cut(); };
      client.on('end', halfDone);
      upstream.on('end', halfDone);
      client.on('close', cut);
      upstream.on('close', cut);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  return () => {
    for (const s of listeners) s.close();
    for (const c of open) c.destroy();
    open.clear();
  };
}

const MOUNT_BINS = { mount: ['/usr/bin/mount', '/bin/mount'], umount: ['/usr/bin/umount', '/bin/umount'] };
const tool = (name: keyof typeof MOUNT_BINS): string | undefined => MOUNT_BINS[name].find((p) => existsSync(p));

/** Mounts <dir>/rootfs as an overlay of the snapshot (writes go to <dir>/upper); false when it cannot. */
function mountOverlay(snap: string, dir: string): boolean {
  const mount = tool('mount');
  if (!mount) return false;
  const r = spawnSync(mount, ['-t', 'overlay', 'overlay', '-o', `lowerdir=${snap},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, join(dir, 'rootfs')], { stdio: 'ignore' });
  return r.status === 0;
}

/** Unmounts the container's overlay if there is one (harmless otherwise). */
function releaseRootfs(dir: string): void {
  const rootfs = join(dir, 'rootfs');
  let mounted = false;
  try {
    // A mount point lives on another device than its parent directory.
    mounted = statSync(rootfs).dev !== statSync(dir).dev;
  } catch {
    return;
  }
  if (!mounted) return;
  const umount = tool('umount');
  if (umount) spawnSync(umount, [rootfs], { stdio: 'ignore' });
}

/** Removes a container directory, its overlay unmounted first (never deleting through the mount). */
function removeContainerDir(dir: string): void {
  releaseRootfs(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Copies a snapshot for one container: coreutils' cp -a (owners, modes, times, links; reflinks where
 * the filesystem has them) when there is one, else node's cpSync (owners copied when root).
 */
function copyTree(from: string, to: string): void {
  const cpBin = ['/usr/bin/cp', '/bin/cp'].find((p) => existsSync(p));
  if (cpBin) {
    const cp = spawnSync(cpBin, ['-a', '--reflink=auto', from, to], { encoding: 'utf8' });
    if (cp.status === 0) return;
    rmSync(to, { recursive: true, force: true });
    if (!cp.error) throw new ImageError(`cannot copy the image's files for the container: ${String(cp.stderr).trim()}`);
  }
  cpSync(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  if (process.getuid?.() === 0) {
    const walk = (src: string, dst: string): void => {
      const st = lstatSync(src);
      lchownSync(dst, st.uid, st.gid);
      if (st.isDirectory()) for (const n of readdirSync(src)) walk(join(src, n), join(dst, n));
    };
    walk(from, to);
  }
}

/**
 * The directories of a volume's container path in the container's own copy of the rootfs (as a
 * runtime creates mount points), so the guest reaches the volume through `/` too. Stops at
 * anything that is not a directory: the volume is then reached through its own preopen only.
 */
function makeMountPoint(rootfs: string, container: string): void {
  let at = rootfs;
  for (const c of container.split('/').filter((x) => x !== '' && x !== '.')) {
    at = join(at, c);
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (st === undefined) mkdirSync(at, { mode: 0o755 });
    else if (!st.isDirectory()) return;
  }
}

/** args[0] inside the rootfs: absolute; a bare name through PATH then cwd; else relative to cwd (as the Wasm handler does). */
function findModule(rootfs: string, arg0: string, cwd: string, env: string[]): string {
  const candidates: string[] = [];
  if (arg0.startsWith('/')) candidates.push(arg0);
  else {
    if (!arg0.includes('/')) {
      const path = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
      for (const d of path.split(':')) if (d.startsWith('/')) candidates.push(posix.join(d, arg0));
    }
    candidates.push(posix.join(cwd, arg0));
  }
  for (const c of candidates) {
    const host = resolveInRoot(rootfs, c.split('/'), true);
    try {
      if (statSync(host).isFile()) return `/${posix.relative(rootfs, host)}`;
    } catch {
      // next
    }
  }
  throw new ImageError(`${arg0}: no such module in the image; check the image's Entrypoint/Cmd`, 127);
}

/** Runs a recorded container to its end; records the exit status; removes it when --rm. */
async function supervise(store: Store, id: string, foreground: boolean, listeners: Server[] = []): Promise<number> {
  const record = readRecord(store, id);
  const dir = dirOf(store, id);
  const stopForwarding = await forwardPorts(record.forwards ?? [], listeners);
  const finish = (code: number): number => {
    stopForwarding();
    const r = readRecord(store, id);
    r.status = 'exited';
    r.exitCode = code;
    r.finished = new Date().toISOString();
    writeRecord(store, r);
    if (r.mode === 'oci') releaseRootfs(dir);
    if (r.rm) {
      if (r.mode === 'oci') spawnSync(nodeCommand()[0]!, [...nodeCommand().slice(1), hyrunEntry(), '--root', ociRoot(store), 'delete', '--force', id], { stdio: 'ignore' });
      removeContainerDir(dir);
    }
    return code;
  };
  if (record.mode === 'oci') {
    const child = spawn(nodeCommand()[0]!, [...nodeCommand().slice(1), hyrunEntry(), '--root', ociRoot(store), 'run', '--bundle', dir, id], {
      stdio: [foreground && record.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'],
    });
    record.status = 'running';
    record.pid = child.pid;
    record.supervisor = process.pid;
    writeRecord(store, record);
    // Signals to a foreground run reach the container (the runtime's run forwards them).
    const forward = (sig: NodeJS.Signals): void => { child.kill(sig); };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, forward);
    const code = await new Promise<number>((res) => child.on('exit', (c, s) => res(c ?? 128 + (s ? osConstants.signals[s] : 9))));
    return finish(code);
  }
  // Embedded: the executor runs here; this process is the container.
  const spec = record.wasm!;
  record.status = 'running';
  record.pid = process.pid;
  writeRecord(store, record);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1'] as const) {
    process.on(sig, () => process.exit(finish(128 + osConstants.signals[sig]) & 0xff));
  }
  const { runWasm, LaunchError } = await import('../wasm/executor.js');
  const stdin = record.interactive && foreground ? 0 : openSync('/dev/null', 'r');
  let code: number;
  try {
    // On the worker thread: this process handles the stop signal itself (it records the status), and
    // a JS handler cannot run while the main thread is inside a busy guest.
    code = await runWasm({ ...spec, hiddenPaths: [] }, { stdio: [stdin, 1, 2], thread: 'worker' });
  } catch (e) {
    if (!(e instanceof LaunchError)) throw e;
    process.stderr.write(`hyrun: ${e.message}\n`);
    code = e.exitCode;
  }
  process.exit(finish(code) & 0xff);
}

function psCommand(args: string[]): number {
  const { values } = parse('ps', args, { all: { type: 'boolean', short: 'a' }, format: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } }, false);
  const store = openStore(values);
  const rows = allRecords(store).filter((r) => values.all === true || r.status === 'running');
  if (values.format === 'json') {
    process.stdout.write(`${JSON.stringify(rows.map((r) => ({ Id: r.id, Names: [r.name], Image: r.image, ImageDigest: r.imageDigest, Command: r.command, Created: r.created, State: r.status, ExitCode: r.exitCode, Mode: r.mode, Pid: r.status === 'running' ? r.pid : 0 })), null, 2)}\n`);
    return 0;
  }
  if (values.quiet) {
    process.stdout.write(rows.map((r) => `${r.id.slice(0, 12)}\n`).join(''));
    return 0;
  }
  const table = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'STATUS', 'MODE', 'NAMES'], ...rows.map((r) => [
    r.id.slice(0, 12), r.image, JSON.stringify(r.command.join(' ').slice(0, 30)), r.status === 'exited' ? `Exited (${r.exitCode ?? '?'})` : r.status === 'running' ? 'Up' : 'Created', r.mode, r.name,
  ])];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  process.stdout.write(table.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n') + '\n');
  return 0;
}

async function logsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('logs', args, { follow: { type: 'boolean', short: 'f' } });
  if (positionals.length !== 1) throw new UsageError('logs needs one container: hyrun logs [-f] CONTAINER');
  const store = openStore(values);
  const r = findContainer(store, positionals[0]);
  const file = join(dirOf(store, r.id), 'log');
  if (!existsSync(file)) throw new ImageError(`${r.name} ran in the foreground: its output went to the terminal, no log was kept`);
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(65536);
  let pos = 0;
  const drain = (): void => {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) return;
      pos += n;
      process.stdout.write(buf.subarray(0, n));
    }
  };
  drain();
  while (values.follow === true) {
    const current = readRecordSafe(store, r.id);
    if (!current || current.status === 'exited' || (current.status === 'running' && !alive(current.pid))) {
      drain();
      break;
    }
    await new Promise((res) => setTimeout(res, 100));
    if (fstatSync(fd).size > pos) drain();
  }
  closeSync(fd);
  return 0;
}

function readRecordSafe(store: Store, id: string): ContainerRecord | undefined {
  try {
    return readRecord(store, id);
  } catch {
    return undefined;
  }
}

async function stopContainer(store: Store, r: ContainerRecord, timeoutS: number): Promise<void> {
  if (r.status !== 'running' || !alive(r.pid)) return;
  const signal = (sig: string): void => {
    if (r.mode === 'oci') spawnSync(nodeCommand()[0]!, [...nodeCommand().slice(1), hyrunEntry(), '--root', ociRoot(store), 'kill', r.id, sig.replace(/^SIG/, '')], { stdio: 'ignore' });
    else {
      try { process.kill(r.pid!, sig.startsWith('SIG') ? (sig as NodeJS.Signals) : (`SIG${sig}` as NodeJS.Signals)); } catch { /* gone */ }
    }
  };
  signal(timeoutS === 0 ? 'SIGKILL' : r.stopSignal || 'SIGTERM');
  const deadline = Date.now() + timeoutS * 1000;
  while (alive(r.pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  if (alive(r.pid)) {
    signal('SIGKILL');
    if (r.mode === 'oci') {
      try { process.kill(r.pid!, 'SIGKILL'); } catch { /* gone */ }
    }
    for (let i = 0; i < 100 && alive(r.pid); i++) await new Promise((res) => setTimeout(res, 50));
  }
  // The supervisor outlives the container by its bookkeeping (and closes the -p forwarders): wait for it.
  const supervisor = readRecordSafe(store, r.id)?.supervisor;
  if (supervisor !== undefined && supervisor !== process.pid) for (let i = 0; i < 100 && alive(supervisor); i++) await new Promise((res) => setTimeout(res, 50));
  // The supervisor records the exit status; a SIGKILLed embedded one cannot: say it here.
  const now = readRecordSafe(store, r.id);
  if (now && now.status === 'running') {
    now.status = 'exited';
    now.exitCode ??= 137;
    now.finished = new Date().toISOString();
    writeRecord(store, now);
    if (now.rm) removeContainerDir(dirOf(store, r.id));
  }
}

async function stopCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('stop', args, { time: { type: 'string', short: 't' } });
  if (positionals.length === 0) throw new UsageError('stop needs a container: hyrun stop [-t SECONDS] CONTAINER...');
  const t = typeof values.time === 'string' ? Number(values.time) : 10;
  if (!Number.isInteger(t) || t < 0) throw new UsageError(`stop: -t ${String(values.time)} is not a number of seconds`);
  const store = openStore(values);
  for (const p of positionals) {
    const r = findContainer(store, p);
    await stopContainer(store, r, t);
    process.stdout.write(`${p}\n`);
  }
  return 0;
}

async function rmCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('rm', args, { force: { type: 'boolean', short: 'f' } });
  if (positionals.length === 0) throw new UsageError('rm needs a container: hyrun rm [-f] CONTAINER...');
  const store = openStore(values);
  for (const p of positionals) {
    const r = findContainer(store, p);
    if (r.status === 'running') {
      if (values.force !== true) throw new ImageError(`${r.name} is running; stop it first (hyrun stop ${r.name}) or use rm -f`);
      await stopContainer(store, r, 0);
    }
    if (r.mode === 'oci') spawnSync(nodeCommand()[0]!, [...nodeCommand().slice(1), hyrunEntry(), '--root', ociRoot(store), 'delete', '--force', r.id], { stdio: 'ignore' });
    removeContainerDir(dirOf(store, r.id));
    process.stdout.write(`${p}\n`);
  }
  return 0;
}

