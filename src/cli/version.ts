// `hyrun --version`, in runc's shape ("NAME version X" then "key: value" lines) with crun's
// "+FEATURE" tag line naming the Wasm engine.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveDelegate } from '../runtime/delegate.js';
import { nodeBinary, nodeSupport } from '../handlers/self-node.js';
import { nativeStatus, sandboxMode } from '../wasi/native.js';
import { codeCacheStatus } from '../wasm/code-cache.js';

/** hyrun's version from its package.json, found by walking up from this file (bundled or not). */
export function hyrunVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'hyrun' && pkg.version) return pkg.version;
      } catch {
        // not ours or unreadable: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/**
 * The first line of `--version` of the delegate a new container would get (the OCI layer's own
 * choice: --delegate/HYRUN_DELEGATE, else crun when it works on this host, else runc), or why
 * there is none.
 */
export function delegateLine(): string {
  try {
    const d = resolveDelegate(process.env.HYRUN_DELEGATE || undefined);
    return d.version || `${d.path} (its --version failed)`;
  } catch (error) {
    return `none found (${(error as Error).message})`;
  }
}

export function versionText(): string {
  return [
    `hyrun version ${hyrunVersion()}`,
    `delegate: ${delegateLine()}`,
    // The node hyrun runs on (its own, pinned: docs/node.md), and until when it gets security fixes.
    `node: ${process.versions.node} at ${nodeBinary()} (${nodeSupport()})`,
    // The WASI host's syscall addon (openat, openat2, the *at calls, …) and what it makes of the sandbox.
    `addon: ${nativeStatus()}`,
    `sandbox: ${sandboxMode()}`,
    // dist/hyrun.cjs's V8 code cache of the CLI bundle (scripts/cached-entry.cjs): start-up only.
    `code cache: ${codeCacheStatus().replace('not used', 'not used (started without dist/hyrun.cjs)')}`,
    // WASI 0.2 command components: canonical-ABI glue from this transpiler, hyrun's own host (docs/components.md).
    `components: ${typeof __HYRUN_TRANSPILER__ === 'string' ? __HYRUN_TRANSPILER__ : 'jco-transpile'}`,
    `+WASM:v8 ${process.versions.v8}`,
    '',
  ].join('\n');
}
