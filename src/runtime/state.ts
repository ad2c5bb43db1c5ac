// hyrun's own state: <root>/<id>/hyrun.json and <root>/<id>/route, nothing else it does not need.
// The delegate keeps its state under <root>/@<delegate> (see delegate.ts); the two never share a
// directory.
//
// The route is what bin/hyrun (POSIX sh, no JSON) reads to hand a call straight to the delegate:
// one line "HANDLER KIND DELEGATE-PATH", then the user's bundle on the next line. The CLI writes it
// for every container it creates; bin/hyrun writes it alone for the Linux containers it creates
// itself, so a route without hyrun.json is a complete record too (readRecord). `release` lists the
// files a handler's release() removes, when that is all it does: bin/hyrun deletes such a container
// itself.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ContainerRecord } from '../handlers/types.js';
import { parseJsonFile } from '../oci/config.js';
import { OciError } from '../oci/errors.js';

export const DEFAULT_ROOT = '/run/hyrun';
export const stateDir = (root: string, id: string): string => join(root, id);
const recordFile = (root: string, id: string): string => join(root, id, 'hyrun.json');

const routeFile = (root: string, id: string): string => join(root, id, 'route');

export function readRecord(root: string, id: string): ContainerRecord | undefined {
  try {
    return parseJsonFile<ContainerRecord>(recordFile(root, id), 'state file');
  } catch (e) {
    if (e instanceof OciError && e.message.endsWith('does not exist')) return recordFromRoute(root, id);
    throw e;
  }
}

/**
 * `<root>/<id>/state-direct`, written at create (before the route) when the delegate's own `state`
 * is exactly what engines must see (user's bundle and annotations): bin/hyrun then hands `state` of
 * that Wasm container to the delegate without node. Linux containers need no mark.
 */
export const STATE_DIRECT = 'state-direct';

/** The route line for a record (bin/hyrun splits it on spaces: the path, which may hold some, is last). */
export function routeText(r: Pick<ContainerRecord, 'handler' | 'delegateKind' | 'delegate' | 'bundle'>): string {
  return `${r.handler} ${r.delegateKind} ${r.delegate}\n${r.bundle}\n`;
}

/**
 * For a handler whose release() only removes files: the list bin/hyrun removes when it deletes the
 * container itself (one absolute path per line). Not written when a path cannot be one line.
 */
export function writeReleaseList(root: string, id: string, files: string[]): void {
  if (files.some((f) => !f.startsWith('/') || f.includes('\n'))) return;
  writeFileSync(join(root, id, 'release'), files.map((f) => f + '\n').join(''));
}

/** Written last at create: bin/hyrun takes the fast path only for containers that have one. */
export function writeRoute(root: string, r: ContainerRecord): void {
  const f = routeFile(root, r.id);
  writeFileSync(f + '.tmp', routeText(r));
  renameSync(f + '.tmp', f);
}

/** A container bin/hyrun created on its own (Linux, no hyrun.json): its record, from the route. */
function recordFromRoute(root: string, id: string): ContainerRecord | undefined {
  let text: string;
  let created: Date;
  try {
    text = readFileSync(routeFile(root, id), 'utf8');
    created = statSync(routeFile(root, id)).mtime;
  } catch {
    return undefined;
  }
  const [line = '', bundle = ''] = text.split('\n');
  const m = /^(linux) (crun|runc|other) (\/.*)$/.exec(line);
  // Empty or partial: a create still writing it, or one killed half-way.
  if (!m || !bundle.startsWith('/')) return undefined;
  // bin/hyrun joins $PWD and a relative --bundle without normalising (no fork for realpath).
  return { id, handler: 'linux', delegateKind: m[2] as ContainerRecord['delegateKind'], delegate: m[3]!, bundle: resolve(bundle), created: created.toISOString() };
}

/** Claim <root>/<id> atomically: a second create with the same id fails here. */
export function claimStateDir(root: string, id: string): string {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const dir = stateDir(root, id);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new OciError(`container with id exists: ${id}`);
    throw new OciError(`cannot create the state directory ${dir}: ${(e as Error).message}`);
  }
  return dir;
}

export function writeRecord(root: string, r: ContainerRecord): void {
  const f = recordFile(root, r.id);
  writeFileSync(f + '.tmp', JSON.stringify(r, null, 2) + '\n');
  renameSync(f + '.tmp', f);
}

export function removeStateDir(root: string, id: string): void {
  rmSync(stateDir(root, id), { recursive: true, force: true });
}

/** Ids with a record, sorted. */
export function listRecordIds(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.filter((n) => !n.startsWith('@') && readRecordQuiet(root, n)).sort();
}

function readRecordQuiet(root: string, id: string): boolean {
  try {
    return readRecord(root, id) !== undefined;
  } catch {
    return false;
  }
}
