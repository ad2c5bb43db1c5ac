// What every image and container command parses the same way: node's parseArgs with hyrun's
// one-line errors, `--storage` (the store) on every command, repeated flags, KEY=VALUE pairs.
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { defaultStoreRoot, Store } from '../image/store.js';
import { UsageError } from './errors.js';

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** parseArgs with hyrun's one-line errors; `storage` is accepted by every command. */
export function parse(command: string, args: string[], options: ParseArgsConfig['options'], positionals = true): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { storage: { type: 'string' }, ...options }, strict: true, allowPositionals: positionals });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    const msg = (e as Error).message.split('\n', 1)[0].replace(/\. To specify a positional.*$/, '');
    throw new UsageError(`${command}: ${msg}; see 'hyrun help ${command}'`);
  }
}

export const openStore = (values: Values): Store => new Store(typeof values.storage === 'string' ? resolve(values.storage) : defaultStoreRoot());

/** A flag's values as a list (none, one, or repeated). */
export const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

/** K=V pairs from repeated flags. */
export function keyValues(flag: string, list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag} '${kv}' is not KEY=VALUE`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** Progress and notes go to stderr, one line each; stdout carries only results. */
export const say = (line: string): void => { process.stderr.write(`${line}\n`); };
