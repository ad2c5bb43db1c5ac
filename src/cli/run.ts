// `hyrun run FILE.wasm|FILE.wat [ARGS…]`: run one WASI module directly, no bundle, no container.
// Parsing and validation are plain functions (unit-tested); runWasmFile() hands the spec to the
// executor, which owns signals, the worker thread and the exit status.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultCacheDir } from '../handlers/runtime-dir.js';
import type { Preopen } from '../wasi/context.js';
import { hasWasmMagic, readFileHead } from '../wasm/binary.js';
import type { WasmRunSpec } from '../wasm/engine.js';
import { UsageError } from './errors.js';
import { scanRunArgs } from './run-target.js';

/** Flags only `hyrun run FILE.wasm` understands; any of them before the file means Wasm file mode. */
export const WASM_RUN_FLAGS = ['--dir', '--env', '--memory', '--tcplisten', '--allow-net', '--addr', '--instance-reuse'] as const;
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
 *  3. a Wasm-only flag (--dir, --env, --memory, --tcplisten, --allow-net) before it: Wasm;
 *  4. the positional ends in .wasm/.wat, or is an existing file starting with the \0asm magic: Wasm;
 *  5. `config.json` exists in the bundle directory (the current directory): OCI;
 *  6. otherwise Wasm (so a mistyped file gets the file-mode error, not a bundle error).
 */
export function chooseRunMode(args: string[], cwd: string = process.cwd()): RunMode {
  const scan = scanRunArgs<RunMode>(args, (name) => {
    if (HELP_FLAGS.includes(name)) return 'help';
    if ((OCI_RUN_FLAGS as readonly string[]).includes(name)) return 'oci';
    if ((WASM_RUN_FLAGS as readonly string[]).includes(name)) return 'wasm';
    return undefined;
  });
  if ('decided' in scan) return scan.decided;
  const positional = scan.positional;
  if (positional !== undefined) {
    if (/\.(wasm|wat)$/i.test(positional)) return 'wasm';
    if (fileHasWasmMagic(resolve(cwd, positional))) return 'wasm';
  }
  return existsSync(join(cwd, 'config.json')) ? 'oci' : 'wasm';
}

function fileHasWasmMagic(path: string): boolean {
  const head = readFileHead(path, 4);
  return head !== undefined && hasWasmMagic(head);
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
  /** --allow-net: the guest may use the host's network (a component's wasi:sockets, an HTTP component's outbound requests); denied otherwise. */
  allowNet: boolean;
  /** HTTP components: where to serve (`--addr HOST:PORT`). */
  addr?: string;
  /** `--instance-reuse`: an HTTP component's instance serves request after request. */
  instanceReuse: boolean;
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

/**
 * `--dir HOST` (preopened under the same name) or `--dir HOST::GUEST`, either followed by `:ro`
 * (read-only: every change under it is EROFS) or `:rw` (the default); HOST must be a directory.
 */
export function parseDirSpec(text: string, cwd: string = process.cwd()): Preopen {
  const mode = /:(ro|rw)$/.exec(text);
  const spec = mode ? text.slice(0, -3) : text;
  const sep = spec.indexOf('::');
  const host = sep < 0 ? spec : spec.slice(0, sep);
  const guestPath = sep < 0 ? spec : spec.slice(sep + 2);
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
  return mode?.[1] === 'ro' ? { hostPath, guestPath, readOnly: true } : { hostPath, guestPath };
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

// A parser of its own rather than commander (half of the CLI bundle once) or node:util's parseArgs
// (loading it costs every `hyrun run` ~3 ms of start-up): long options taking a value, and switches.
const OPTION_NAMES = ['env', 'dir', 'memory', 'tcplisten', 'addr'] as const;
const SWITCH_NAMES = ['allow-net', 'instance-reuse'] as const;
type OptionName = (typeof OPTION_NAMES)[number];
type SwitchName = (typeof SWITCH_NAMES)[number];
const isOption = (name: string): name is OptionName => (OPTION_NAMES as readonly string[]).includes(name);
const isSwitch = (name: string): name is SwitchName => (SWITCH_NAMES as readonly string[]).includes(name);

/** hyrun's options before FILE: `--name VALUE` or `--name=VALUE`; repeated ones collected in order. */
function parseOptions(args: string[]): Record<OptionName, string[]> & Record<SwitchName, boolean> {
  const values: Record<OptionName, string[]> & Record<SwitchName, boolean> = { env: [], dir: [], memory: [], tcplisten: [], addr: [], 'allow-net': false, 'instance-reuse': false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const name = flag.startsWith('--') ? flag.slice(2) : '';
    if (isSwitch(name)) {
      if (eq >= 0) throw new UsageError(`run: option '${flag}' takes no value; write ${flag} alone, see 'hyrun help run'`);
      values[name] = true;
      continue;
    }
    if (!isOption(name)) {
      const near = closestOption(flag);
      throw new UsageError(`run: unknown option '${flag}'${near ? ` (did you mean --${near}?)` : ''}; options go before FILE, see 'hyrun help run'`);
    }
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    // As parseArgs: a value that looks like an option must be attached with '='.
    if (value === undefined || (eq < 0 && value.startsWith('-'))) value = undefined;
    if (value === undefined) {
      throw new UsageError(`run: option '${flag}' argument missing; write ${flag} VALUE (or ${flag}=VALUE when VALUE starts with '-'), see 'hyrun help run'`);
    }
    values[name].push(value);
  }
  return values;
}

/** Splits at FILE: hyrun's options before it, the guest's arguments after it. */
function splitAtFile(args: string[]): { options: string[]; file?: string; guestArgs: string[] } {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') return { options: args.slice(0, i), file: args[i + 1], guestArgs: args.slice(i + 2) };
    if (arg.startsWith('-') && arg !== '-') {
      // `--env VALUE`: the value is the next argument whatever it looks like (parseOptions checks it).
      if (arg.startsWith('--') && !arg.includes('=') && isOption(arg.slice(2))) i++;
      continue;
    }
    return { options: args.slice(0, i), file: arg, guestArgs: args.slice(i + 1) };
  }
  return { options: args, guestArgs: [] };
}

/** Parses the arguments after `run` in Wasm file mode. Throws UsageError (exit 125) on bad input. */
export function parseRunArgs(args: string[], cwd: string = process.cwd(), serve = false): RunRequest {
  const split = splitAtFile(args);
  const values = parseOptions(split.options);
  const { file, guestArgs } = split;
  if (file === undefined || file === '') {
    throw new UsageError(serve
      ? 'serve needs a file: hyrun serve [--addr HOST:PORT] [--allow-net] [--instance-reuse] [--env K=V] [--dir HOST[::GUEST][:ro]] FILE.wasm'
      : 'run needs a file: hyrun run [--env K=V] [--dir HOST[::GUEST][:ro]] [--memory SIZE] FILE.wasm|FILE.wat [ARGS...]');
  }
  return {
    file,
    guestArgs,
    env: values.env.map(checkEnv),
    preopens: values.dir.map((d) => parseDirSpec(d, cwd)),
    // The last --memory counts.
    memoryLimit: values.memory.length === 0 ? undefined : parseMemorySize(values.memory[values.memory.length - 1]!),
    tcpListen: values.tcplisten.map(checkListen),
    allowNet: values['allow-net'],
    addr: values.addr.length === 0 ? undefined : checkAddr(values.addr[values.addr.length - 1]!),
    instanceReuse: values['instance-reuse'],
  };
}

function checkAddr(text: string): string {
  const m = /^(?:\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(text);
  if (!m || Number(m[1]) > 65535) throw new UsageError(`--addr '${text}' is not HOST:PORT; write e.g. 0.0.0.0:8080 or 127.0.0.1:8080`);
  return text;
}

/** The option name within edit distance 2 of what was typed, if any. */
function closestOption(typed: string): string | undefined {
  const word = typed.replace(/^-+/, '').split('=', 1)[0];
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of [...OPTION_NAMES, ...SWITCH_NAMES]) {
    const d = editDistance(word, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
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
    componentCache: join(defaultCacheDir(), 'components'),
    ...(req.allowNet ? { allowNet: true } : {}),
    ...(req.addr !== undefined ? { httpAddr: req.addr } : {}),
    ...(req.instanceReuse ? { instanceReuse: true } : {}),
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
export async function runWasmFile(args: string[], serve = false): Promise<never> {
  const req = parseRunArgs(args, process.cwd(), serve);
  checkModuleFile(req.file);
  const spec = toSpec(req);
  // `hyrun serve`: the file must be an HTTP component (the executor says so otherwise).
  if (serve) spec.serve = true;
  // Lazy: `hyrun help` and parse errors must not pay for the engine.
  const { executeAndExit } = await import('../wasm/executor.js');
  return executeAndExit(spec);
}
