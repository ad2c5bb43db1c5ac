// `hyrun install containerd`: a runtime named NAME (default hyrun) for containerd's CRI plugin.
//   version = 2 (containerd 1.6, 1.7): plugins."io.containerd.grpc.v1.cri".containerd.runtimes.NAME
//   version = 3 (containerd 2.x):      plugins."io.containerd.cri.v1.runtime".containerd.runtimes.NAME
// Version 3: a drop-in file hyrun owns (conf.d/NAME.toml) plus one `imports` entry in the main
// config, unless an import glob already covers it (2.2's default config imports conf.d/*.toml).
// Version 2: containerd 1.x merges an imported file's plugin tables *whole*, not key by key: a
// drop-in holding only [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hyrun] replaces the
// entire CRI section (measured with Debian's 1.6.20: runc, sandbox_image and the CNI settings were
// gone and the CRI plugin refused to load). So for version 2 the runtime table goes into the main
// file itself, edited with a comment-keeping TOML editor and parsed again to prove it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { EngineError } from './errors.js';
import { readIfExists, missingDirs, type FileChange } from './files.js';
import { BadPatternError, pathMatch } from './path-match.js';
import { parseToml, patchToml, tableAt, writeToml, type TomlTable, type TomlValue } from './toml.js';

export const CONTAINERD_CONFIG = '/etc/containerd/config.toml';

/** Where the CRI runtimes live, by config version. */
export const CRI_RUNTIMES: Record<2 | 3, string[]> = {
  2: ['plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'runtimes'],
  3: ['plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes'],
};

/**
 * Annotation patterns for pod_annotations and container_annotations. containerd tests every key
 * with Go's path.Match, whose `*` stops at '/': these are exact keys (and hyrun's own prefix), so
 * they pass `module.wasm.image/variant`, `run.oci.handler` and `io.hyrun.*` and nothing else.
 */
export const ANNOTATION_PATTERNS = ['module.wasm.image/variant', 'run.oci.handler', 'io.hyrun.*'];

/** `p` (a path as the node sees it) in this process's filesystem, where the node's root is `hostRoot`. */
export const onHost = (hostRoot: string | undefined, p: string): string => (!hostRoot || hostRoot === '/' ? p : join(hostRoot, p));

export interface RuntimeOptions {
  /** Where the node's root filesystem is mounted (the DaemonSet's /host); paths in configs stay the node's. */
  hostRoot?: string;
  name: string;
  /** The installed hyrun (PREFIX/bin/hyrun). */
  binary: string;
  /** The shim's --root base for this runtime (state of hyrun and its delegate). */
  root: string;
}

/** Major version of the containerd on PATH (1 or 2), or undefined. */
export function installedContainerdMajor(): number | undefined {
  const r = spawnSync('containerd', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const m = / v?(\d+)\.(\d+)\.\d+/.exec(r.stdout ?? '');
  return m ? Number(m[1]) : undefined;
}

function configVersion(doc: TomlTable, path: string): 2 | 3 {
  const v = doc.version;
  if (v === 2 || v === 3) return v;
  if (v === undefined) {
    if (doc.plugins !== undefined) {
      throw new EngineError(`${path} has no "version" key, so containerd reads it as version 1, which hyrun does not edit; convert it with "containerd config migrate" (or add version = 2 if it already uses the version 2 plugin names)`);
    }
    const major = installedContainerdMajor();
    if (major === 1) return 2;
    if (major === 2) return 3;
    throw new EngineError(`${path} has no "version" key and no containerd is on PATH to tell which config version it reads; add version = 2 (containerd 1.6/1.7) or version = 3 (containerd 2.x)`);
  }
  throw new EngineError(`${path} has version = ${String(v)}; hyrun configures containerd config version 2 (containerd 1.6, 1.7) and 3 (containerd 2.x)`);
}

/** The import entries of a config, resolved against its directory, and the files they name (globs expanded). */
function importedFiles(doc: TomlTable, configPath: string, hostRoot?: string): { entries: string[]; files: string[] } {
  const raw = Array.isArray(doc.imports) ? doc.imports.filter((x): x is string => typeof x === 'string') : [];
  const entries = raw.map((e) => resolve(dirname(configPath), e));
  const files: string[] = [];
  for (const e of entries) {
    if (!/[*?[]/.test(e)) { files.push(e); continue; }
    const dir = dirname(e);
    if (!existsSync(onHost(hostRoot, dir))) continue;
    for (const f of readdirSync(onHost(hostRoot, dir)).sort()) {
      try {
        if (pathMatch(basename(e), f)) files.push(join(dir, f));
      } catch (error) {
        if (!(error instanceof BadPatternError)) throw error;
      }
    }
  }
  return { entries, files };
}

/** True when an import entry (a path or a glob) names `file`. */
function importCovers(entry: string, file: string): boolean {
  if (entry === file) return true;
  try {
    return dirname(entry) === dirname(file) && pathMatch(basename(entry), basename(file));
  } catch {
    return false;
  }
}

export function dropInPath(configPath: string, name: string): string {
  return join(dirname(resolve(configPath)), 'conf.d', `${name}.toml`);
}

export interface ContainerdPlan {
  version: 2 | 3;
  changes: FileChange[];
  dropIn: string;
}

export function planContainerd(configPath: string, opts: RuntimeOptions & { owned?: boolean }): ContainerdPlan {
  const path = resolve(configPath);
  const fsPath = onHost(opts.hostRoot, path);
  const text = readIfExists(fsPath);
  if (text === undefined) {
    throw new EngineError(`${path} does not exist: write containerd's defaults first (containerd config default > ${path}) or pass --config FILE`);
  }
  const doc = parseToml(text, path);
  const version = configVersion(doc, path);
  const runtimesPath = CRI_RUNTIMES[version];
  const dropIn = dropInPath(path, opts.name);
  const { entries, files } = importedFiles(doc, path, opts.hostRoot);

  // A runtime of that name defined anywhere else (the main file, another import) is a clash.
  const sources: [string, TomlTable][] = [[path, doc]];
  for (const f of files) {
    if (f === dropIn || f === path) continue;
    const t = readIfExists(onHost(opts.hostRoot, f));
    if (t !== undefined) sources.push([f, parseToml(t, f)]);
  }
  for (const [file, d] of sources) {
    // The main file's table is ours to update when hyrun's install record says it wrote it (version 2).
    if (file === path && version === 2 && opts.owned) continue;
    if (tableAt(d, runtimesPath)?.[opts.name] !== undefined) {
      throw new EngineError(`${file} already defines a containerd runtime named "${opts.name}"; choose another --name (or remove that runtime)`);
    }
  }

  // Keep the cgroup driver the node already uses for runc (the kubelet's must match).
  const runcOptions = tableAt(doc, [...runtimesPath, 'runc', 'options']);
  const options: TomlTable = { BinaryName: opts.binary, Root: opts.root };
  if (typeof runcOptions?.SystemdCgroup === 'boolean') options.SystemdCgroup = runcOptions.SystemdCgroup;

  const runtime: TomlTable = {
    runtime_type: 'io.containerd.runc.v2',
    pod_annotations: [...ANNOTATION_PATTERNS],
    container_annotations: [...ANNOTATION_PATTERNS],
    options,
  };
  if (version === 2) {
    // Into the main file (see the top of this file); every other table and comment stays as it was.
    const updated = structuredClone(doc);
    let t: TomlTable = updated;
    for (const k of runtimesPath) {
      if (t[k] === undefined) t[k] = {};
      t = t[k] as TomlTable;
    }
    t[opts.name] = runtime;
    return { version, changes: [{ path: fsPath, before: text, after: patchToml(text, updated, path) }], dropIn: path };
  }
  let nested: TomlTable = { [opts.name]: runtime };
  for (const k of [...runtimesPath].reverse()) nested = { [k]: nested };
  const dropInDoc: TomlTable = { version, ...nested };
  const dropInText = writeToml(dropInDoc, [
    `containerd runtime "${opts.name}": hyrun (Linux containers via crun/runc, Wasm containers in the same sandbox).`,
    `Written by \`hyrun install containerd\`, imported by ${path}; remove with \`hyrun install containerd --uninstall\`.`,
    'The annotation patterns are Go path.Match patterns, where * does not cross "/": keep the keys exact.',
  ], dropIn);

  const fsDropIn = onHost(opts.hostRoot, dropIn);
  const changes: FileChange[] = [{ path: fsDropIn, before: readIfExists(fsDropIn), after: dropInText, createsDirs: missingDirs(fsDropIn) }];
  if (!entries.some((e) => importCovers(e, dropIn))) {
    const raw = Array.isArray(doc.imports) ? (doc.imports as TomlValue[]) : [];
    const updated: TomlTable = { ...doc, imports: [...raw, dropIn] };
    changes.push({ path: fsPath, before: text, after: patchToml(text, updated, path) });
  }
  return { version, changes, dropIn };
}

/** What `hyrun doctor` reports for one containerd config. */
export interface ContainerdCheck {
  version: 2 | 3;
  runtime?: TomlTable;
  file?: string;
}

/** Finds runtime `name` in the config or its imports (undefined fields when absent). */
export function findContainerdRuntime(configPath: string, name: string): ContainerdCheck {
  const path = resolve(configPath);
  const text = readIfExists(path);
  if (text === undefined) throw new EngineError(`${path} does not exist`);
  const doc = parseToml(text, path);
  const version = configVersion(doc, path);
  const runtimesPath = CRI_RUNTIMES[version];
  let found: ContainerdCheck = { version };
  const direct = tableAt(doc, runtimesPath)?.[name];
  if (direct !== undefined) found = { version, runtime: direct as TomlTable, file: path };
  for (const f of importedFiles(doc, path).files) {
    const t = readIfExists(f);
    if (t === undefined) continue;
    const r = tableAt(parseToml(t, f), runtimesPath)?.[name];
    // Later imports override earlier tables key by key.
    if (r !== undefined) found = { version, runtime: { ...(found.runtime ?? {}), ...(r as TomlTable) }, file: f };
  }
  return found;
}

/**
 * `text` (a containerd main config changed since hyrun wrote it) without runtime `name` and
 * without the import of hyrun's drop-in; undefined when it cannot be parsed. Comment-keeping edit,
 * verified like every other.
 */
export function withoutContainerdRuntime(text: string, path: string, name: string): string | undefined {
  let doc: TomlTable;
  try {
    doc = parseToml(text, path);
  } catch {
    return undefined;
  }
  const updated = structuredClone(doc);
  for (const version of [2, 3] as const) {
    const runtimes = tableAt(updated, CRI_RUNTIMES[version]);
    if (runtimes && runtimes[name] !== undefined) delete runtimes[name];
  }
  if (Array.isArray(updated.imports)) {
    const ours = join('conf.d', `${name}.toml`);
    updated.imports = updated.imports.filter((e) => typeof e !== 'string' || !e.endsWith(ours));
  }
  return patchToml(text, updated, path);
}
