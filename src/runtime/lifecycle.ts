// The OCI lifecycle on top of a delegate: what hyrun adds is detection, the handler's bundle, and
// its own small state; everything that touches namespaces, cgroups and ptys is the delegate's.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { constants as osConstants } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { detect } from '../handlers/detect.js';
import { getHandler } from '../handlers/index.js';
import { randomHex } from '../handlers/lazy-crypto.js';
import type { ContainerRecord, DelegateInfo, Handler } from '../handlers/types.js';
import { HandlerError } from '../handlers/types.js';
import { configForDelegate, loadBundle, parseJsonFile } from '../oci/config.js';
import { notExist, OciError } from '../oci/errors.js';
import type { OciProcess, OciSpec, OciState } from '../oci/spec.js';
import { delegateRoot, recordedDelegate, resolveDelegate, runDelegate, type GlobalOptions } from './delegate.js';
import type { Logger } from './log.js';
import { claimStateDir, listRecordIds, readRecord, removeStateDir, STATE_DIRECT, stateDir, writeRecord, writeReleaseList, writeRoute } from './state.js';

export interface Ctx {
  opts: GlobalOptions;
  log: Logger;
  /** The name hyrun was invoked as (bin/hyrun passes it): `hyrun-wasm` forces Wasm (detect.ts). */
  invokedAs: string;
}

export interface CreateFlags {
  bundle?: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds: number;
}

interface Prepared {
  record: ContainerRecord;
  delegate: DelegateInfo;
  handler: Handler;
  /** Args after the command for `create`/`run`: --bundle … [--config …]. */
  bundleArgs: string[];
}

/** Everything before the delegate's create/run: validate, detect, claim the id, let the handler prepare. */
async function prepare(ctx: Ctx, id: string, f: CreateFlags): Promise<Prepared> {
  const loaded = loadBundle(f.bundle);
  const delegate = resolveDelegate(ctx.opts.delegate, ctx.opts.root);
  const droot = delegateRoot(ctx.opts.root, delegate);
  if (existsSync(join(droot, id))) throw new OciError(`container with id exists: ${id}`);
  const det = detect({ config: loaded.config, rootfs: loaded.rootfs, invokedAs: ctx.invokedAs });
  ctx.log.debug(`container ${id}: ${det.handler} (${det.reason}); delegate ${delegate.path}`);
  const handler = getHandler(det.handler);
  if (!handler) {
    throw new OciError(`container ${id} is a Wasm container (${det.reason}) but this hyrun build has no Wasm handler: remove the Wasm annotation to run it as Linux`);
  }
  const dir = claimStateDir(ctx.opts.root, id);
  const record: ContainerRecord = {
    id, delegate: delegate.path, delegateKind: delegate.kind, handler: handler.name, bundle: loaded.bundle,
    created: new Date().toISOString(),
  };
  try {
    writeRecord(ctx.opts.root, record);
    const p = await handler.prepare({ id, bundle: loaded.bundle, config: loaded.config, rootfs: loaded.rootfs, stateDir: dir, delegate });
    const bundle = resolve(p.bundle);
    if (bundle !== loaded.bundle) {
      record.privateBundle = bundle;
      // The private config may drop annotations (the Wasm one must not reach the delegate); engines
      // reading `state` still see the user's.
      if (loaded.config.annotations) record.annotations = loaded.config.annotations;
    }
    if (p.data) record.data = p.data;
    const override = compatConfig(ctx, bundle === loaded.bundle ? loaded.config : undefined, bundle, dir, delegate);
    let bundleArgs = ['--bundle', bundle, ...(override ? ['--config', override] : [])];
    if (bundle !== loaded.bundle && delegate.kind === 'crun') {
      // crun takes the private config with --config and keeps the user's bundle, so its `state`
      // names the user's bundle; with the user's annotations kept too (a crun without its own Wasm
      // handler: handlers/wasm.ts), its state is exactly the engine's view and bin/hyrun may hand
      // `state` to it without node (the state-direct mark).
      const privateConfig = override ?? join(bundle, 'config.json');
      bundleArgs = ['--bundle', loaded.bundle, '--config', privateConfig];
      const given = parseJsonFile<OciSpec>(privateConfig, 'config').annotations;
      if (isDeepStrictEqual(given ?? {}, loaded.config.annotations ?? {})) writeFileSync(join(dir, STATE_DIRECT), '');
    }
    writeRecord(ctx.opts.root, record);
    if (handler.releaseFiles) writeReleaseList(ctx.opts.root, id, handler.releaseFiles(record, dir));
    writeRoute(ctx.opts.root, record);
    return { record, delegate, handler, bundleArgs };
  } catch (e) {
    await discard(ctx, record, handler);
    if (e instanceof HandlerError) throw new OciError(e.message, e.exitCode);
    throw e;
  }
}

/**
 * Old crun refuses configs with an ociVersion above 1.1.0, and crun fails on a pids limit of -1
 * (see configForDelegate). Rather than copy the
 * user's bundle (relative root.path and bind sources, hooks that read the bundle), hand crun a
 * lowered copy of just config.json with its --config flag: the bundle crun sees stays the user's.
 */
function compatConfig(ctx: Ctx, config: OciSpec | undefined, bundle: string, dir: string, d: DelegateInfo): string | undefined {
  if (d.kind !== 'crun') return undefined;
  const c = config ?? parseJsonFile<OciSpec>(join(bundle, 'config.json'), 'config');
  if (typeof c.ociVersion !== 'string') return undefined;
  const lowered = configForDelegate(c, d);
  if (lowered === undefined) return undefined;
  const file = join(dir, 'config.crun.json');
  writeFileSync(file, JSON.stringify(lowered));
  ctx.log.debug(`config adjusted for ${d.path} (ociVersion ${c.ociVersion} -> ${lowered.ociVersion}; ${file})`);
  return file;
}

/** Remove everything hyrun made for a container (after the delegate forgot it, or a failed create). */
async function discard(ctx: Ctx, record: ContainerRecord, handler?: Handler): Promise<void> {
  const dir = stateDir(ctx.opts.root, record.id);
  try {
    await (handler ?? getHandler(record.handler))?.release?.(record, dir);
  } catch (e) {
    ctx.log.warn(`releasing container ${record.id}: ${(e as Error).message}`);
  }
  removeStateDir(ctx.opts.root, record.id);
}

function createArgs(f: CreateFlags): string[] {
  const a: string[] = [];
  if (f.pidFile) a.push('--pid-file', resolve(f.pidFile));
  if (f.consoleSocket) a.push('--console-socket', resolve(f.consoleSocket));
  if (f.noPivot) a.push('--no-pivot');
  if (f.noNewKeyring) a.push('--no-new-keyring');
  if (f.preserveFds) a.push(`--preserve-fds=${f.preserveFds}`);
  return a;
}

/** After a failed create/run: make sure the delegate holds nothing, then drop hyrun's state. */
async function undoCreate(ctx: Ctx, p: Prepared): Promise<void> {
  if (existsSync(join(delegateRoot(ctx.opts.root, p.delegate), p.record.id))) {
    await runDelegate(ctx.opts, p.delegate, ['delete', '--force', p.record.id], { quiet: true }).catch(() => undefined);
  }
  await discard(ctx, p.record, p.handler);
}

export async function create(ctx: Ctx, id: string, f: CreateFlags): Promise<number> {
  const p = await prepare(ctx, id, f);
  let code: number;
  try {
    ({ code } = await runDelegate(ctx.opts, p.delegate, ['create', ...p.bundleArgs, ...createArgs(f), id], { preserveFds: f.preserveFds }));
  } catch (e) {
    await undoCreate(ctx, p);
    throw e;
  }
  if (code !== 0) await undoCreate(ctx, p);
  return code;
}

export async function run(ctx: Ctx, id: string, f: CreateFlags & { detach: boolean; keep: boolean }): Promise<number> {
  if (f.keep) {
    // crun has no --keep (it always deletes after a foreground run); refuse before doing anything.
    const d = resolveDelegate(ctx.opts.delegate);
    if (d.kind === 'crun') throw new OciError('run --keep is not supported with crun as the delegate: use create + start, or --delegate runc');
  }
  const p = await prepare(ctx, id, f);
  const args = ['run', ...p.bundleArgs, ...createArgs(f)];
  if (f.detach) args.push('--detach');
  if (f.keep) args.push('--keep');
  let code: number;
  try {
    ({ code } = await runDelegate(ctx.opts, p.delegate, [...args, id], { preserveFds: f.preserveFds, forwardSignals: !f.detach }));
  } catch (e) {
    await undoCreate(ctx, p);
    throw e;
  }
  const stillThere = existsSync(join(delegateRoot(ctx.opts.root, p.delegate), id));
  // Foreground run: the delegate deleted the container unless --keep; detached: it lives on.
  if ((!f.detach && !f.keep) || (f.detach && code !== 0) || !stillThere) await undoCreate(ctx, p);
  return code;
}

/** The record of an existing container, and its delegate. */
export function lookup(ctx: Ctx, id: string): { record: ContainerRecord; delegate: DelegateInfo } {
  const record = readRecord(ctx.opts.root, id);
  if (!record) throw notExist(id);
  const delegate = recordedDelegate(record.delegate, record.delegateKind);
  // hyrun's record without the delegate's (its root was wiped, e.g. a reboot of a tmpfs): gone for
  // the engine too, in the words it matches on; `delete` still cleans hyrun's side up.
  if (!existsSync(join(delegateRoot(ctx.opts.root, delegate), id))) throw notExist(id);
  return { record, delegate };
}

/** Commands hyrun only forwards: start, pause, resume, ps, update. */
export async function passThrough(ctx: Ctx, command: string, id: string, flags: string[], rest: string[] = []): Promise<number> {
  const { delegate } = lookup(ctx, id);
  const { code } = await runDelegate(ctx.opts, delegate, [command, ...flags, id, ...rest]);
  return code;
}

/**
 * `update`: resources from a file or `-` (stdin, as the shim and CRI-O send them). hyrun reads and
 * checks them itself and hands the delegate a file: crun opens /dev/stdin, which fails when stdin is
 * a socket, and a bad document gets one clear line instead of the delegate's parse error.
 */
export async function update(ctx: Ctx, id: string, resources: string | undefined, flags: string[]): Promise<number> {
  const { record, delegate } = lookup(ctx, id);
  if (resources === undefined) {
    const code = (await runDelegate(ctx.opts, delegate, ['update', ...flags, id])).code;
    const memory = flags.find((f) => f.startsWith('--memory='))?.slice('--memory='.length);
    if (code === 0 && memory !== undefined) resourcesUpdated(ctx, record, { memoryLimit: parseByteSize(memory) });
    return code;
  }
  let text: string;
  const what = resources === '-' ? 'resources on stdin' : `resources file ${resources}`;
  try {
    text = readFileSync(resources === '-' ? 0 : resources, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new OciError(`${what} does not exist`);
    throw new OciError(`cannot read ${what}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new OciError(`${what} is not valid JSON (${(e as Error).message}): pass a LinuxResources object`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new OciError(`${what} must be a JSON object (LinuxResources)`);
  const tmp = join(stateDir(ctx.opts.root, id), `update-${randomHex(6)}.json`);
  writeFileSync(tmp, text);
  let code: number;
  try {
    code = (await runDelegate(ctx.opts, delegate, ['update', `--resources=${tmp}`, id])).code;
  } finally {
    rmSync(tmp, { force: true });
  }
  const limit = (doc as { memory?: { limit?: unknown } }).memory?.limit;
  if (code === 0 && typeof limit === 'number') resourcesUpdated(ctx, record, { memoryLimit: limit });
  return code;
}

/** A size as runc's update --memory takes it: bytes, or a number with k/m/g (binary), -1 unlimited. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(-1|\d+)\s*([kmg]?)i?b?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return m[1] === '-1' ? -1 : Number(m[1]) * unit;
}

/** Tell the handler; say what the running workload keeps (one line, stderr and the log). */
function resourcesUpdated(ctx: Ctx, record: ContainerRecord, u: { memoryLimit?: number }): void {
  const handler = getHandler(record.handler);
  if (!handler?.resourcesUpdated || u.memoryLimit === undefined) return;
  const r = handler.resourcesUpdated(record, { memoryLimit: u.memoryLimit });
  if (r.data && readRecord(ctx.opts.root, record.id)) writeRecord(ctx.opts.root, { ...record, data: r.data });
  if (r.warning) ctx.log.warn(r.warning);
}

export async function state(ctx: Ctx, id: string): Promise<number> {
  const { record, delegate } = lookup(ctx, id);
  const r = await runDelegate(ctx.opts, delegate, ['state', id], { capture: true });
  if (r.code !== 0) return r.code;
  const s = parseDelegateJson<OciState>(r.stdout, delegate, 'state');
  process.stdout.write(JSON.stringify(userView(s, record), null, 2) + '\n');
  return 0;
}

/** The state as the engine must see it: the user's bundle, never hyrun's private copy. */
export function userView(s: OciState, record: ContainerRecord): OciState {
  const view: OciState = { ...s, bundle: record.bundle };
  if (record.annotations) view.annotations = record.annotations;
  return view;
}

function parseDelegateJson<T>(text: string, d: DelegateInfo, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new OciError(`delegate ${d.path} printed an unreadable ${what}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`);
  }
}

/** A signal name (TERM, SIGTERM, sigterm) or number → its number; one clear error otherwise. */
export function parseSignal(s: string | undefined): number {
  if (s === undefined || s === '') return osConstants.signals.SIGTERM;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const up = s.toUpperCase();
    const name = (up.startsWith('SIG') ? up : `SIG${up}`) as keyof typeof osConstants.signals;
    const n = osConstants.signals[name];
    if (n !== undefined) return n;
  }
  throw new OciError(`invalid signal ${JSON.stringify(s)}: use a name (TERM, SIGKILL) or a number (1-64)`);
}

export async function kill(ctx: Ctx, id: string, signal: string | undefined, all: boolean): Promise<number> {
  const sig = parseSignal(signal);
  const { delegate } = lookup(ctx, id);
  if (!all) {
    // Engines treat "container not running" as "already gone"; crun 1.8 says "kill container: No
    // such process" instead, so say it in runc's words for both.
    const r = await runDelegate(ctx.opts, delegate, ['state', id], { capture: true });
    if (r.code === 0 && parseDelegateJson<OciState>(r.stdout, delegate, 'state').status === 'stopped') {
      throw new OciError('container not running');
    }
  }
  const { code } = await runDelegate(ctx.opts, delegate, ['kill', ...(all ? ['--all'] : []), id, String(sig)]);
  return code;
}

export async function remove(ctx: Ctx, id: string, force: boolean): Promise<number> {
  const record = readRecord(ctx.opts.root, id);
  if (!record) {
    // As runc: --force on an unknown container is not an error (engines retry deletes). A state dir
    // without a record is what a create killed half-way leaves: --force clears it.
    if (force) {
      if (existsSync(stateDir(ctx.opts.root, id))) removeStateDir(ctx.opts.root, id);
      return 0;
    }
    throw notExist(id);
  }
  let delegate: DelegateInfo | undefined;
  try {
    delegate = recordedDelegate(record.delegate, record.delegateKind);
  } catch (e) {
    if (!force) throw e;
  }
  if (delegate && existsSync(join(delegateRoot(ctx.opts.root, delegate), id))) {
    const { code } = await runDelegate(ctx.opts, delegate, ['delete', ...(force ? ['--force'] : []), id]);
    // Still known to the delegate (e.g. running without --force): keep hyrun's state too.
    if (code !== 0 && existsSync(join(delegateRoot(ctx.opts.root, delegate), id))) return code;
  }
  await discard(ctx, record);
  return 0;
}

export interface ExecFlags {
  process?: string;
  args: string[];
  pidFile?: string;
  consoleSocket?: string;
  detach: boolean;
  preserveFds: number;
  tty: boolean;
  env: string[];
  cwd?: string;
  user?: string;
  additionalGids: string[];
  caps: string[];
  noNewPrivs: boolean;
  apparmor?: string;
  processLabel?: string;
  cgroup: string[];
  ignorePaused: boolean;
}

export async function exec(ctx: Ctx, id: string, f: ExecFlags): Promise<number> {
  const { record, delegate } = lookup(ctx, id);
  if (!f.process && f.args.length === 0) throw new OciError('exec: no command given: pass the command after the container id, or --process FILE');
  const handler = getHandler(record.handler);
  const dir = stateDir(ctx.opts.root, id);
  // Always hand the delegate a process file: runc and crun disagree on command-line exec (crun 1.8
  // replaces the whole environment with --env), and the handler may need to rewrite the process.
  let proc: OciProcess = f.process ? parseJsonFile<OciProcess>(resolve(f.process), 'process file') : processFromFlags(record, f);
  if (proc === null || typeof proc !== 'object' || !Array.isArray(proc.args) || proc.args.length === 0) {
    throw new OciError(`exec: process file ${f.process}: "args" must be a non-empty array`);
  }
  if (handler?.prepareExec) {
    proc = await handler.prepareExec({ record, stateDir: dir, process: proc, delegate }).catch((e: unknown) => {
      if (e instanceof HandlerError) throw new OciError(e.message, e.exitCode);
      throw e;
    });
  }
  const tmp = join(dir, `exec-${randomHex(6)}.json`);
  writeFileSync(tmp, JSON.stringify(proc), { mode: 0o600 });
  const args = ['exec', '--process', tmp];
  if (f.detach) args.push('--detach');
  if (f.pidFile) args.push('--pid-file', resolve(f.pidFile));
  if (f.consoleSocket) args.push('--console-socket', resolve(f.consoleSocket));
  if (f.preserveFds) args.push(`--preserve-fds=${f.preserveFds}`);
  for (const c of f.cgroup) args.push(`--cgroup=${c}`);
  if (f.ignorePaused && delegate.kind !== 'crun') args.push('--ignore-paused');
  args.push(id);
  try {
    const { code } = await runDelegate(ctx.opts, delegate, args, { preserveFds: f.preserveFds, forwardSignals: !f.detach });
    return code;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** `KEY=V` list with later keys replacing earlier ones (the order of first appearance kept). */
function mergeEnv(base: string[], extra: string[]): string[] {
  const m = new Map<string, string>();
  for (const e of [...base, ...extra]) m.set(e.split('=', 1)[0]!, e);
  return [...m.values()];
}

/** An exec process as runc builds it: the container's own process with the command-line overrides. */
export function processFromFlags(record: ContainerRecord, f: ExecFlags): OciProcess {
  const config = parseJsonFile<OciSpec>(join(record.bundle, 'config.json'), 'config');
  const base = config.process ?? { user: { uid: 0, gid: 0 }, cwd: '/' };
  const p: OciProcess = { ...base, args: f.args, terminal: f.tty, env: mergeEnv(base.env ?? [], f.env) };
  delete p.consoleSize;
  if (f.cwd) p.cwd = f.cwd;
  if (f.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(f.user);
    if (!m) throw new OciError(`exec: invalid --user ${JSON.stringify(f.user)}: use UID or UID:GID`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] === undefined ? p.user.gid : Number(m[2]) };
  }
  if (f.additionalGids.length) {
    const gids = f.additionalGids.map((g) => {
      if (!/^\d+$/.test(g)) throw new OciError(`exec: invalid --additional-gids ${JSON.stringify(g)}: use a number`);
      return Number(g);
    });
    p.user = { ...p.user, additionalGids: [...(p.user.additionalGids ?? []), ...gids] };
  }
  if (f.caps.length) {
    const caps: Record<string, string[] | undefined> = { ...(p.capabilities ?? {}) };
    for (const set of ['bounding', 'effective', 'permitted']) caps[set] = [...new Set([...(caps[set] ?? []), ...f.caps])];
    p.capabilities = caps;
  }
  if (f.noNewPrivs) p.noNewPrivileges = true;
  if (f.apparmor) p.apparmorProfile = f.apparmor;
  if (f.processLabel) p.selinuxLabel = f.processLabel;
  return p;
}

interface ListEntry { ociVersion?: string; id: string; pid: number; status: string; bundle: string; rootfs?: string; created: string; owner: string }

export async function list(ctx: Ctx, format: string, quiet: boolean): Promise<number> {
  if (format !== 'table' && format !== 'json') throw new OciError(`list: invalid --format ${JSON.stringify(format)}: use table or json`);
  const entries: ListEntry[] = [];
  const byDelegate = new Map<string, { delegate: DelegateInfo; records: ContainerRecord[] }>();
  for (const id of listRecordIds(ctx.opts.root)) {
    const record = readRecord(ctx.opts.root, id)!;
    const g = byDelegate.get(record.delegate) ?? { delegate: recordedDelegate(record.delegate, record.delegateKind), records: [] };
    g.records.push(record);
    byDelegate.set(record.delegate, g);
  }
  for (const { delegate, records } of byDelegate.values()) {
    const r = await runDelegate(ctx.opts, delegate, ['list', '--format', 'json'], { capture: true });
    const listed = r.code === 0 ? (parseDelegateJson<ListEntry[] | null>(r.stdout, delegate, 'list') ?? []) : [];
    for (const rec of records) {
      const e = listed.find((x) => x.id === rec.id);
      if (e) entries.push({ ...e, bundle: rec.bundle });
    }
  }
  entries.sort((a, b) => a.id.localeCompare(b.id));
  if (quiet) process.stdout.write(entries.map((e) => e.id + '\n').join(''));
  else if (format === 'json') process.stdout.write(JSON.stringify(entries) + '\n');
  else {
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
      ...entries.map((e) => [e.id, String(e.pid), e.status, e.bundle, e.created, e.owner])];
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    process.stdout.write(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]! + 3))).join('') + '\n').join(''));
  }
  return 0;
}
