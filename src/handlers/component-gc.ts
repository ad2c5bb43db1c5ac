// Collecting the transpile cache (<cache>/components/<transpiler tag>/<sha256>: src/wasm/component.ts,
// docs/components.md "The transpile cache"). Every transpiled component stays until it has gone
// unused for a while; `hyrun prune` collects, and so does a container's create, at most once a day.
//
// What goes:
//  - a component of the current transpiler unused for UNUSED_MS (30 days): its next start
//    transpiles it again (~1 s);
//  - a component of another transpiler tag (an older or newer hyrun) unused for OTHER_TAG_UNUSED_MS
//    (a day): after an upgrade nothing reads them, but a second hyrun on the same host that still
//    runs them keeps them by using them;
//  - leftovers of transpiles that died (`.new-*` older than an hour), and remembered digests
//    (`.by-file`) of components that are gone.
// What stays, whatever its age: a component a container of this cache was created with, while
// that container exists (its transpiled form is bind-mounted into it; runtime-gc.ts's
// registrations name every such container). When a registration's record cannot be read (a
// create still writing it), no component is collected.
//
// "Used" is the component directory's modification time: a start that finds it in the cache
// (component.ts markUsed) sets it to now when it is more than an hour old.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { TRANSPILER_TAG } from '../wasm/transpiler-tag.js';
import { componentsInUse, lock } from './runtime-gc.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const UNUSED_MS = 30 * DAY;
export const OTHER_TAG_UNUSED_MS = DAY;
/** A transpile in progress takes seconds: a temporary this old was left by one that died. */
const STALE_TEMP_MS = HOUR;
/**
 * The stamp of the last collection a create made (a create collects at most once a day): beside
 * `components/`, not in it, where every name is a transpiler tag's directory.
 */
const LAST_COLLECTION = '.components-collected';

export interface Collected {
  /** The transpiled components removed (`tag/sha256`). */
  removed: string[];
  bytes: number;
  /** Kept because a container uses them. */
  inUse: number;
}

const DIGEST = /^[0-9a-f]{64}$/;

function sizeOf(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    try {
      bytes += statSync(join(dir, name)).size;
    } catch {
      // gone meanwhile
    }
  }
  return bytes;
}

/** Renamed first (the name disappears at once, a start then transpiles again), removed after. */
function remove(parent: string, name: string): void {
  const doomed = join(parent, `.gc-${name}-${process.pid}`);
  renameSync(join(parent, name), doomed);
  rmSync(doomed, { recursive: true, force: true });
}

/**
 * Collects `cacheDir`'s transpile cache (cacheDir: hyrun's cache directory, the one holding
 * `components/` and the runtime directories' registrations). Returns what it removed; nothing
 * when another hyrun holds the cache's lock (waitMs), or when the in-use list is in doubt.
 */
export function collectComponents(cacheDir: string, options: { now?: number; waitMs?: number } = {}): Collected {
  const now = options.now ?? Date.now();
  const out: Collected = { removed: [], bytes: 0, inUse: 0 };
  const top = join(cacheDir, 'components');
  if (!existsSync(top)) return out;
  const unlock = lock(cacheDir, options.waitMs ?? 0);
  if (!unlock) return out;
  try {
    const used = componentsInUse(cacheDir);
    for (const tag of readdirSync(top)) {
      if (tag.startsWith('.')) continue;
      const parent = join(top, tag);
      const maxAge = tag === TRANSPILER_TAG ? UNUSED_MS : OTHER_TAG_UNUSED_MS;
      let names: string[];
      try {
        names = readdirSync(parent);
      } catch {
        continue; // not a directory
      }
      for (const name of names) {
        const path = join(parent, name);
        let mtime: number;
        try {
          mtime = statSync(path).mtimeMs;
        } catch {
          continue;
        }
        if (name.startsWith('.new-') || name.startsWith('.gc-')) {
          if (now - mtime > STALE_TEMP_MS) rmSync(path, { recursive: true, force: true });
          continue;
        }
        if (!DIGEST.test(name)) continue;
        if (used.digests.has(name)) {
          out.inUse++;
          continue;
        }
        if (used.unknown || now - mtime <= maxAge) continue;
        const bytes = sizeOf(path);
        remove(parent, name);
        out.removed.push(`${tag}/${name}`);
        out.bytes += bytes;
      }
      forgetRemovedDigests(parent);
      // A tag with nothing left (another hyrun's, collected): its directory goes too.
      if (tag !== TRANSPILER_TAG && readdirSync(parent).every((n) => n === '.by-file')) {
        rmSync(join(parent, '.by-file'), { recursive: true, force: true });
        try {
          rmdirSync(parent);
        } catch {
          // a start of that hyrun put something there meanwhile
        }
      }
    }
  } finally {
    unlock();
  }
  return out;
}

/** The remembered digests (component.ts rememberDigest: file identity -> sha256) of components no longer cached. */
function forgetRemovedDigests(parent: string): void {
  const dir = join(parent, '.by-file');
  let records: string[];
  try {
    records = readdirSync(dir);
  } catch {
    return;
  }
  for (const r of records) {
    try {
      const digest = readFileSync(join(dir, r), 'utf8');
      if (!existsSync(join(parent, digest))) rmSync(join(dir, r), { force: true });
    } catch {
      // a writer's temporary, or gone
    }
  }
}

/**
 * A container create's collection: at most once a day per cache (the stamp is taken first, so
 * concurrent creates do not all collect). Best effort: housekeeping never fails a create.
 */
export function collectComponentsDaily(cacheDir: string, now = Date.now()): void {
  const stamp = join(cacheDir, LAST_COLLECTION);
  try {
    if (now - statSync(stamp).mtimeMs < DAY) return;
  } catch {
    // never collected
  }
  try {
    if (!existsSync(join(cacheDir, 'components'))) return;
    closeSync(openSync(stamp, 'a'));
    utimesSync(stamp, now / 1000, now / 1000);
    collectComponents(cacheDir, { now });
  } catch {
    // the next create tries again
  }
}
