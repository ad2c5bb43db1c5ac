// The transpiler is itself a component (jco's bindgen and wasm-tools, transpiled to JS) that
// imports WASI 0.2 from `@bytecodealliance/preview2-shim`. The transpile bundle maps those imports
// here (scripts/build.mjs, esbuild `alias`), so it runs on hyrun's own host like any component:
// no preopens, no arguments, no environment, the process's standard streams (its panics go to
// stderr). preview2-shim is never loaded.
import { P2Host } from '../wasi/p2/host.js';

const host = new P2Host({ args: ['jco-transpile'], env: [], preopens: [] });
host.start();
const imports = host.importObject();

/** preview2-shim's export name for an interface: `wasi:cli/terminal-input` -> `terminalInput`. */
const shimName = (iface: string): string => iface.slice(iface.indexOf('/') + 1).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
const byName: Record<string, Record<string, unknown>> = {};
for (const [iface, members] of Object.entries(imports)) byName[shimName(iface)] = members;

export const { environment, exit, stderr, stdin, stdout, terminalInput, terminalOutput, terminalStderr, terminalStdin, terminalStdout,
  preopens, types, error, streams, random } = byName;
