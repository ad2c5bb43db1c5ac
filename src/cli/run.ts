// `hyrun run FILE.wasm|FILE.wat [ARGS…]`: run one WASI module directly, no bundle, no container.
// Parsing and validation are plain functions (unit-tested); runWasmFile() hands the spec to the
// executor, which owns signals, the worker thread and the exit status.
import { Command, CommanderError } from 'commander';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Preopen } from '../wasi/context.js';
import type { WasmRunSpec } from '../wasm/engine.js';
import { UsageError } from './errors.js';

/** Flags only `hyrun run FILE.wasm` understands; any of them before the file means Wasm file mode. */
export const WASM_RUN_FLAGS = ['--dir', '--env', '--memory', '--tcplisten'] as const;
/** Flags only runc's `run` understands; any of them means OCI mode. */
export const OCI_RUN_FLAGS = [
  '--bundle', '-b', '--detach', '-d', '--console-socket', '--pid-file', '--pidfile', '--no-subreaper', '--no-pivot',
  '--no-new-keyring', '--preserve-fds', '--keep',
] as const;
const HELP_FLAGS = ['--help', '-h'];

export type RunMode = 'wasm' | 'oci' | 'help';

/**
 * Decides what `hyrun run ARGS` means: runc's `run ID` or running a Wasm file. `args` are the
 * arguments after `run`. The rule, in order (also in `hyrun help run`):
 *  1. `--help`/`-h` before the first positional: help;
 *  2. an OCI-only flag (--bundle/-b, --detach/-d, --console-socket, …) before it: OCI;
 *  3. a Wasm-only flag (--dir, --env, --memory, --tcplisten) before it: Wasm;
 *  4. the positional ends in .wasm/.wat, or is an existing file starting with the \0asm magic: Wasm;
 *  5. `config.json` exists in the bundle directory (the current directory): OCI;
 *  6. otherwise Wasm (so a mistyped file gets the file-mode error, not a bundle error).
 */
export function chooseRunMode(args: string[], cwd: string = process.cwd()): RunMode {
  let positional: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positional = args[i + 1];
      break;
    }
    if (arg.startsWith('-') && arg !== '-') {
      const name = arg.split('=', 1)[0];
      if (HELP_FLAGS.includes(name)) return 'help';
      if ((OCI_RUN_FLAGS as readonly string[]).includes(name)) return 'oci';
      if ((WASM_RUN_FLAGS as readonly string[]).includes(name)) return 'wasm';
      continue; // unknown flag: whichever parser runs reports it
    }
    positional = arg;
    break;
  }
  if (positional !== undefined) {
    if (/\.(wasm|wat)$/i.test(positional)) return 'wasm';
    if (hasWasmMagic(resolve(cwd, positional))) return 'wasm';
  }
  return existsSync(join(cwd, 'config.json')) ? 'oci' : 'wasm';
}

function hasWasmMagic(path: string): boolean {
  let fd: number | undefined;
  try {
    if (!statSync(path).isFile()) return false;
    fd = openSync(path, 'r');
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from([0, 0x61, 0x73, 0x6d]));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What the command line asks for, validated. */
export interface RunRequest {
  file: string;
  /** Everything after FILE, untouched (even arguments that look like flags). */
  guestArgs: string[];
  env: string[];
  preopens: Preopen[];
  memoryLimit?: number;
  tcpListen: string[];
}

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10,
  m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20,
  g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30,
};
const WASM_PAGE = 65536;
// A 32-bit linear memory cannot address more, so a larger cap is surely a typo.
const MAX_MEMORY = 4 * 2 ** 30;

/** `--memory` value: bytes, or a number with K/M/G (KiB/MiB/GiB; all binary, like docker's 1g). */
export function parseMemorySize(text: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? m[2].toLowerCase() : '';
  if (!m || !(unit in UNITS)) {
    throw new UsageError(`--memory '${text}' is not a size; give bytes or a binary unit, e.g. 1048576, 64KiB, 16MiB, 1GiB`);
  }
  const bytes = Number(m[1]) * UNITS[unit];
  if (bytes < WASM_PAGE) throw new UsageError(`--memory '${text}' is below one Wasm page; give at least 64KiB`);
  if (bytes > MAX_MEMORY) throw new UsageError(`--memory '${text}' is above the 4GiB a 32-bit Wasm memory can use; give at most 4GiB`);
  return bytes;
}

/** `--dir HOST` (preopened under the same name) or `--dir HOST::GUEST`; HOST must be a directory. */
export function parseDirSpec(text: string, cwd: string = process.cwd()): Preopen {
  const sep = text.indexOf('::');
  const host = sep < 0 ? text : text.slice(0, sep);
  const guestPath = sep < 0 ? text : text.slice(sep + 2);
  if (host === '') throw new UsageError(`--dir '${text}' has an empty host directory; write HOST or HOST::GUEST`);
  if (guestPath === '') throw new UsageError(`--dir '${text}' has an empty guest path after '::'; write HOST::GUEST, e.g. ./data::/data`);
  const hostPath = resolve(cwd, host);
  let isDir: boolean;
  try {
    isDir = statSync(hostPath).isDirectory();
  } catch {
    throw new UsageError(`--dir '${text}': ${host} does not exist; create it or fix the path`);
  }
  if (!isDir) throw new UsageError(`--dir '${text}': ${host} is not a directory; --dir preopens directories only`);
  return { hostPath, guestPath };
}

function checkEnv(text: string): string {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--env '${text}' is not KEY=VALUE; write e.g. --env HOME=/`);
  return text;
}

function checkListen(text: string): string {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--tcplisten '${text}' is not HOST:PORT; write e.g. 127.0.0.1:8080`);
  return text;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Parses the arguments after `run` in Wasm file mode. Throws UsageError (exit 125) on bad input. */
export function parseRunArgs(args: string[], cwd: string = process.cwd()): RunRequest {
  const cmd = new Command('run')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    .helpOption(false)
    .option('--env <KEY=VALUE>', 'environment variable', collect, [] as string[])
    .option('--dir <HOST[::GUEST]>', 'preopened directory', collect, [] as string[])
    .option('--memory <SIZE>', 'linear memory cap')
    .option('--tcplisten <HOST:PORT>', 'preopened listening socket', collect, [] as string[])
    .argument('[file]')
    .argument('[args...]')
    // Stop at FILE: everything after it belongs to the guest.
    .passThroughOptions();
  try {
    cmd.parse(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw new UsageError(commanderMessage(error));
    throw error;
  }
  const [file, guestArgs] = cmd.processedArgs as [string | undefined, string[]];
  const opts = cmd.opts<{ env: string[]; dir: string[]; memory?: string; tcplisten: string[] }>();
  if (file === undefined || file === '') {
    throw new UsageError('run needs a file: hyrun run [--env K=V] [--dir HOST[::GUEST]] [--memory SIZE] FILE.wasm|FILE.wat [ARGS...]');
  }
  return {
    file,
    guestArgs,
    env: opts.env.map(checkEnv),
    preopens: opts.dir.map((d) => parseDirSpec(d, cwd)),
    memoryLimit: opts.memory === undefined ? undefined : parseMemorySize(opts.memory),
    tcpListen: opts.tcplisten.map(checkListen),
  };
}

// Commander's messages are multi-line ("error: …\n(Did you mean …?)"); fold them into one line.
function commanderMessage(error: CommanderError): string {
  const [first, ...rest] = error.message.replace(/^error:\s*/, '').split('\n');
  const suggestion = rest.join(' ').match(/Did you mean (\S+?)\?/);
  const hint = suggestion ? ` (did you mean ${suggestion[1]}?)` : '';
  switch (error.code) {
    case 'commander.unknownOption':
      return `run: ${first}${hint}; options go before FILE, see 'hyrun help run'`;
    case 'commander.optionMissingArgument':
      return `run: ${first}; see 'hyrun help run'`;
    default:
      return `run: ${first}; see 'hyrun help run'`;
  }
}

/** The executor's spec for a request: guest argv[0] is FILE exactly as given. */
export function toSpec(req: RunRequest): WasmRunSpec {
  return {
    module: resolve(req.file),
    args: [req.file, ...req.guestArgs],
    env: req.env,
    preopens: req.preopens,
    memoryLimit: req.memoryLimit,
    tcpListen: req.tcpListen.length > 0 ? req.tcpListen : undefined,
  };
}

/** Cheap checks the user deserves a precise answer for before the engine is loaded. */
export function checkModuleFile(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new UsageError(`${file}: no such file; check the path (FILE is relative to the current directory)`, 127);
  }
  if (!st.isFile()) throw new UsageError(`${file}: not a regular file; give a .wasm or .wat module`, 126);
}

/** Runs a Wasm file; does not return unless the executor is missing (then throws). */
export async function runWasmFile(args: string[]): Promise<never> {
  const req = parseRunArgs(args);
  checkModuleFile(req.file);
  const spec = toSpec(req);
  // Lazy: `hyrun help` and parse errors must not pay for the engine.
  const { executeAndExit } = await import('../wasm/executor.js');
  return executeAndExit(spec);
}
