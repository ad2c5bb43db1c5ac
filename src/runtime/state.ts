// hyrun's own state: <root>/<id>/hyrun.json and nothing else it does not need. The delegate keeps
// its state under <root>/@<delegate> (see delegate.ts); the two never share a directory.
import { mkdirSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from '../handlers/types.js';
import { parseJsonFile } from '../oci/config.js';
import { OciError } from './errors.js';

export const DEFAULT_ROOT = '/run/hyrun';
export const stateDir = (root: string, id: string): string => join(root, id);
const recordFile = (root: string, id: string): string => join(root, id, 'hyrun.json');

export function readRecord(root: string, id: string): ContainerRecord | undefined {
  try {
    return parseJsonFile<ContainerRecord>(recordFile(root, id), 'state file');
  } catch (e) {
    if (e instanceof OciError && e.message.endsWith('does not exist')) return undefined;
    throw e;
  }
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
