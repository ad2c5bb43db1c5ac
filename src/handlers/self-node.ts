// The node this hyrun runs on, and how to start it again. Releases and installs carry their own
// node in a "node directory" (docs/node.md): the binary (`node`), the shared libraries it links
// (`lib/`) and the dynamic loader, named by the one-line file `loader`. bin/hyrun starts it through
// that loader, so process.execPath is then the loader, not node: these helpers give the real binary
// and the full command.
import { createRequire } from 'node:module';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
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

export interface SharedObjects { loader: string; libs: string[] }

/** Parses `ldd node`: every resolved library, and the loader (the line with an absolute path and no "=>"). */
export function parseLdd(output: string): SharedObjects {
  let loader = '';
  const libs: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.includes('not found')) throw new Error(`node needs a library that is missing: ${line}`);
    const arrow = /^(\S+) => (\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (arrow) {
      libs.push(arrow[2]!);
      continue;
    }
    const bare = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (bare) loader = bare[1]!;
    // anything else (linux-vdso.so.1, statically linked) has no file to copy
  }
  if (!loader) throw new Error('cannot find the dynamic loader of node in the output of ldd');
  return { loader, libs: libs.filter((l) => l !== loader) };
}

export function sharedObjectsOf(node: string): SharedObjects {
  const nd = nodeDirOf(node);
  if (nd === undefined) {
    // Loaded here, not at the top: node:child_process pulls in node:net and node:stream, ~15 ms of
    // every `hyrun run FILE.wasm` start that never gets here (measured with --cpu-prof).
    const { execFileSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
    return parseLdd(execFileSync('ldd', [node], { encoding: 'utf8' }));
  }
  return { loader: join(nd.dir, nd.loader), libs: readdirSync(nd.lib).sort().map((l) => join(nd.lib, l)) };
}

/**
 * Writes a node directory for `node` at `target` (which must not exist): the binary, the libraries
 * it links and the unchanged dynamic loader, all copied (an install or a release must not depend
 * on the files it was made from). `hyrun install` and `npm run dist` make one; the runtime
 * directory of Wasm containers is built from it without ldd.
 */
export function writeNodeDir(target: string, node = nodeBinary()): NodeDir {
  const so = sharedObjectsOf(node);
  const loader = basename(so.loader);
  mkdirSync(join(target, 'lib'), { recursive: true, mode: 0o755 });
  const put = (src: string, dst: string): void => {
    copyFileSync(realpathSync(src), dst);
    chmodSync(dst, 0o755);
  };
  put(node, join(target, 'node'));
  put(so.loader, join(target, loader));
  for (const lib of so.libs) put(lib, join(target, 'lib', basename(lib)));
  writeFileSync(join(target, 'loader'), `${loader}\n`, { mode: 0o644 });
  return { dir: target, node: join(target, 'node'), loader, lib: join(target, 'lib') };
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
