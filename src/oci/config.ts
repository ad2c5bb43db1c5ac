// Reading and checking a bundle's config.json. Every refusal is one line: what is wrong, what to do.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { OciError } from './errors.js';
import type { OciSpec } from './spec.js';

/** runc's rule for container ids (also keeps ids safe as directory names). */
const ID_RE = /^[\w+\-.]+$/;

export function validateId(id: string | undefined, command: string): string {
  if (id === undefined || id === '') throw new OciError(`${command}: missing container id: usage: hyrun ${command} [flags] ID`);
  if (!ID_RE.test(id) || id === '.' || id === '..') {
    throw new OciError(`invalid container id ${JSON.stringify(id)}: use letters, digits and _ + - . only`);
  }
  return id;
}

export interface LoadedBundle {
  /** Absolute bundle dir. */
  bundle: string;
  config: OciSpec;
  /** Absolute host path of root.path. */
  rootfs: string;
}

/** Line and column of a JSON.parse error position, for messages people can act on. */
function jsonPosition(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return err.message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${err.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line} column ${col}`;
}

export function parseJsonFile<T>(file: string, what: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new OciError(`${what} ${file} does not exist`);
    throw new OciError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new OciError(`${what} ${file} is not valid JSON: ${jsonPosition(text, e as Error)}: fix the file`);
  }
}

/** Load and validate `<bundle>/config.json` enough that the delegate will not fail half-way for these reasons. */
export function loadBundle(bundleArg: string | undefined, needProcess = true): LoadedBundle {
  const bundle = resolve(bundleArg ?? process.cwd());
  let st;
  try {
    st = statSync(bundle);
  } catch {
    throw new OciError(`bundle ${bundle} does not exist: pass --bundle with the directory holding config.json`);
  }
  if (!st.isDirectory()) throw new OciError(`bundle ${bundle} is not a directory: pass --bundle with the directory holding config.json`);
  const file = join(bundle, 'config.json');
  let config: OciSpec;
  try {
    config = parseJsonFile<OciSpec>(file, 'config');
  } catch (e) {
    if (e instanceof OciError && e.message.endsWith('does not exist')) {
      throw new OciError(`config ${file} does not exist: the bundle needs an OCI config.json (\`hyrun spec\` writes one)`);
    }
    throw e;
  }
  const bad = (what: string): never => { throw new OciError(`config ${file}: ${what}`); };
  if (config === null || typeof config !== 'object' || Array.isArray(config)) bad('must be a JSON object');
  if (typeof config.ociVersion !== 'string' || config.ociVersion === '') bad('"ociVersion" is missing: add e.g. "ociVersion": "1.0.2"');
  if (!config.root || typeof config.root.path !== 'string' || config.root.path === '') {
    bad('"root.path" is missing: set it to the rootfs directory, e.g. "root": {"path": "rootfs"}');
  }
  if (config.annotations !== undefined && (typeof config.annotations !== 'object' || Array.isArray(config.annotations) || config.annotations === null)) {
    bad('"annotations" must be an object of strings');
  }
  if (needProcess) {
    const p = config.process;
    if (!p || typeof p !== 'object') bad('"process" is missing: add the process to run');
    if (!Array.isArray(p!.args) || p!.args.length === 0 || p!.args.some((a) => typeof a !== 'string')) {
      bad('"process.args" must be a non-empty array of strings');
    }
    if (typeof p!.cwd !== 'string' || !p!.cwd.startsWith('/')) bad('"process.cwd" must be an absolute path');
  }
  const rootfs = isAbsolute(config.root!.path) ? config.root!.path : join(bundle, config.root!.path);
  let rs;
  try {
    rs = statSync(rootfs);
  } catch {
    throw new OciError(`rootfs ${rootfs} (root.path in ${file}) does not exist: create it or fix root.path`);
  }
  if (!rs.isDirectory()) throw new OciError(`rootfs ${rootfs} (root.path in ${file}) is not a directory`);
  return { bundle, config, rootfs };
}

/** Compare dotted versions numerically ("1.2.0-rc.1" counts as 1.2.0). */
export function versionAtLeast(v: string, min: string): boolean {
  const num = (s: string) => s.split(/[-+]/)[0]!.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const a = num(v), b = num(min);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** Highest config ociVersion that crun before 1.14.3 accepts (1.8.1, Debian 12's, measured here). */
export const OLD_CRUN_MAX_OCI_VERSION = '1.1.0';

/**
 * The ociVersion to hand a delegate. crun before 1.14.3 refuses any version it does not know
 * ("unknown version specified": 1.1.1 and 1.2+ alike, which current engines write); 1.14.3 dropped
 * that check. Other delegates get the version unchanged. The delegate's version is read (a spawn)
 * only when the config's version is above what every crun accepts.
 */
export function ociVersionFor(version: string, delegate: { kind: string; version: string }): string {
  if (delegate.kind !== 'crun' || versionAtLeast(OLD_CRUN_MAX_OCI_VERSION, version)) return version;
  const crun = /\d+\.\d+(?:\.\d+)?/.exec(delegate.version)?.[0];
  // An unreadable crun version counts as old: lowering costs nothing, a refusal costs the container.
  return crun !== undefined && versionAtLeast(crun, '1.14.3') ? version : OLD_CRUN_MAX_OCI_VERSION;
}

/**
 * The config a delegate is handed, when it must differ from the user's (undefined when not): the
 * one place hyrun smooths over what a delegate cannot take.
 * - old crun: ociVersion lowered (ociVersionFor);
 * - crun: a pids limit <= 0 (unlimited, as CRI-O 1.32 writes -1) dropped. crun 1.8.1 writes the
 *   number into pids.max literally, which the kernel refuses (EINVAL) and the container fails; with
 *   no limit the new cgroup keeps the kernel's default, "max", which is what -1 means.
 */
export function configForDelegate(config: OciSpec, delegate: { kind: string; version: string }): OciSpec | undefined {
  if (delegate.kind !== 'crun') return undefined;
  let out: OciSpec | undefined;
  if (typeof config.ociVersion === 'string') {
    const lowered = ociVersionFor(config.ociVersion, delegate);
    if (lowered !== config.ociVersion) out = { ...config, ociVersion: lowered };
  }
  const resources = config.linux?.resources as { pids?: { limit?: unknown } } | undefined;
  const pids = resources?.pids?.limit;
  if (typeof pids === 'number' && pids <= 0) {
    const { pids: _dropped, ...rest } = resources as Record<string, unknown>;
    out = { ...(out ?? config), linux: { ...config.linux, resources: rest } };
  }
  return out;
}
