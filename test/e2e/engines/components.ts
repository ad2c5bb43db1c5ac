// Component fixtures for the engine tests (issue 16 §4). Engines start hyrun with an environment of
// their own (Podman's conmon, containerd, CRI-O drop HYRUN_CACHE_DIR), so their containers use the
// host's default transpile cache, /var/lib/hyrun/components, which other runs share: each test
// gets a copy of its component made unique by a custom section, so that "transpiled at create"
// and "a second start transpiles nothing" are about this run's digest alone.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest } from '../../helpers.js';

/** The transpile cache of hyrun run by root with no HYRUN_CACHE_DIR (src/handlers/runtime-dir.ts). */
export const DEFAULT_COMPONENT_CACHE = '/var/lib/hyrun/components';

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};

/** build/guests/NAME.wasm copied to `dest` with a custom section naming this run: a digest no one else has. */
export function uniqueComponent(name: string, dest: string, tag = `${process.pid}-${Date.now()}-${Math.random()}`): string {
  const bytes = readFileSync(guest(name));
  const label = Buffer.from('hyrun-test-run');
  const payload = Buffer.concat([Buffer.from(leb(label.length)), label, Buffer.from(tag)]);
  writeFileSync(dest, Buffer.concat([bytes, Buffer.from([0, ...leb(payload.length)]), payload]));
  return dest;
}

export const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** digest -> mtime of its meta.json, for every transpiled component in `cache` (a components/ dir). */
export function transpiledIn(cache: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(cache)) return out;
  for (const tag of readdirSync(cache)) {
    for (const d of readdirSync(join(cache, tag))) {
      const meta = join(cache, tag, d, 'meta.json');
      if (existsSync(meta)) out.set(d, statSync(meta).mtimeMs);
    }
  }
  return out;
}

/** Removes this run's transpiled components from a shared cache. */
export function forgetTranspiled(cache: string, digests: string[]): void {
  if (!existsSync(cache)) return;
  for (const tag of readdirSync(cache)) for (const d of digests) rmSync(join(cache, tag, d), { recursive: true, force: true });
}
