// The runc-compatible command line (see docs/oci-cli.md): parse global flags, the command and its
// flags, then hand over to src/runtime. Every refusal: one line on stderr, one error line in --log.
import { basename } from 'node:path';
import { OLD_CRUN_MAX_OCI_VERSION, validateId } from '../../oci/config.js';
import { OciError } from '../../oci/errors.js';
import { Logger, type LogFormat } from '../../runtime/log.js';
import { DEFAULT_ROOT } from '../../runtime/state.js';
import { setDebugSink, type GlobalOptions } from '../../runtime/delegate.js';
import * as lc from '../../runtime/lifecycle.js';
import { bool, COMMAND_FLAGS, GLOBAL_FLAGS, list, parseFlags, str, uint, type FlagValues } from './parse.js';

/** argv = process.argv.slice(2): global flags, command, command flags, operands. */
export async function runOciCli(argv: string[]): Promise<number> {
  // A logger before parsing, so that even a bad global flag reaches the --log file when we can find it.
  let log = earlyLogger(argv);
  try {
    const g = parseFlags(argv, GLOBAL_FLAGS, { context: 'global', stopAtPositional: true });
    const opts = globalOptions(g.flags);
    log = new Logger(opts.log, opts.logFormat, opts.debug);
    if (opts.debug) {
      const l = log;
      setDebugSink((m) => l.debug(m));
    }
    const [command, ...rest] = g.positionals;
    if (command === undefined) throw new OciError('no command given: run `hyrun help` for the list');
    // bin/hyrun (sh) starts node on the bundle and says what it was invoked as.
    const invokedAs = process.env.HYRUN_INVOKED_AS || basename(process.argv[1] ?? 'hyrun');
    delete process.env.HYRUN_INVOKED_AS;
    return await dispatch({ opts, log, invokedAs }, command, rest);
  } catch (e) {
    if (e instanceof OciError) {
      log.error(e.message);
      return e.exitCode;
    }
    throw e;
  }
}

function earlyLogger(argv: string[]): Logger {
  let file: string | undefined;
  let format: LogFormat = 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) break;
    const [k, v] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, argv[i + 1]];
    if (k === '--log') file = v;
    if (k === '--log-format' && v === 'json') format = 'json';
  }
  return new Logger(file, format, false);
}

function globalOptions(f: FlagValues): GlobalOptions {
  const logFormat = str(f, 'log-format') ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new OciError(`invalid --log-format ${JSON.stringify(logFormat)}: use text or json`);
  const rootless = str(f, 'rootless');
  if (rootless !== undefined && !['true', 'false', 'auto'].includes(rootless)) {
    throw new OciError(`invalid --rootless ${JSON.stringify(rootless)}: use true, false or auto`);
  }
  const root = str(f, 'root') ?? DEFAULT_ROOT;
  if (root === '') throw new OciError('--root must not be empty');
  return {
    root: root.startsWith('/') ? root : `${process.cwd()}/${root}`,
    log: str(f, 'log'),
    logFormat,
    debug: bool(f, 'debug'),
    systemdCgroup: bool(f, 'systemd-cgroup'),
    cgroupManager: str(f, 'cgroup-manager'),
    rootless,
    delegate: str(f, 'delegate') ?? (process.env.HYRUN_DELEGATE || undefined),
  };
}

const one = (command: string, positionals: string[], max = 1): string => {
  const id = positionals[0];
  if (positionals.length > max) {
    throw new OciError(`${command}: unexpected argument ${JSON.stringify(positionals[max])}: usage: hyrun ${command} [flags] ID`);
  }
  return validateId(id, command);
};

async function dispatch(ctx: lc.Ctx, command: string, args: string[]): Promise<number> {
  const specs = COMMAND_FLAGS[command];
  if (!specs) throw new OciError(`unknown command ${JSON.stringify(command)}: run \`hyrun help\` for the list`);
  if (args.includes('--help') || args.includes('-h')) {
    const { commandHelp } = await import('../help.js');
    process.stdout.write(commandHelp(command === 'ls' ? 'list' : command) ?? `hyrun ${command}\n`);
    return 0;
  }
  const stop = command === 'exec' || command === 'ps';
  const p = parseFlags(args, specs, { context: command, stopAtPositional: stop });
  const f = p.flags;
  const createFlags = (): lc.CreateFlags => ({
    bundle: str(f, 'bundle'),
    pidFile: str(f, 'pid-file'),
    consoleSocket: str(f, 'console-socket'),
    noPivot: bool(f, 'no-pivot'),
    noNewKeyring: bool(f, 'no-new-keyring'),
    preserveFds: uint(f, 'preserve-fds', command),
  });
  switch (command) {
    case 'create':
      return lc.create(ctx, one(command, p.positionals), createFlags());
    case 'run':
      return lc.run(ctx, one(command, p.positionals), { ...createFlags(), detach: bool(f, 'detach'), keep: bool(f, 'keep') });
    case 'start':
    case 'pause':
    case 'resume':
      return lc.passThrough(ctx, command, one(command, p.positionals), []);
    case 'state':
      return lc.state(ctx, one(command, p.positionals));
    case 'kill':
      return lc.kill(ctx, one(command, p.positionals, 2), p.positionals[1], bool(f, 'all'));
    case 'delete':
      return lc.remove(ctx, one(command, p.positionals), bool(f, 'force'));
    case 'ps': {
      const id = validateId(p.positionals[0], command);
      const format = str(f, 'format');
      if (format !== undefined && format !== 'json' && format !== 'table') throw new OciError(`ps: invalid --format ${JSON.stringify(format)}: use table or json`);
      return lc.passThrough(ctx, 'ps', id, format ? ['--format', format] : [], p.positionals.slice(1));
    }
    case 'update': {
      const id = one(command, p.positionals);
      return lc.update(ctx, id, str(f, 'resources'), p.raw.filter((a) => !a.startsWith('--resources=')));
    }
    case 'exec': {
      const id = validateId(p.positionals[0], command);
      return lc.exec(ctx, id, {
        process: str(f, 'process'),
        args: p.positionals.slice(1),
        pidFile: str(f, 'pid-file'),
        consoleSocket: str(f, 'console-socket'),
        detach: bool(f, 'detach'),
        preserveFds: uint(f, 'preserve-fds', command),
        tty: bool(f, 'tty'),
        env: list(f, 'env'),
        cwd: str(f, 'cwd'),
        user: str(f, 'user'),
        additionalGids: list(f, 'additional-gids'),
        caps: list(f, 'cap'),
        noNewPrivs: bool(f, 'no-new-privs'),
        apparmor: str(f, 'apparmor'),
        processLabel: str(f, 'process-label'),
        cgroup: list(f, 'cgroup'),
        ignorePaused: bool(f, 'ignore-paused'),
      });
    }
    case 'list':
    case 'ls':
      if (p.positionals.length) throw new OciError(`${command}: unexpected argument ${JSON.stringify(p.positionals[0])}`);
      return lc.list(ctx, str(f, 'format') ?? 'table', bool(f, 'quiet'));
    case 'spec':
      return spec(ctx, f, p.positionals);
    case 'features':
      return features(ctx);
    case 'version': {
      const { versionText } = await import('../version.js');
      process.stdout.write(versionText());
      return 0;
    }
  }
  throw new OciError(`unknown command ${JSON.stringify(command)}`);
}

async function spec(ctx: lc.Ctx, f: FlagValues, positionals: string[]): Promise<number> {
  if (positionals.length) throw new OciError(`spec: unexpected argument ${JSON.stringify(positionals[0])}`);
  const { resolveDelegate, runDelegate } = await import('../../runtime/delegate.js');
  const d = resolveDelegate(ctx.opts.delegate);
  const args = ['spec'];
  const b = str(f, 'bundle');
  if (b) args.push('--bundle', b);
  if (bool(f, 'rootless')) args.push('--rootless');
  return (await runDelegate(ctx.opts, d, args)).code;
}

async function features(ctx: lc.Ctx): Promise<number> {
  const { resolveDelegate, runDelegate } = await import('../../runtime/delegate.js');
  const { fallbackFeatures, isFeatures, withHyrun } = await import('../../oci/features.js');
  const d = resolveDelegate(ctx.opts.delegate);
  let doc;
  if (d.kind !== 'crun') {
    // runc >= 1.1 has `features`; anything else that fails gets the fallback.
    const r = await runDelegate(ctx.opts, d, ['features'], { capture: true, quiet: false }).catch(() => undefined);
    try {
      const parsed: unknown = r && r.code === 0 ? JSON.parse(r.stdout) : undefined;
      if (isFeatures(parsed)) doc = parsed;
    } catch {
      // not JSON: fallback below
    }
  }
  doc ??= fallbackFeatures(d.kind === 'crun' ? OLD_CRUN_MAX_OCI_VERSION : '1.0.2');
  process.stdout.write(JSON.stringify(withHyrun(doc), null, 2) + '\n');
  return 0;
}
