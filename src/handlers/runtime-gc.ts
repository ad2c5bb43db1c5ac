// Collecting old runtime directories (runtime-dir.ts makes one per node binary and build, so every
// upgrade leaves one behind). A container keeps the directory it was created with until it is
// deleted: each Wasm container registers itself as a user of its directory, and a directory is
// removed only when it is not the current one and no registered container still exists.
//
// Users live beside the directories, never inside them (a runtime dir is mounted into every Wasm
// container, and must not show other containers' paths): <cache>/users/runtime-<key>/<hash>, a file
// holding the container's state dir (<root>/<id>). Engines keep containers under many --roots, so
// hyrun cannot list them all; the registrations are the only complete list.
//
// Directories without a users dir were made before hyrun registered users: their users are unknown,
// so they are never collected. Registering and collecting hold one lock (<cache>/.gc.lock), so a
// directory cannot be collected between another build's create choosing it and registering.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { lazyCrypto } from './lazy-crypto.js';

const LOCK = '.gc.lock';
/** A lock older than this was left by a process that died holding it. */
const STALE_LOCK_MS = 30_000;

const usersDir = (runtimeDir: string): string => join(dirname(runtimeDir), 'users', basename(runtimeDir));
/** Where a container's registration as a user of runtimeDir lives. */
export const userFile = (runtimeDir: string, stateDir: string): string =>
  join(usersDir(runtimeDir), lazyCrypto().createHash('sha256').update(stateDir).digest('hex').slice(0, 32));

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Takes the cache's lock; waits up to waitMs for it. Returns the release function, or undefined. */
export function lock(cacheDir: string, waitMs: number): (() => void) | undefined {
  const file = join(cacheDir, LOCK);
  const end = Date.now() + waitMs;
  for (;;) {
    try {
      closeSync(openSync(file, 'wx', 0o600));
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    try {
      if (Date.now() - statSync(file).mtimeMs > STALE_LOCK_MS) rmSync(file, { force: true });
    } catch {
      // released meanwhile
    }
    if (Date.now() >= end) return undefined;
    Atomics.wait(pause, 0, 0, 5);
  }
}

/**
 * Registers the container whose state dir is `stateDir` as a user of `runtimeDir`. False when the
 * directory was collected meanwhile (the caller makes it again and registers again).
 */
export function useRuntimeDir(runtimeDir: string, stateDir: string): boolean {
  const unlock = lock(dirname(runtimeDir), 10_000);
  if (!unlock) throw new Error(`the runtime cache ${dirname(runtimeDir)} stays locked (${LOCK}); remove the lock file if no hyrun is running`);
  try {
    if (!existsSync(join(runtimeDir, 'loader'))) return false;
    mkdirSync(usersDir(runtimeDir), { recursive: true, mode: 0o700 });
    writeFileSync(userFile(runtimeDir, stateDir), stateDir + '\n', { mode: 0o600 });
    return true;
  } finally {
    unlock();
  }
}

/** The container is gone: it no longer holds its runtime dir. */
export function releaseRuntimeDir(runtimeDir: string, stateDir: string): void {
  rmSync(userFile(runtimeDir, stateDir), { force: true });
}

/**
 * Whether the container registered from `stateDir` still uses `runtimeDir`. In doubt (a create
 * still writing its record, an unreadable record), it does.
 */
function stillUses(stateDir: string, runtimeDir: string): boolean {
  if (!existsSync(stateDir)) return false;
  let record: { data?: { runtimeDir?: unknown } };
  try {
    record = JSON.parse(readFileSync(join(stateDir, 'hyrun.json'), 'utf8')) as typeof record;
  } catch {
    return true;
  }
  const used = record?.data?.runtimeDir;
  // Another container now lives under that id (deleted and created again with a newer build).
  return typeof used === 'string' ? used === runtimeDir : true;
}

/**
 * Removes every runtime dir of `cacheDir` other than `current` that no existing container uses.
 * Best effort: skipped when another hyrun holds the lock. Returns the names it removed.
 */
export function collectRuntimeDirs(cacheDir: string, current: string): string[] {
  const unlock = lock(cacheDir, 0);
  if (!unlock) return [];
  const removed: string[] = [];
  try {
    for (const name of readdirSync(cacheDir)) {
      const dir = join(cacheDir, name);
      // A collection that died between its rename and the removal.
      if (name.startsWith('.tmp-gc-')) rmSync(dir, { recursive: true, force: true });
      if (!name.startsWith('runtime-') || dir === current) continue;
      const users = usersDir(dir);
      if (!existsSync(users)) continue; // made before users were registered: unknown users
      let inUse = false;
      for (const u of readdirSync(users)) {
        const file = join(users, u);
        let stateDir: string;
        try {
          stateDir = readFileSync(file, 'utf8').trim();
        } catch {
          continue;
        }
        if (stillUses(stateDir, dir)) inUse = true;
        else rmSync(file, { force: true });
      }
      if (inUse) continue;
      // Renamed first: the name disappears at once, the contents go after.
      const doomed = join(cacheDir, `.tmp-gc-${name}-${process.pid}`);
      renameSync(dir, doomed);
      rmSync(doomed, { recursive: true, force: true });
      rmSync(users, { recursive: true, force: true });
      removed.push(name);
    }
  } finally {
    unlock();
  }
  return removed;
}

/** The state dirs registered as users of a runtime dir. */
export function runtimeDirUsers(runtimeDir: string): string[] {
  try {
    return readdirSync(usersDir(runtimeDir)).map((u) => readFileSync(join(usersDir(runtimeDir), u), 'utf8').trim());
  } catch {
    return [];
  }
}

/**
 * The component digests (transpiled forms, docs/components.md) the existing registered containers
 * of `cacheDir` were created with; `unknown` when a registered container's record cannot be read
 * (a create still writing it): then any digest may be in use.
 */
export function componentsInUse(cacheDir: string): { digests: Set<string>; unknown: boolean } {
  const digests = new Set<string>();
  let unknown = false;
  const users = join(cacheDir, 'users');
  let runtimeDirs: string[];
  try {
    runtimeDirs = readdirSync(users);
  } catch {
    return { digests, unknown };
  }
  for (const rt of runtimeDirs) {
    for (const stateDir of runtimeDirUsers(join(cacheDir, rt))) {
      if (!existsSync(stateDir)) continue;
      try {
        const record = JSON.parse(readFileSync(join(stateDir, 'hyrun.json'), 'utf8')) as { data?: { componentDigest?: unknown } };
        if (typeof record?.data?.componentDigest === 'string') digests.add(record.data.componentDigest);
      } catch {
        unknown = true;
      }
    }
  }
  return { digests, unknown };
}
