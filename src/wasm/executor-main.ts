// The in-container entry (bundled as dist/executor.cjs, copied into the runtime directory that Wasm
// containers mount at /.hyrun). The delegate starts it as the container's process; it finds the
// module the way the container would see it, then hands over to executeAndExit (signals, exit
// statuses, traps, memory cap).
//
// The spec comes in an environment variable (base64 JSON, written by src/handlers/wasm.ts): node's
// environment is otherwise empty, and the guest gets exactly spec.env.
import { realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { native } from '../wasi/native.js';
import { RUNTIME_MOUNT, SPEC_ENV } from './engine.js';
import { executeAndExit, LaunchError, type WasmRunSpec } from './executor.js';

// Before anything else: with no JS listener, SIGUSR1 makes node open its inspector on
// 127.0.0.1:9229 in the container's network namespace — arbitrary JS for anyone sharing it (a pod),
// outside the WASI sandbox (observed with node 20; --disable-sigusr1 only exists from node 22.14).
// A guest cannot handle signals, so SIGUSR1 ends it as it would a native program without a handler.
process.on('SIGUSR1', () => process.exit(128 + 10));

const fail = (message: string, code: number): never => {
  process.stderr.write(`hyrun: ${message}\n`);
  process.exit(code);
};

function readSpec(): WasmRunSpec {
  let raw = process.env[SPEC_ENV];
  if (!raw) return fail(`the executor runs inside Wasm containers started by hyrun (no ${SPEC_ENV} in its environment)`, 125);
  delete process.env[SPEC_ENV];
  // Split across SPEC_ENV_1, SPEC_ENV_2, … when large (src/handlers/wasm.ts specEnv).
  for (let i = 1; process.env[`${SPEC_ENV}_${i}`] !== undefined; i++) {
    raw += process.env[`${SPEC_ENV}_${i}`];
    delete process.env[`${SPEC_ENV}_${i}`];
  }
  try {
    const spec = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as WasmRunSpec;
    if (typeof spec.module !== 'string' || !Array.isArray(spec.args) || !Array.isArray(spec.env)) throw new Error('incomplete');
    return spec;
  } catch (e) {
    return fail(`the executor spec is unreadable (${(e as Error).message}); recreate the container with this hyrun`, 125);
  }
}

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * process.args[0] as the container sees it: with a slash, relative to the cwd; a bare name through
 * the guest's PATH, then the cwd (what crun's Wasm handlers do). The runtime dir never counts.
 */
export function resolveModule(name: string, env: string[], cwd: string): string {
  const hidden = (p: string): boolean => {
    let real = p;
    try {
      real = realpathSync(p);
    } catch {
      // missing: reported by the loader
    }
    return [p, real].some((q) => q === RUNTIME_MOUNT || q.startsWith(RUNTIME_MOUNT + '/'));
  };
  const absent = (what: string): never => {
    throw new LaunchError(`${what}: no such file in the container; check process.args[0] (the Wasm module)`, 127);
  };
  if (name.includes('/')) {
    const p = posix.resolve(cwd, name);
    if (hidden(p)) absent(name);
    return p;
  }
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  const candidates = pathVar.split(':').filter(Boolean).map((d) => posix.resolve(cwd, d, name));
  candidates.push(posix.resolve(cwd, name));
  const found = candidates.find((c) => isFile(c) && !hidden(c));
  return found ?? absent(`${name} (looked in PATH=${pathVar} and ${cwd})`);
}

const spec = readSpec();
// What `ps`, `podman top` and `crictl exec ps` show for this process: the module and its arguments,
// as the user wrote them, not the loader and node command line that starts the executor. node's
// process.title cannot reach the loader's part of the command line: the addon rewrites it all.
const title = spec.args.length > 0 ? spec.args.join(' ') : spec.module;
const addon = native();
if (addon === null || addon.setTitle(title, posix.basename(spec.module).slice(0, 15)) < 0) process.title = title;
try {
  spec.module = resolveModule(spec.module, spec.env, process.cwd());
} catch (e) {
  if (e instanceof LaunchError) fail(e.message, e.exitCode);
  throw e;
}
void executeAndExit(spec);
