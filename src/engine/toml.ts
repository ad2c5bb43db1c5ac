// TOML for engine configs: parsing and comment-keeping edits with @decimalturn/toml-patch, and a
// small writer for the drop-in files hyrun owns. Every text hyrun writes is parsed again and compared
// with what it meant to write, so a quoting slip can never reach an engine.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse, patch } from '@decimalturn/toml-patch';
import { EngineError } from './errors.js';
import { readIfExists } from './files.js';

export type TomlTable = { [key: string]: TomlValue };
export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;

/** Parses `text` (from `path`, for the message); one line naming the file when it is not TOML. */
export function parseToml(text: string, path: string): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (error) {
    const first = String((error as Error).message).split('\n')[0];
    throw new EngineError(`${path} is not valid TOML (${first}); fix it, then run this again`);
  }
}

/** `existing` with its top-level document replaced by `updated`, comments and key order kept; verified. */
export function patchToml(existing: string, updated: TomlTable, path: string): string {
  // New tables as [section] headers at any depth (containerd's runtime tables are 6 deep), as
  // containerd's own default config writes them; the rest of the format is detected from the file.
  const text = patch(existing, updated, { inlineTableStart: 64 });
  verify(text, updated, path);
  return text;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;
const key = (k: string): string => (BARE_KEY.test(k) ? k : JSON.stringify(k));
const isTable = (v: TomlValue): v is TomlTable => typeof v === 'object' && !Array.isArray(v);

function value(v: TomlValue): string {
  if (typeof v === 'string') return JSON.stringify(v); // JSON's escapes are valid in TOML basic strings
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(value).join(', ')}]`;
  throw new Error('inline tables are not written');
}

/** A TOML document for `doc` (tables as [headers]), after `comment` lines; verified by parsing it back. */
export function writeToml(doc: TomlTable, comment: string[], path: string): string {
  const out: string[] = comment.map((c) => (c ? `# ${c}` : '#'));
  const emit = (table: TomlTable, prefix: string[]): void => {
    const scalars = Object.entries(table).filter(([, v]) => !isTable(v));
    const tables = Object.entries(table).filter(([, v]) => isTable(v)) as [string, TomlTable][];
    if (prefix.length > 0 && (scalars.length > 0 || tables.length === 0)) out.push('', `[${prefix.map(key).join('.')}]`);
    else if (prefix.length === 0 && scalars.length > 0) out.push('');
    for (const [k, v] of scalars) out.push(`${k === '' ? '""' : key(k)} = ${value(v)}`);
    for (const [k, v] of tables) emit(v, [...prefix, k]);
  };
  emit(doc, []);
  const text = `${out.join('\n')}\n`;
  verify(text, doc, path);
  return text;
}

function verify(text: string, expected: TomlTable, path: string): void {
  let reparsed: unknown;
  try {
    reparsed = parse(text);
  } catch (error) {
    throw new EngineError(`internal error: the TOML written for ${path} does not parse (${(error as Error).message.split('\n')[0]}); nothing was written`);
  }
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(reparsed)), JSON.parse(JSON.stringify(expected)))) {
    throw new EngineError(`internal error: the TOML written for ${path} does not read back as intended; nothing was written`);
  }
}

/** The table at `path` in `doc`, or undefined. */
export function tableAt(doc: TomlTable, path: string[]): TomlTable | undefined {
  let t: TomlValue | undefined = doc;
  for (const k of path) {
    if (t === undefined || !isTable(t)) return undefined;
    t = t[k];
  }
  return t !== undefined && isTable(t) ? t : undefined;
}

/**
 * A main config (its text, or undefined when absent) and the `*.conf` drop-ins of `dir` in the
 * order the engine reads them (sorted by name), each parsed: [file, table] pairs.
 */
export function parseWithDropIns(path: string, main: string | undefined, dir: string): [string, TomlTable][] {
  const out: [string, TomlTable][] = [];
  if (main !== undefined) out.push([path, parseToml(main, path)]);
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.conf')).sort()) {
      const text = readIfExists(join(dir, f));
      if (text !== undefined) out.push([join(dir, f), parseToml(text, join(dir, f))]);
    }
  }
  return out;
}
