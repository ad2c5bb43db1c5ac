// `hyrun run IMAGE` and its containers (ps, logs, stop, rm; __supervise is the process a detached
// run starts): the flags become the requests of src/containers, its results are printed here.
import { existsSync, readFileSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { listContainers } from '../containers/list.js';
import { containerLogs } from '../containers/logs.js';
import type { ContainerRecord } from '../containers/records.js';
import type { RunRequest } from '../containers/requests.js';
import { runContainer } from '../containers/run.js';
import { removeContainer, stopContainer } from '../containers/stop.js';
import { superviseDetached } from '../containers/supervise.js';
import { parsePlatform } from '../image/resolve.js';
import { UsageError } from './errors.js';
import { keyValues, openStore, parse, say, strings } from './image-flags.js';

export async function containerCommand(command: string, args: string[]): Promise<number> {
  switch (command) {
    case 'run': return runCommand(args);
    case 'ps': return psCommand(args);
    case 'logs': return logsCommand(args);
    case 'stop': return stopCommand(args);
    case 'rm': return rmCommand(args);
    case '__supervise': return superviseDetached({ store: openStore({ storage: args[0] }), id: args[1] });
    default:
      throw new UsageError(`unknown command ${command}`);
  }
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
const PULL_POLICIES = ['missing', 'always', 'never'] as const;

async function runCommand(args: string[]): Promise<number> {
  const outcome = await runContainer(runRequest(args));
  if (!outcome.detached) return outcome.exitCode;
  process.stdout.write(`${outcome.id}\n`);
  return 0;
}

/** `run`'s command line as a request: every flag checked that can be without the store. */
function runRequest(rawArgs: string[]): RunRequest {
  const args = rawArgs.map((a) => (a === '--tls-verify' ? '--tls-verify=true' : a === '-it' || a === '-ti' ? ['-i', '-t'] : a)).flat();
  const split = splitAtImage(args, RUN_VALUE_FLAGS);
  const { values } = parse('run', split.options, RUN_OPTIONS, false);
  if (!split.image) throw new UsageError('run needs an image: hyrun run [OPTIONS] IMAGE [ARGS...]');
  const store = openStore(values);
  const env = [...strings(values['env-file']).flatMap(readEnvFile), ...strings(values.env).map((e) => {
    if (!e.includes('=')) return process.env[e] !== undefined ? `${e}=${process.env[e]}` : '';
    return e;
  }).filter(Boolean)];
  for (const e of env) if (e.indexOf('=') <= 0) throw new UsageError(`-e '${e}' is not KEY=VALUE`);
  const annotations = keyValues('annotation', strings(values.annotation));
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
  const pull = (values.pull as string | undefined) ?? 'missing';
  if (!isPullPolicy(pull)) throw new UsageError(`--pull ${pull}: use missing, always or never`);
  const name = typeof values.name === 'string' ? values.name : undefined;
  if (name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new UsageError(`--name '${name}': use letters, digits, '_', '.', '-'`);
  return {
    store, image: split.image, args: split.rest, name, env, annotations, volumes, ports, memoryBytes, platform, pull,
    entrypoint: typeof values.entrypoint === 'string' ? [values.entrypoint] : undefined,
    workdir: typeof values.workdir === 'string' ? values.workdir : undefined,
    user: typeof values.user === 'string' ? values.user : undefined,
    rm: values.rm === true, detach: values.detach === true, interactive: values.interactive === true, tty: values.tty === true,
    tlsVerify: values['tls-verify'] !== 'false', keepSetid: values['keep-setid'] === true, log: say,
  };
}

const isPullPolicy = (text: string): text is RunRequest['pull'] => (PULL_POLICIES as readonly string[]).includes(text);

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

/** `--memory`/`-m`: bytes or K/M/G (binary). */
function parseSize(text: string): number {
  const m = /^(\d+)\s*([kmg]?)(i?b?)$/i.exec(text.trim());
  if (!m) throw new UsageError(`--memory '${text}' is not a size; write e.g. 64m, 512MiB, 1g`);
  return Number(m[1]) * 1024 ** ['', 'k', 'm', 'g'].indexOf(m[2].toLowerCase());
}

/** `--env-file`: KEY=VALUE lines; `#` comments and blank lines skipped; `NAME` alone takes hyrun's value, as docker does. */
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
      if (process.env[line] !== undefined) out.push(`${line}=${process.env[line]}`);
      continue;
    }
    out.push(line);
  }
  return out;
}

function psCommand(args: string[]): number {
  const { values } = parse('ps', args, { all: { type: 'boolean', short: 'a' }, format: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } }, false);
  const rows = listContainers({ store: openStore(values), all: values.all === true });
  if (values.format === 'json') {
    process.stdout.write(`${JSON.stringify(rows.map(psJson), null, 2)}\n`);
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

/** `ps --format json`: Podman's field names. */
const psJson = (r: ContainerRecord): Record<string, unknown> => ({
  Id: r.id, Names: [r.name], Image: r.image, ImageDigest: r.imageDigest, Command: r.command, Created: r.created, State: r.status, ExitCode: r.exitCode, Mode: r.mode, Pid: r.status === 'running' ? r.pid : 0,
});

async function logsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('logs', args, { follow: { type: 'boolean', short: 'f' } });
  if (positionals.length !== 1) throw new UsageError('logs needs one container: hyrun logs [-f] CONTAINER');
  for await (const chunk of containerLogs({ store: openStore(values), container: positionals[0], follow: values.follow === true })) process.stdout.write(chunk);
  return 0;
}

async function stopCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('stop', args, { time: { type: 'string', short: 't' } });
  if (positionals.length === 0) throw new UsageError('stop needs a container: hyrun stop [-t SECONDS] CONTAINER...');
  const t = typeof values.time === 'string' ? Number(values.time) : 10;
  if (!Number.isInteger(t) || t < 0) throw new UsageError(`stop: -t ${String(values.time)} is not a number of seconds`);
  const store = openStore(values);
  for (const container of positionals) {
    await stopContainer({ store, container, timeoutSeconds: t });
    process.stdout.write(`${container}\n`);
  }
  return 0;
}

async function rmCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('rm', args, { force: { type: 'boolean', short: 'f' } });
  if (positionals.length === 0) throw new UsageError('rm needs a container: hyrun rm [-f] CONTAINER...');
  const store = openStore(values);
  for (const container of positionals) {
    await removeContainer({ store, container, force: values.force === true });
    process.stdout.write(`${container}\n`);
  }
  return 0;
}
