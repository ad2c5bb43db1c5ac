// The reference view of a component's world: the import and export names of its type, as
// wasmtime-py reads them (python3 -c 'import wasmtime'). Used to check what hyrun reads from a
// component's binary (src/wasm/component-world.ts) and writes into artifact configs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

export interface World { imports: string[]; exports: string[] }

const SCRIPT = `
import json, sys, wasmtime
from wasmtime import component
config = wasmtime.Config()
config.cranelift_opt_level = 'none'  # only the types are read: compile fast
engine = wasmtime.Engine(config)
out = {}
for path in sys.argv[1:]:
    t = component.Component.from_file(engine, path).type
    out[path] = {'imports': list(t.imports(engine).keys()), 'exports': list(t.exports(engine).keys())}
print(json.dumps(out))
`;

/** wasmtime's view of each component file, by path. */
export function wasmtimeWorlds(paths: string[]): Record<string, World> {
  const r = spawnSync('python3', ['-c', SCRIPT, ...paths], { encoding: 'utf8', maxBuffer: 16 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, World>;
}

/** The same names, order aside (a config keeps the binary's order; wasmtime its own). */
export const sortedWorld = (w: World): World => ({ imports: [...w.imports].sort(), exports: [...w.exports].sort() });
