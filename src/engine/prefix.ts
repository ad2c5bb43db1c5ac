// hyrun's own copy under the install prefix, which engine configs point at (never the checkout, which
// may move or go away):
//   PREFIX/lib/hyrun/<version>-<hash>/  package.json, bin/{hyrun,hyrun-wasm}, dist/*.cjs (+ *.node), node_modules/wabt,
//                                       node/ (the node hyrun runs on, its libraries and loader: bin/hyrun
//                                       starts that one, never a node from PATH; self-node.ts)
//   PREFIX/lib/hyrun/current            symlink to the version directory in use (swapped by rename)
//   PREFIX/bin/hyrun, PREFIX/bin/hyrun-wasm   symlinks through current
//   PREFIX/lib/hyrun/engines/*.json     what each engine install changed (for --uninstall)
// An upgrade adds a new version directory (with its own node) and renames a new `current` over the old one: a caller
// starting at that moment sees the old or the new copy, never half of one. The previous version
// directory is kept (a hyrun call already running may still load files from it); older ones go.
// Running Wasm containers do not use this copy at all: they mount the runtime directory built in
// hyrun's cache (docs/wasm-containers.md), so they keep working across upgrades.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, statSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from './errors.js';
import { nodeBinary, writeNodeDir } from '../handlers/self-node.js';

const CREATED = '.created-dirs';
/** `dir` and its ancestors that do not exist yet, outermost first. */
const missing = (dir: string): string[] => {
  const out: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) out.unshift(d);
  return out;
};
const readIfExistsSync = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);

/** dist/ files that make up an install: the bundles, their code caches, any native addon built next to them, and the component transpiler's own Wasm (beside its bundle). */
const bundles = (root: string): string[] =>
  existsSync(join(root, 'dist')) ? readdirSync(join(root, 'dist')).filter((f) => /\.(cjs|node|cache|wasm)$/.test(f)).sort() : [];

export interface Layout {
  prefix: string;
  libDir: string;
  current: string;
  bin: string;
  wasmBin: string;
  records: string;
}

export function layout(prefix: string): Layout {
  const p = resolve(prefix);
  const libDir = join(p, 'lib/hyrun');
  return {
    prefix: p, libDir, current: join(libDir, 'current'),
    bin: join(p, 'bin/hyrun'), wasmBin: join(p, 'bin/hyrun-wasm'), records: join(libDir, 'engines'),
  };
}

/** The hyrun tree this code runs from (the checkout, or an installed version directory). */
export function sourceRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'bin/hyrun')) && existsSync(join(dir, 'dist/hyrun.cjs'))) return dir;
    dir = dirname(dir);
  }
  throw new EngineError('cannot find the hyrun tree this command runs from (bin/hyrun and dist/hyrun.cjs); run it from a built checkout (npm run build)');
}

function versionOf(root: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** `<version>-<hash of the bundles, bin/ and node>`: a new build or a new node gets a new directory name. */
export function buildId(root: string): string {
  const h = createHash('sha256');
  // Its version and size name the node well enough (hashing its ~120 MB would slow every install).
  h.update(`node ${process.versions.node} ${process.arch} ${statSync(nodeBinary()).size}\n`);
  for (const b of bundles(root)) h.update(`${b}\n`).update(readFileSync(join(root, 'dist', b)));
  for (const b of readdirSync(join(root, 'bin')).sort()) {
    const p = join(root, 'bin', b);
    h.update(`bin/${b}\n`).update(lstatSync(p).isSymbolicLink() ? readlinkSync(p) : readFileSync(p));
  }
  return `${versionOf(root)}-${h.digest('hex').slice(0, 12)}`;
}

export interface PrefixPlan {
  layout: Layout;
  source: string;
  id: string;
  /** Already installed and current: nothing to do. */
  upToDate: boolean;
  /** What will be done, for --dry-run and the summary. */
  steps: string[];
}

/** A version directory with its entry points and its node. */
const complete = (dir: string): boolean => ['dist/hyrun.cjs', 'dist/executor.cjs', 'node/loader'].every((f) => existsSync(join(dir, f)));

const linkTarget = (path: string): string | undefined => {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : '';
  } catch {
    return undefined;
  }
};

export function planPrefix(prefix: string): PrefixPlan {
  const l = layout(prefix);
  const source = sourceRoot();
  const id = buildId(source);
  for (const [bin, name] of [[l.bin, 'hyrun'], [l.wasmBin, 'hyrun-wasm']] as const) {
    const target = linkTarget(bin);
    if (target !== undefined && target !== relative(dirname(bin), join(l.current, 'bin', name))) {
      throw new EngineError(`${bin} exists and is not hyrun's link into ${l.current}; remove it or choose another --prefix`);
    }
  }
  const currentId = linkTarget(l.current);
  const upToDate = currentId === id && complete(join(l.libDir, id)) && linkTarget(l.bin) !== undefined && linkTarget(l.wasmBin) !== undefined;
  const steps = upToDate ? [] : [
    `copy hyrun ${id} (bin/, dist/*.cjs, node_modules/wabt) from ${source} to ${join(l.libDir, id)}`,
    `copy node ${process.versions.node} (${nodeBinary()}, its libraries and loader) to ${join(l.libDir, id, 'node')}`,
    `point ${l.current} at it${currentId ? ` (was ${currentId})` : ''}`,
    `link ${l.bin} and ${l.wasmBin}`,
  ];
  return { layout: l, source, id, upToDate, steps };
}

/** Copies hyrun into the prefix and makes it current. Idempotent. */
export function installPrefix(plan: PrefixPlan): void {
  if (plan.upToDate) return;
  const { layout: l, source, id } = plan;
  // Directories the prefix lacked (PREFIX/bin, PREFIX/lib): uninstall removes them again.
  const created = [...new Set([...missing(dirname(l.bin)), ...missing(l.libDir)])];
  mkdirSync(l.libDir, { recursive: true, mode: 0o755 });
  if (created.length > 0 && !existsSync(join(l.libDir, CREATED))) writeFileSync(join(l.libDir, CREATED), `${created.filter((d) => d !== l.libDir).join('\n')}\n`);
  const final = join(l.libDir, id);
  if (!complete(final)) {
    const tmp = join(l.libDir, `.tmp-${id}-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    try {
      mkdirSync(join(tmp, 'dist'), { recursive: true });
      cpSync(join(source, 'bin'), join(tmp, 'bin'), { recursive: true, verbatimSymlinks: true });
      for (const b of bundles(source)) cpSync(join(source, 'dist', b), join(tmp, 'dist', b));
      const wabt = join(source, 'node_modules/wabt');
      if (existsSync(wabt)) cpSync(wabt, join(tmp, 'node_modules/wabt'), { recursive: true, dereference: true });
      // The node this hyrun runs on, with what it links: the host needs no node of its own.
      writeNodeDir(join(tmp, 'node'));
      writeFileSync(join(tmp, 'package.json'), `${JSON.stringify({ name: 'hyrun', version: versionOf(source), private: true, type: 'module' }, null, 2)}\n`);
      rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
    } catch (error) {
      rmSync(tmp, { recursive: true, force: true });
      throw new EngineError(`cannot copy hyrun into ${l.libDir}: ${(error as Error).message}`);
    }
  }
  const previous = linkTarget(l.current);
  const tmpLink = join(l.libDir, `.current-${process.pid}`);
  rmSync(tmpLink, { force: true });
  symlinkSync(id, tmpLink);
  renameSync(tmpLink, l.current);
  mkdirSync(dirname(l.bin), { recursive: true, mode: 0o755 });
  for (const [bin, name] of [[l.bin, 'hyrun'], [l.wasmBin, 'hyrun-wasm']] as const) {
    const tmp = `${bin}.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    symlinkSync(relative(dirname(bin), join(l.current, 'bin', name)), tmp);
    renameSync(tmp, bin);
  }
  // Keep the current and the previous version; older ones can no longer be in use.
  for (const entry of readdirSync(l.libDir)) {
    if (entry === id || entry === previous || entry === 'current' || entry === 'engines' || entry.startsWith('.')) continue;
    if (/^\d+\.\d+\.\d+[^/]*-[0-9a-f]{12}$/.test(entry)) rmSync(join(l.libDir, entry), { recursive: true, force: true });
  }
}

/** Removes hyrun's copy from the prefix (when no engine record is left). */
export function removePrefix(l: Layout): string[] {
  const removed: string[] = [];
  for (const bin of [l.bin, l.wasmBin]) {
    if (linkTarget(bin)) { rmSync(bin, { force: true }); removed.push(bin); }
  }
  if (existsSync(l.libDir)) {
    const left = existsSync(l.records) ? readdirSync(l.records) : [];
    if (left.length === 0) {
      const created = (readIfExistsSync(join(l.libDir, CREATED)) ?? '').split('\n').filter(Boolean);
      rmSync(l.libDir, { recursive: true, force: true });
      removed.push(l.libDir);
      for (const d of created.reverse()) {
        try {
          if (readdirSync(d).length === 0) { rmdirSync(d); removed.push(d); }
        } catch {
          // gone or not empty: keep
        }
      }
    }
  }
  return removed;
}

/** The installed copy, if any: its id and whether its entry point is there. */
export function installedCopy(prefix: string): { id: string; complete: boolean } | undefined {
  const l = layout(prefix);
  const id = linkTarget(l.current);
  if (!id) return undefined;
  return { id, complete: complete(join(l.libDir, id)) };
}
