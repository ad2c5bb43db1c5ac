// runc-style argument parsing: global flags, the command, its flags, then positionals.
// Accepts `--flag value`, `--flag=value`, `-f value`, and `--bool`/`--bool=true|false` (as go's flag
// package does, which engines rely on). Anything unknown is one clear error line.
import { OciError } from '../../oci/errors.js';

export interface FlagSpec {
  /** Canonical name (without dashes) first, then aliases: ['bundle', 'b']. */
  names: string[];
  /** Takes a value. */
  value?: boolean;
  /** May be repeated (values collected in order). */
  repeat?: boolean;
}

export type FlagValues = Record<string, string | boolean | string[]>;

export interface ParseResult {
  flags: FlagValues;
  positionals: string[];
  /** The raw flags as given, canonicalised (`--name=value` / `--name`), for pass-through. */
  raw: string[];
}

export interface ParseOptions {
  /** Stop parsing flags at the first positional (exec: the command's own flags follow the id). */
  stopAtPositional?: boolean;
  /** What to call this in errors: `create`, or `global` flags. */
  context: string;
}

const TRUE = new Set(['true', '1', 't', 'T', 'TRUE', 'True']);
const FALSE = new Set(['false', '0', 'f', 'F', 'FALSE', 'False']);

export function parseFlags(args: string[], specs: FlagSpec[], o: ParseOptions): ParseResult {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) for (const n of s.names) byName.set(n, s);
  const flags: FlagValues = {};
  const positionals: string[] = [];
  const raw: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      if (o.stopAtPositional) break;
      positionals.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(name);
    if (!spec) {
      throw new OciError(o.context === 'global'
        ? `unknown global flag ${a.split('=')[0]}: global flags (--root, --log, --log-format, --debug, --systemd-cgroup, --cgroup-manager, --rootless, --delegate) go before the command`
        : `${o.context}: unknown flag ${a.split('=')[0]}: run \`hyrun help ${o.context}\` for its flags`);
    }
    const canon = spec.names[0]!;
    let value: string | boolean;
    if (spec.value) {
      if (eq >= 0) value = body.slice(eq + 1);
      else {
        if (i + 1 >= args.length) throw new OciError(`${o.context}: flag ${a} needs a value`);
        value = args[++i]!;
      }
      raw.push(`--${canon}=${value}`);
    } else {
      if (eq >= 0) {
        const v = body.slice(eq + 1);
        if (TRUE.has(v)) value = true;
        else if (FALSE.has(v)) value = false;
        else throw new OciError(`${o.context}: flag --${name} takes no value (or true/false), got ${JSON.stringify(v)}`);
      } else value = true;
      if (value) raw.push(`--${canon}`);
    }
    if (spec.repeat) {
      const prev = flags[canon];
      flags[canon] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else flags[canon] = value;
  }
  positionals.push(...args.slice(i));
  return { flags, positionals, raw };
}

export const str = (f: FlagValues, name: string): string | undefined => {
  const v = f[name];
  return typeof v === 'string' ? v : undefined;
};
export const bool = (f: FlagValues, name: string): boolean => f[name] === true;
export const list = (f: FlagValues, name: string): string[] => {
  const v = f[name];
  return Array.isArray(v) ? v : [];
};

/** A non-negative integer flag (e.g. --preserve-fds). */
export function uint(f: FlagValues, name: string, context: string): number {
  const v = str(f, name);
  if (v === undefined) return 0;
  if (!/^\d+$/.test(v)) throw new OciError(`${context}: --${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

export const GLOBAL_FLAGS: FlagSpec[] = [
  { names: ['root'], value: true },
  { names: ['log'], value: true },
  { names: ['log-format'], value: true },
  { names: ['debug'] },
  { names: ['systemd-cgroup'] },
  { names: ['cgroup-manager'], value: true },
  { names: ['rootless'], value: true },
  { names: ['criu'], value: true },
  { names: ['delegate'], value: true },
];

const BUNDLE: FlagSpec = { names: ['bundle', 'b'], value: true };
const PID_FILE: FlagSpec = { names: ['pid-file'], value: true };
const CONSOLE: FlagSpec = { names: ['console-socket'], value: true };
const PRESERVE: FlagSpec = { names: ['preserve-fds'], value: true };
const CREATE_COMMON: FlagSpec[] = [BUNDLE, PID_FILE, CONSOLE, PRESERVE, { names: ['no-pivot'] }, { names: ['no-new-keyring'] },
  { names: ['no-subreaper'] }];

/** runc update's resource flags (all take a value; passed to the delegate unchanged). */
export const UPDATE_VALUE_FLAGS = ['blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-share', 'cpu-rt-period', 'cpu-rt-runtime',
  'cpuset-cpus', 'cpuset-mems', 'memory', 'memory-reservation', 'memory-swap', 'pids-limit', 'l3-cache-schema',
  'mem-bw-schema', 'kernel-memory', 'kernel-memory-tcp'];

export const COMMAND_FLAGS: Record<string, FlagSpec[]> = {
  create: CREATE_COMMON,
  run: [...CREATE_COMMON, { names: ['detach', 'd'] }, { names: ['keep'] }],
  start: [],
  state: [],
  kill: [{ names: ['all', 'a'] }],
  delete: [{ names: ['force', 'f'] }],
  exec: [
    { names: ['process', 'p'], value: true }, { names: ['detach', 'd'] }, PID_FILE, CONSOLE, { names: ['tty', 't'] },
    { names: ['env', 'e'], value: true, repeat: true }, { names: ['cwd'], value: true }, { names: ['user', 'u'], value: true },
    { names: ['additional-gids', 'g'], value: true, repeat: true }, { names: ['cap', 'c'], value: true, repeat: true },
    { names: ['no-new-privs'] }, { names: ['apparmor'], value: true }, { names: ['process-label'], value: true },
    { names: ['cgroup'], value: true, repeat: true }, { names: ['ignore-paused'] }, PRESERVE,
  ],
  ps: [{ names: ['format', 'f'], value: true }],
  pause: [],
  resume: [],
  update: [{ names: ['resources', 'r'], value: true }, ...UPDATE_VALUE_FLAGS.map((n) => ({ names: [n], value: true }))],
  list: [{ names: ['format', 'f'], value: true }, { names: ['quiet', 'q'] }],
  spec: [BUNDLE, { names: ['rootless'] }],
  features: [],
  version: [],
};
COMMAND_FLAGS.ls = COMMAND_FLAGS.list!;
