// `hyrun install crio`: a drop-in in crio.conf.d/ (applied in lexical order after crio.conf), so the
// user's files are never rewritten.
//   [crio.runtime.runtimes.NAME] runtime_path, runtime_type = "oci", runtime_root, allowed_annotations,
//   platform_runtime_paths: "wasi/wasm" images run with hyrun-wasm (every container Wasm).
// Containers of wasi/wasm images run with hyrun-wasm (platform_runtime_paths); for Wasm images of
// another platform, module.wasm.image/variant must be allow-listed to reach the container at all.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EngineError } from './errors.js';
import { missingDirs, readIfExists, type FileChange } from './files.js';
import { parseWithDropIns, tableAt, writeToml, type TomlTable } from './toml.js';
import { onHost, type RuntimeOptions } from './containerd.js';

export const CRIO_CONFIG = '/etc/crio/crio.conf';


/**
 * CRI-O 1.32 keeps pod annotations on the sandbox: a container's config gets them only when the
 * runtime allow-lists them (measured: without this, module.wasm.image/variant never reached hyrun
 * for a compat pod's container). CRI-O accepts only keys it knows here: module.wasm.image/variant
 * is one; run.oci.handler (or any other) makes CRI-O ignore the whole runtime handler.
 */
export const CRIO_ALLOWED_ANNOTATIONS = ['module.wasm.image/variant'];

export const crioDropInDir = (configPath: string): string => join(dirname(resolve(configPath)), 'crio.conf.d');
export const crioDropIn = (configPath: string, name: string): string => join(crioDropInDir(configPath), `99-${name}.conf`);

/** crio.conf (if present) and every drop-in, in the order CRI-O applies them, parsed. */
export function crioConfigs(configPath: string, hostRoot?: string): [string, TomlTable][] {
  const path = onHost(hostRoot, resolve(configPath));
  const dir = crioDropInDir(path);
  const main = readIfExists(path);
  if (main === undefined && !existsSync(dir)) {
    throw new EngineError(`no CRI-O configuration at ${path} or ${dir}: is CRI-O installed? pass --config with the path of its crio.conf`);
  }
  return parseWithDropIns(path, main, dir);
}

export function planCrio(configPath: string, opts: RuntimeOptions & { wasmBinary: string }): { changes: FileChange[]; dropIn: string } {
  const dropIn = onHost(opts.hostRoot, crioDropIn(configPath, opts.name));
  for (const [file, doc] of crioConfigs(configPath, opts.hostRoot)) {
    if (file === dropIn) continue;
    if (tableAt(doc, ['crio', 'runtime', 'runtimes', opts.name]) !== undefined) {
      throw new EngineError(`${file} already defines a CRI-O runtime named "${opts.name}"; choose another --name (or remove that runtime)`);
    }
  }
  const doc: TomlTable = {
    crio: { runtime: { runtimes: { [opts.name]: {
      runtime_path: opts.binary,
      runtime_type: 'oci',
      runtime_root: opts.root,
      allowed_annotations: [...CRIO_ALLOWED_ANNOTATIONS],
      platform_runtime_paths: { 'wasi/wasm': opts.wasmBinary },
    } } } },
  };
  const text = writeToml(doc, [
    `CRI-O runtime "${opts.name}": hyrun (Linux containers via crun/runc, Wasm containers in the same sandbox).`,
    'Written by `hyrun install crio`; remove with `hyrun install crio --uninstall`.',
    'Images of platform wasi/wasm run with hyrun-wasm; others with hyrun, which reads module.wasm.image/variant.',
  ], dropIn);
  return { changes: [{ path: dropIn, before: readIfExists(dropIn), after: text, createsDirs: missingDirs(dropIn) }], dropIn };
}
