// The files `hyrun install` writes: planned first (so --dry-run can show them), then written all or
// nothing, each through a temporary file renamed over the target. What a file held before is kept
// in a record under the install prefix, so --uninstall can put every byte back.
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { unifiedDiff } from './diff.js';
import { EngineError } from './errors.js';

export interface FileChange {
  path: string;
  /** Content now; undefined when the file does not exist. */
  before: string | undefined;
  /** Content to write; undefined to remove the file. */
  after: string | undefined;
  /** Directories this change creates (removed again by uninstall when empty). */
  createsDirs?: string[];
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw new EngineError(`${path} is a directory, not a config file`);
    throw new EngineError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

export const changed = (c: FileChange): boolean => c.before !== c.after;

export function diffOf(changes: FileChange[]): string {
  return changes.filter(changed).map((c) => unifiedDiff(c.path, c.before, c.after)).join('');
}

/** Directories `path` needs that do not exist yet, outermost first. */
export function missingDirs(path: string): string[] {
  const dirs: string[] = [];
  for (let d = dirname(path); !existsSync(d); d = dirname(d)) dirs.unshift(d);
  return dirs;
}

/** Refuses before anything is written when a target cannot be written (read-only, not a directory). */
export function checkWritable(changes: FileChange[]): void {
  for (const c of changes.filter(changed)) {
    let dir = dirname(c.path);
    while (!existsSync(dir)) dir = dirname(dir);
    try {
      if (!statSync(dir).isDirectory()) throw new EngineError(`${dir} is not a directory; cannot write ${c.path}`);
      accessSync(dir, constants.W_OK);
      if (c.before !== undefined) accessSync(c.path, constants.W_OK);
    } catch (error) {
      if (error instanceof EngineError) throw error;
      throw new EngineError(`cannot write ${c.path}: ${(error as NodeJS.ErrnoException).code === 'EROFS' ? 'read-only file system' : (error as Error).message}; run as root, or point --config at a writable file`);
    }
  }
}

function writeAtomically(path: string, text: string, mode: number | undefined): void {
  const tmp = join(dirname(path), `.${process.pid}.hyrun-tmp`);
  writeFileSync(tmp, text, { mode: mode ?? 0o644 });
  renameSync(tmp, path);
}

/** Writes every change, or none: on a failure the files already written get their old content back. */
export function applyChanges(changes: FileChange[]): void {
  checkWritable(changes);
  const done: FileChange[] = [];
  try {
    for (const c of changes.filter(changed)) {
      if (c.after === undefined) {
        rmSync(c.path, { force: true });
      } else {
        for (const d of missingDirs(c.path)) mkdirSync(d, { mode: 0o755 });
        const mode = c.before !== undefined ? statSync(c.path).mode & 0o7777 : undefined;
        writeAtomically(c.path, c.after, mode);
      }
      done.push(c);
    }
  } catch (error) {
    for (const c of done.reverse()) {
      try {
        if (c.before === undefined) rmSync(c.path, { force: true });
        else writeAtomically(c.path, c.before, undefined);
        for (const d of [...(c.createsDirs ?? [])].reverse()) rmdirSync(d);
      } catch {
        // best effort; the message below names the first failure
      }
    }
    throw new EngineError(`cannot write the engine configuration: ${(error as Error).message}; nothing was changed`);
  }
}
