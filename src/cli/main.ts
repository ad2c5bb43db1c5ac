// hyrun's single entry point (bundled to dist/hyrun.cjs, started by bin/hyrun and bin/hyrun-wasm).
// Only dispatch lives here; every branch lazy-loads what it needs so that `hyrun run hello.wasm`
// and `hyrun --version` never evaluate the OCI lifecycle code (help reads only its flag table).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LaunchError } from '../wasm/engine.js';
import { printError, UsageError } from './errors.js';
import { commandHelp, generalHelp } from './help.js';

// First thing: SIGUSR1 must never open node's inspector (127.0.0.1:9229, arbitrary JS for anyone
// on that loopback). A listener replaces node's inspector handler with libuv's; removing it puts
// the default action back (the process dies of the signal, as a native program does). Node 20 has
// no --disable-sigusr1. Foreground run/exec install their own listener to forward it.
process.on('SIGUSR1', () => {});
process.removeAllListeners('SIGUSR1');

async function runOci(argv: string[]): Promise<number> {
  // The OCI layer (src/cli/oci) parses global flags and handles unknown commands itself.
  const { runOciCli } = await import('./oci/index.js');
  return runOciCli(argv);
}

/**
 * `install` and `doctor` live in their own bundle (dist/engine.cjs, with the TOML library) so container
 * commands never load it; from the per-file build (dist/src/cli/main.js) they are imported directly.
 */
async function runEngine(command: string, argv: string[]): Promise<number> {
  const bundle = new URL('./engine.cjs', import.meta.url);
  const unbundled = '../engine/cli.js'; // a variable: esbuild must not pull the module into this bundle
  const mod = (existsSync(bundle) ? bundledRequire(bundle.pathname) : await import(unbundled)) as typeof import('../engine/cli.js');
  return mod.runEngineCommand(command, argv);
}

// The image commands are their own bundle (dist/hyrun-image.cjs: parsers, tar, registry client), so
// `hyrun run FILE.wasm` and the OCI commands never parse them. Unbundled (tests), the module itself.
async function runImage(command: string, args: string[]): Promise<number> {
  const bundled = new URL('./hyrun-image.cjs', import.meta.url);
  const unbundled = './image.js'; // a variable: esbuild must not pull the module into this bundle
  const mod = (existsSync(bundled) ? bundledRequire(bundled.pathname) : await import(unbundled)) as typeof import('./image.js');
  return mod.runImageCli(command, args);
}

/**
 * Loads a sibling bundle (CommonJS) with require, not import(): dist/hyrun.cjs runs this bundle
 * from V8's code cache, and node 20 loses a script's dynamic-import hook when V8 takes its code
 * from a cache, so an import() from here would fail there.
 */
const bundledRequire = (path: string): unknown => createRequire(import.meta.url)(path);

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(generalHelp());
      return 0;
    case 'help': {
      if (rest.length === 0) {
        process.stdout.write(generalHelp());
        return 0;
      }
      const text = commandHelp(rest[0]);
      if (text === undefined) throw new UsageError(`no help for unknown command '${rest[0]}'; run 'hyrun help' for the list`);
      process.stdout.write(text);
      return 0;
    }
    case '--version':
    case '-v': {
      const { versionText } = await import('./version.js');
      process.stdout.write(versionText());
      return 0;
    }
    case 'run': {
      // `hyrun run IMAGE` (src/cli/run-target.ts says how it is told apart) before the file/OCI rule.
      const { isImageRun } = await import('./run-target.js');
      if (isImageRun(rest)) return runImage('run', rest);
      const { chooseRunMode, runWasmFile } = await import('./run.js');
      const mode = chooseRunMode(rest);
      if (mode === 'help') {
        process.stdout.write(commandHelp('run') ?? '');
        return 0;
      }
      if (mode === 'wasm') return runWasmFile(rest);
      return runOci(argv);
    }
    case 'serve': {
      // `hyrun serve [OPTIONS] FILE`: `run`'s options and FILE, for HTTP components only.
      if (rest[0] === '--help' || rest[0] === '-h') {
        process.stdout.write(commandHelp('serve') ?? '');
        return 0;
      }
      const { runWasmFile } = await import('./run.js');
      return runWasmFile(rest, true);
    }
    case 'install':
    case 'doctor':
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(commandHelp(first) ?? '');
        return 0;
      }
      return runEngine(first, rest);
    case 'build': case 'images': case 'inspect': case 'tag': case 'rmi': case 'save': case 'load': case 'prune':
    case 'pull': case 'push': case 'login': case 'logout': case 'logs': case 'stop': case 'rm':
    case '__supervise': // internal: the process that runs a detached `run IMAGE` container
      return runImage(first, rest);
    case 'ps': {
      // runc's `ps ID` names a container; `hyrun ps [-a] [--format json]` lists run IMAGE containers.
      const { isContainerPs } = await import('./run-target.js');
      if (isContainerPs(rest)) return runImage('ps', rest);
      return runOci(argv);
    }
    default:
      // Other commands and global flags (--root, --log, …) before the command: the OCI layer.
      return runOci(argv);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof LaunchError) {
      printError(error.message);
      process.exitCode = error.exitCode;
      return;
    }
    // A bug, not bad input: keep the stack so it can be reported.
    process.stderr.write(`hyrun: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 125;
  },
);
