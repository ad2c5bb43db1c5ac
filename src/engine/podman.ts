// `hyrun install podman`: a drop-in in containers.conf.d/ declaring the runtimes hyrun and
// hyrun-wasm by path, so `podman --runtime hyrun` needs no path. Both are listed in
// runtime_supports_json: without it Podman reads the runtime's errors as text, and conmon fails to
// parse them (seen: `podman exec -it` of a missing binary in a Wasm container ended with a conmon
// JSON error and 255 instead of 127). Podman >= 4.6 also maps images of platform wasi/wasm to a
// runtime (platform_to_oci_runtime); older Podman ignores that key, so it is only written for them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EngineError } from './errors.js';
import { missingDirs, readIfExists, type FileChange } from './files.js';
import { parseWithDropIns, tableAt, writeToml, type TomlTable } from './toml.js';
import { onHost } from './containerd.js';

export const PODMAN_CONFIG = '/etc/containers/containers.conf';

/** Podman's built-in list (containers/common), which a drop-in's array replaces rather than extends. */
const DEFAULT_SUPPORTS_JSON = ['crun', 'runc', 'kata', 'runsc', 'youki', 'krun'];

export const podmanDropInDir = (configPath: string): string => join(dirname(resolve(configPath)), 'containers.conf.d');
export const podmanDropIn = (configPath: string, name: string): string => join(podmanDropInDir(configPath), `99-${name}.conf`);

export function podmanVersion(): [number, number] | undefined {
  const r = spawnSync('podman', ['--version'], { encoding: 'utf8', timeout: 20_000 });
  const m = /(\d+)\.(\d+)\.\d+/.exec(r.stdout ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function podmanConfigs(configPath: string, hostRoot?: string): [string, TomlTable][] {
  const path = onHost(hostRoot, resolve(configPath));
  const dir = podmanDropInDir(path);
  if (!existsSync(dirname(path))) {
    throw new EngineError(`no Podman configuration directory ${dirname(path)}: is Podman installed? pass --config with the path of its containers.conf`);
  }
  return parseWithDropIns(path, readIfExists(path), dir);
}

export function planPodman(configPath: string, opts: { name: string; binary: string; wasmBinary: string; hostRoot?: string }): { changes: FileChange[]; dropIn: string; notes: string[] } {
  const dropIn = onHost(opts.hostRoot, podmanDropIn(configPath, opts.name));
  const wasmName = `${opts.name}-wasm`;
  let supportsJson = [...DEFAULT_SUPPORTS_JSON];
  for (const [file, doc] of podmanConfigs(configPath, opts.hostRoot)) {
    if (file === dropIn) continue;
    const runtimes = tableAt(doc, ['engine', 'runtimes']);
    for (const n of [opts.name, wasmName]) {
      if (runtimes?.[n] !== undefined) throw new EngineError(`${file} already defines a Podman runtime named "${n}"; choose another --name (or remove that runtime)`);
    }
    const listed = tableAt(doc, ['engine'])?.runtime_supports_json;
    if (Array.isArray(listed)) supportsJson = listed.filter((x): x is string => typeof x === 'string');
  }
  for (const n of [opts.name, wasmName]) if (!supportsJson.includes(n)) supportsJson.push(n);
  const engine: TomlTable = {
    runtime_supports_json: supportsJson,
    runtimes: { [opts.name]: [opts.binary], [wasmName]: [opts.wasmBinary] },
  };
  const notes: string[] = [];
  const version = podmanVersion();
  if (version && (version[0] > 4 || (version[0] === 4 && version[1] >= 6))) {
    engine.platform_to_oci_runtime = { 'wasi/wasm': wasmName };
  } else {
    notes.push(`Podman ${version ? version.join('.') : '(not found)'} does not know platform_to_oci_runtime (Podman >= 4.6): not written; Wasm images are recognised by their module.wasm.image/variant annotation, which this Podman copies into the container`);
  }
  const text = writeToml({ engine }, [
    `Podman runtimes "${opts.name}" and "${wasmName}": hyrun. Use them with podman --runtime ${opts.name}.`,
    'Written by `hyrun install podman`; remove with `hyrun install podman --uninstall`.',
  ], dropIn);
  return { changes: [{ path: dropIn, before: readIfExists(dropIn), after: text, createsDirs: missingDirs(dropIn) }], dropIn, notes };
}
