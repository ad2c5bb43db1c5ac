// `hyrun install ENGINE [--config PATH] [--name hyrun] [--prefix DIR] [--dry-run] [--uninstall] [--restart]`
// Puts hyrun under PREFIX (prefix.ts), then configures the engine to use that copy through a
// drop-in file (and, for containerd, one `imports` entry in the main config). Every file it changes
// is recorded with its previous content, so --uninstall restores them byte for byte.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONTAINERD_CONFIG, onHost, planContainerd, withoutContainerdRuntime } from './containerd.js';
import { CRIO_CONFIG, planCrio } from './crio.js';
import { EngineError } from './errors.js';
import { applyChanges, changed, checkWritable, diffOf, readIfExists, sha256, type FileChange } from './files.js';
import { PODMAN_CONFIG, planPodman } from './podman.js';
import { installPrefix, layout, planPrefix, removePrefix, type Layout } from './prefix.js';

export const ENGINES = ['containerd', 'crio', 'podman'] as const;
export type Engine = (typeof ENGINES)[number];

export const DEFAULT_CONFIG: Record<Engine, string> = { containerd: CONTAINERD_CONFIG, crio: CRIO_CONFIG, podman: PODMAN_CONFIG };
/** The shim's / CRI-O's --root base for hyrun's runtime: apart from runc's, so neither lists the other's state. */
const RUNTIME_ROOT: Record<Engine, string> = { containerd: '/run/containerd/hyrun', crio: '/run/hyrun-crio', podman: '' };

export interface InstallOptions {
  engine: Engine;
  config: string;
  name: string;
  prefix: string;
  dryRun: boolean;
  uninstall: boolean;
  restart: boolean;
  /** --host-root: the node's root filesystem mounted here (the installer DaemonSet's /host). */
  hostRoot: string;
}

interface RecordFile { path: string; original: string | null; written: string | null }
interface InstallRecord { engine: Engine; name: string; config: string; files: RecordFile[]; dirs: string[] }

export function parseInstallArgs(argv: string[]): InstallOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        config: { type: 'string' }, name: { type: 'string' }, prefix: { type: 'string' },
        'dry-run': { type: 'boolean' }, uninstall: { type: 'boolean' }, restart: { type: 'boolean' }, 'host-root': { type: 'string' },
      },
    });
  } catch (error) {
    throw new EngineError(`install: ${(error as Error).message.split('\n')[0]}; usage: hyrun install containerd|crio|podman [--config PATH] [--name NAME] [--prefix DIR] [--dry-run] [--uninstall] [--restart] [--host-root DIR]`, 2);
  }
  const [engine, ...extra] = parsed.positionals;
  if (engine === undefined) throw new EngineError('install: which engine? hyrun install containerd|crio|podman', 2);
  if (!(ENGINES as readonly string[]).includes(engine)) throw new EngineError(`install: unknown engine "${engine}"; hyrun configures containerd, crio or podman`, 2);
  if (extra.length > 0) throw new EngineError(`install: unexpected argument "${extra[0]}"`, 2);
  const name = parsed.values.name ?? 'hyrun';
  // A RuntimeClass handler must be a DNS label; the same name is used for files, so keep to that.
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
    throw new EngineError(`install: --name "${name}" must be a DNS label (lowercase letters, digits, '-'; at most 63), as a Kubernetes RuntimeClass handler is`, 2);
  }
  return {
    engine: engine as Engine,
    config: parsed.values.config ?? DEFAULT_CONFIG[engine as Engine],
    name,
    prefix: parsed.values.prefix ?? '/usr/local',
    dryRun: parsed.values['dry-run'] ?? false,
    uninstall: parsed.values.uninstall ?? false,
    restart: parsed.values.restart ?? false,
    hostRoot: parsed.values['host-root'] ?? '/',
  };
}

const recordPath = (l: Layout, o: InstallOptions): string => join(l.records, `${o.engine}-${o.name}.json`);

function readRecord(path: string): InstallRecord | undefined {
  const text = readIfExists(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as InstallRecord;
  } catch {
    throw new EngineError(`${path} (hyrun's install record) is not valid JSON; remove the engine's hyrun drop-in by hand, then delete it`);
  }
}

function writeRecord(path: string, record: InstallRecord): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

function planEngine(o: InstallOptions, l: Layout, owned: boolean): { changes: FileChange[]; notes: string[] } {
  // What the engine will run, as the node sees it (not under --host-root).
  const view = layout(o.prefix);
  const binary = view.bin;
  const hostRoot = o.hostRoot;
  switch (o.engine) {
    case 'containerd': {
      const p = planContainerd(o.config, { name: o.name, binary, root: RUNTIME_ROOT.containerd, owned, hostRoot });
      return { changes: p.changes, notes: [`containerd config version ${p.version}; runtime "${o.name}" in ${p.dropIn}${p.version === 2 ? ' (containerd 1.x replaces a whole plugin section from an imported file, so version 2 configs get the runtime in the main file)' : ''}`] };
    }
    case 'crio': {
      const p = planCrio(o.config, { name: o.name, binary, wasmBinary: view.wasmBin, root: RUNTIME_ROOT.crio, hostRoot });
      return { changes: p.changes, notes: [`CRI-O runtime "${o.name}" in ${p.dropIn}`] };
    }
    case 'podman': {
      const p = planPodman(o.config, { name: o.name, binary, wasmBinary: view.wasmBin, hostRoot });
      return { changes: p.changes, notes: [`Podman runtimes "${o.name}" and "${o.name}-wasm" in ${p.dropIn}`, ...p.notes] };
    }
  }
}

const out = (line: string): void => { process.stdout.write(`${line}\n`); };

function restartHint(engine: Engine): string {
  if (engine === 'podman') return 'Podman reads its configuration on every command: nothing to restart';
  const unit = engine === 'crio' ? 'crio' : 'containerd';
  return `restart ${unit} to load it: systemctl restart ${unit}`;
}

function restartEngine(engine: Engine, hostRoot = '/'): number {
  if (engine === 'podman') { out(restartHint(engine)); return 0; }
  const unit = engine === 'crio' ? 'crio' : 'containerd';
  if (hostRoot !== '/') {
    // From the installer's container (hostPID): systemctl in the node's namespaces.
    if (!existsSync(join(hostRoot, 'run/systemd/system'))) {
      out(`the node does not run systemd: restart ${unit} the way it is started there (its configuration was written)`);
      return 0;
    }
    const r = spawnSync('nsenter', ['--target', '1', '--mount', '--uts', '--ipc', '--net', '--pid', '--', 'systemctl', 'restart', unit], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new EngineError(`restarting ${unit} on the node failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n')[0]}; the configuration is written`);
    out(`restarted ${unit} on the node`);
    return 0;
  }
  if (!existsSync('/run/systemd/system')) {
    out(`no systemd here: restart ${unit} the way it is started on this machine (its configuration was written)`);
    return 0;
  }
  const r = spawnSync('systemctl', ['restart', unit], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new EngineError(`systemctl restart ${unit} failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}; the configuration is written, check it with hyrun doctor`);
  out(`restarted ${unit}`);
  return 0;
}

export function install(o: InstallOptions): number {
  const prefixPlan = planPrefix(onHost(o.hostRoot, o.prefix));
  const l = prefixPlan.layout;
  const recordFile = recordPath(l, o);
  const record = readRecord(recordFile);
  const { changes, notes } = planEngine(o, l, record !== undefined);
  const pending = changes.filter(changed);
  if (o.dryRun) {
    for (const s of prefixPlan.steps) out(`would ${s}`);
    process.stdout.write(diffOf(pending));
    if (pending.length === 0 && prefixPlan.upToDate) out(`hyrun is already installed for ${o.engine} (runtime "${o.name}"): nothing would change`);
    return 0;
  }
  if (pending.length === 0 && prefixPlan.upToDate && record) {
    out(`hyrun is already installed for ${o.engine} (runtime "${o.name}", ${l.bin}): nothing changed`);
    return 0;
  }
  checkWritable(pending);
  const hadCopy = existsSync(l.current);
  installPrefix(prefixPlan);
  try {
    applyChanges(pending);
  } catch (error) {
    if (!hadCopy) removePrefix(l);
    throw error;
  }
  // The first install's originals are what --uninstall restores; later runs only add files.
  const files = new Map((record?.files ?? []).map((f) => [f.path, f] as const));
  for (const c of changes) {
    const prior = files.get(c.path);
    files.set(c.path, { path: c.path, original: prior ? prior.original : c.before ?? null, written: c.after === undefined ? null : sha256(c.after) });
  }
  const dirs = [...new Set([...(record?.dirs ?? []), ...changes.flatMap((c) => c.createsDirs ?? [])])];
  writeRecord(recordFile, { engine: o.engine, name: o.name, config: o.config, files: [...files.values()], dirs });
  for (const s of prefixPlan.steps) out(s);
  for (const c of pending) out(`wrote ${c.path}`);
  for (const n of notes) out(n);
  if (o.restart) return restartEngine(o.engine, o.hostRoot);
  out(restartHint(o.engine));
  return 0;
}

export function uninstall(o: InstallOptions): number {
  const l = layout(onHost(o.hostRoot, o.prefix));
  const recordFile = recordPath(l, o);
  const record = readRecord(recordFile);
  if (!record) throw new EngineError(`nothing to uninstall: no hyrun install for ${o.engine} (runtime "${o.name}") is recorded under ${l.records}`);
  const restore: FileChange[] = [];
  const kept: string[] = [];
  for (const f of record.files) {
    const now = readIfExists(f.path);
    const after = f.original ?? undefined;
    if (now === after) continue;
    if ((now === undefined ? null : sha256(now)) !== f.written) {
      // Changed since (an operator's edit): take out only hyrun's part, keeping theirs.
      const edited = now !== undefined && record.engine === 'containerd' && f.original !== null ? withoutContainerdRuntime(now, f.path, record.name) : undefined;
      if (edited !== undefined && edited !== now) restore.push({ path: f.path, before: now, after: edited });
      else if (edited === undefined) kept.push(f.path);
      continue;
    }
    restore.push({ path: f.path, before: now, after });
  }
  if (o.dryRun) {
    process.stdout.write(diffOf(restore));
    for (const k of kept) out(`would leave ${k} alone: it changed since hyrun installed it`);
    return 0;
  }
  applyChanges(restore);
  for (const d of [...record.dirs].reverse()) {
    try {
      if (existsSync(d) && readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      // in use by something else: keep
    }
  }
  rmSync(recordFile, { force: true });
  for (const c of restore) out(c.after === undefined ? `removed ${c.path}` : `restored ${c.path}`);
  for (const k of kept) out(`left ${k} alone: it changed since hyrun installed it; remove hyrun's part by hand`);
  for (const r of removePrefix(l)) out(`removed ${r}`);
  if (o.restart) return restartEngine(o.engine, o.hostRoot);
  out(restartHint(o.engine));
  return kept.length > 0 ? 1 : 0;
}

export function runInstall(argv: string[]): number {
  const o = parseInstallArgs(argv);
  return o.uninstall ? uninstall(o) : install(o);
}

/** Records of engine installs under a prefix (for doctor). */
export function installRecords(prefix: string): InstallRecord[] {
  const l = layout(prefix);
  if (!existsSync(l.records)) return [];
  return readdirSync(l.records).filter((f) => f.endsWith('.json')).flatMap((f) => {
    try {
      return [JSON.parse(readFileSync(join(l.records, f), 'utf8')) as InstallRecord];
    } catch {
      return [];
    }
  });
}
