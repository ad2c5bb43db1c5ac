// Evidence for the start-up target, not a hyrun mode: hyrun's own WASI host and tier policy
// (src/wasi, src/wasm/flags.ts) running the guest on the main thread, with no worker thread and
// no CLI. The start-up suite times it next to `hyrun run` to show what the worker thread costs.
// Usage: node dist/bench/main-thread-run.cjs FILE.wasm [ARGS...] (bundled by scripts/build.mjs).
import { readFileSync } from 'node:fs';
import { WasiHost } from '../src/wasi/host.js';
import { compileForEngine } from '../src/wasm/flags.js';

const [file, ...args] = process.argv.slice(2);
const module = compileForEngine(readFileSync(file));
const host = new WasiHost({ args: [file, ...args], env: [], preopens: [], hiddenPaths: [] });
const instance = new WebAssembly.Instance(module, host.importObject());
host.bind(instance);
process.exit(WasiHost.start(instance));
