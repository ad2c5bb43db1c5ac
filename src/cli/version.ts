// `hyrun --version`, in runc's shape ("NAME version X" then "key: value" lines) with crun's
// "+FEATURE" tag line naming the Wasm engine.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** First line of `crun --version`, else of `runc --version`, or undefined when neither works. */
export function delegateVersion(candidates: string[] = ['crun', 'runc']): string | undefined {
  for (const bin of candidates) {
    try {
      const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
      const first = out.split('\n', 1)[0].trim();
      if (/ version /.test(first)) return first;
    } catch {
      // missing or broken: try the next one
    }
  }
  return undefined;
}

export function versionText(): string {
  return [
    `hyrun version ${hyrunVersion()}`,
    `delegate: ${delegateVersion() ?? 'none found (install crun or runc for Linux containers)'}`,
    `node: ${process.versions.node}`,
    `+WASM:v8 ${process.versions.v8}`,
    '',
  ].join('\n');
}
