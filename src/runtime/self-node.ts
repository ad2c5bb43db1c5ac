// The node this hyrun runs on, and how to start it again. Releases and installs carry their own
// node in a "node directory" (docs/node.md): the binary (`node`), the shared libraries it links
// (`lib/`) and the dynamic loader, named by the one-line file `loader`. bin/hyrun starts it through
// that loader, so process.execPath is then the loader, not node: these helpers give the real binary
// and the full command.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { engineStartFlags } from '../wasm/flags.js';

export interface NodeDir {
  dir: string;
  node: string;
  /** The loader's file name in dir, e.g. ld-linux-x86-64.so.2. */
  loader: string;
  lib: string;
}

/** The node directory holding `binary` (the node or the loader in it), if it is one. */
export function nodeDirOf(binary: string): NodeDir | undefined {
  const dir = dirname(binary);
  const loaderFile = join(dir, 'loader');
  if (!existsSync(loaderFile) || !existsSync(join(dir, 'node')) || !existsSync(join(dir, 'lib'))) return undefined;
  const loader = readFileSync(loaderFile, 'utf8').trim();
  if (!/^ld-[\w.+-]+$/.test(loader) || !existsSync(join(dir, loader))) return undefined;
  if (basename(binary) !== 'node' && basename(binary) !== loader) return undefined;
  return { dir, node: join(dir, 'node'), loader, lib: join(dir, 'lib') };
}

/** The node binary running this process (not the loader that started it). */
export function nodeBinary(execPath = process.execPath): string {
  return nodeDirOf(execPath)?.node ?? execPath;
}

/** The argv that starts this node again, with hyrun's V8 flags (flags.ts), before the script. */
export function nodeCommand(execPath = process.execPath): string[] {
  const nd = nodeDirOf(execPath);
  const start = nd ? [join(nd.dir, nd.loader), '--inhibit-cache', '--library-path', nd.lib, nd.node] : [execPath];
  return [...start, ...engineStartFlags()];
}

/**
 * Support dates of Node.js release lines (nodejs.org's release schedule): hyrun names them in
 * --version and doctor, since a runtime every pod goes through must not sit on an unmaintained node.
 */
const END_OF_LIFE: Record<number, string> = { 24: '2028-04-30', 25: '2026-06-01', 26: '2029-04-30' };

/** "supported until 2029-04-30", "end of life since …" or that hyrun does not know the line. */
export function nodeSupport(version = process.versions.node, now = new Date()): string {
  const major = Number(version.split('.')[0]);
  const eol = END_OF_LIFE[major];
  if (eol === undefined) return `support dates of node ${major} unknown to this hyrun`;
  return now.toISOString().slice(0, 10) < eol ? `supported until ${eol}` : `end of life since ${eol}: no more security fixes`;
}
