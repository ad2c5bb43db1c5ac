// Test setup only (scripts/build-guests.mjs): componentize-js's splicer is a component that imports
// WASI 0.2 from `@bytecodealliance/preview2-shim`; build-guests resolves those imports to this
// module, so it runs on hyrun's own WASI 0.2 host (as the transpiler does, src/wasm/transpiler-wasi.ts)
// and preview2-shim is never loaded. The splicer reads the fixture's WIT by its host path: the
// directory named by HYRUN_FIXTURE_ROOT is preopened under that same path, and nothing else.
import { P2Host } from '../src/wasi/p2/host.js';

const root = process.env.HYRUN_FIXTURE_ROOT;
if (root === undefined) throw new Error('componentize-wasi: HYRUN_FIXTURE_ROOT is not set');
const host = new P2Host({ args: ['componentize-js'], env: [], preopens: [{ hostPath: root, guestPath: root }] });
host.start();

/** preview2-shim's export name for an interface: `wasi:cli/terminal-input` -> `terminalInput`. */
const shimName = (iface: string): string => iface.slice(iface.indexOf('/') + 1).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
const byName: Record<string, Record<string, unknown>> = {};
for (const [iface, members] of Object.entries(host.importObject())) byName[shimName(iface)] = members;

export const { environment, exit, stderr, stdin, stdout, terminalInput, terminalOutput, terminalStderr, terminalStdin, terminalStdout,
  preopens, types, error, streams, random, monotonicClock, wallClock, poll, insecure, insecureSeed } = byName;
