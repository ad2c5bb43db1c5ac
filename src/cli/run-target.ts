// Tells `hyrun run IMAGE` apart from `hyrun run FILE.wasm` and runc's `hyrun run ID` (the rule is
// also in `hyrun help run`), and `hyrun ps` (run IMAGE containers) from runc's `hyrun ps ID`.
// Cheap on purpose: it runs before every `hyrun run FILE.wasm`; it reads the store's index.json
// only for a bare name that is neither a file nor a runc bundle's ID.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { homedir } from 'node:os';

// Kept free of the image modules (and their libraries): this file is in the start-up path of
// every `hyrun run`, the image code is a separate bundle (dist/hyrun-image.cjs) loaded on demand.
const REF_NAME = 'org.opencontainers.image.ref.name';

/** The store root (same rule as src/image/store.ts defaultStoreRoot; --storage is an image-only flag). */
function storeRootGuess(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HYRUN_STORAGE) return env.HYRUN_STORAGE;
  if (process.getuid?.() === 0) return '/var/lib/hyrun/storage';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local/share'), 'hyrun/storage');
}

// Docker's reference grammar, loosely: lowercase path components, optional :tag and @digest.
const REFERENCE_RE = /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const looksLikeReference = (text: string): boolean => REFERENCE_RE.test(text);

/** Options only `run IMAGE` has. */
export const IMAGE_RUN_FLAGS = [
  '--name', '--rm', '-i', '--interactive', '-t', '--tty', '-it', '-ti', '-e', '--env-file', '-v', '--volume', '-w', '--workdir',
  '--user', '-u', '--annotation', '-p', '--publish', '--platform', '--storage', '--pull', '--tls-verify', '--entrypoint', '--keep-setid',
];
/** Options of the three modes that take a value (so the value is not taken for the positional). */
const VALUE_FLAGS = [
  '--name', '-e', '--env', '--env-file', '-v', '--volume', '-w', '--workdir', '--user', '-u', '--annotation', '--memory', '-m', '-p',
  '--publish', '--platform', '--storage', '--pull', '--entrypoint', '--dir', '--tcplisten', '--bundle', '-b', '--console-socket',
  '--pid-file', '--pidfile', '--preserve-fds', '--addr',
];
const OCI_ONLY = ['--bundle', '-b', '--console-socket', '--pid-file', '--pidfile', '--no-subreaper', '--no-pivot', '--no-new-keyring', '--preserve-fds', '--keep'];
const WASM_ONLY = ['--dir', '--tcplisten', '--allow-net', '--addr', '--instance-reuse'];

/**
 * The arguments of `hyrun run` up to the first positional, as every run-mode rule reads them: each
 * option before it goes to `classify` (its name, without `=value`), whose first answer decides;
 * otherwise the positional (after `--`, the argument that follows). An option in `valueFlags` given
 * without `=` takes the next argument as its value.
 */
export function scanRunArgs<T>(args: readonly string[], classify: (name: string) => T | undefined, valueFlags: readonly string[] = []):
  { decided: T } | { positional: string | undefined } {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return { positional: args[i + 1] };
    if (arg.startsWith('-') && arg !== '-') {
      const name = arg.split('=', 1)[0]!;
      const decided = classify(name);
      if (decided !== undefined) return { decided };
      if (!arg.includes('=') && valueFlags.includes(name)) i++;
      continue; // unknown flag: whichever parser runs reports it
    }
    return { positional: arg };
  }
  return { positional: undefined };
}

/**
 * True when `hyrun run ARGS` means running an image. First rule that applies:
 *  1. an option only `run IMAGE` has (--rm, --name, -e, -v, -i, -t, -p, --platform, …) before the first argument: image;
 *  2. an OCI-only (--bundle, --console-socket, …) or Wasm-file-only (--dir, --tcplisten, --allow-net, --addr, --instance-reuse) option: not an image;
 *  3. the first argument ends in .wasm/.wat, or is an existing file: not an image (a Wasm file);
 *  4. it has a registry path, tag or digest (`/`, `:` or `@`, which runc IDs cannot hold) and its
 *     first path component is not a directory here (build/app is a path): image;
 *  5. config.json in the current directory: not an image (runc's ID);
 *  6. a bare name is an image only when the local store has it (`hello` -> localhost/hello:latest).
 */
export function isImageRun(args: string[], cwd: string = process.cwd(), storeRoot: string = storeRootGuess()): boolean {
  const scan = scanRunArgs(args, (name) => {
    if (name === '--help' || name === '-h') return false;
    if (IMAGE_RUN_FLAGS.includes(name)) return true;
    if (OCI_ONLY.includes(name) || WASM_ONLY.includes(name)) return false;
    return undefined;
  }, VALUE_FLAGS);
  if ('decided' in scan) return scan.decided;
  const positional = scan.positional;
  if (positional === undefined || positional === '') return false;
  if (/\.(wasm|wat)$/i.test(positional)) return false;
  if (isFile(resolve(cwd, positional))) return false;
  // A path into an existing directory here (build/app) is a file, even a missing one.
  if (positional.includes('/') && isDirectory(resolve(cwd, positional.split('/', 1)[0] || '/'))) return false;
  if (/[/:@]/.test(positional)) return looksLikeReference(positional);
  if (existsSync(join(cwd, 'config.json'))) return false;
  return storeHas(storeRoot, positional);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function storeHas(root: string, text: string): boolean {
  if (!looksLikeReference(text)) return false;
  const names = [`localhost/${text}:latest`, `docker.io/library/${text}:latest`];
  try {
    const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as { manifests?: { annotations?: Record<string, string> }[] };
    return (index.manifests ?? []).some((m) => names.includes(m.annotations?.[REF_NAME] ?? ''));
  } catch {
    return false;
  }
}

/** `hyrun ps` lists run IMAGE containers unless it names a container (runc's `ps ID`). */
export function isContainerPs(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--format' || a === '-f') {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return false;
  }
  return true;
}
