// The baseline the benchmarks compare hyrun against: the smallest reasonable runner on Node's own
// WASI (node:wasi, preview1). Usage: node dist/bench/node-wasi-run.js [--dir HOST::GUEST]... FILE.wasm [ARGS...]
// No environment is passed (like hyrun without --env); exits with the guest's status.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const argv = process.argv.slice(2);
const preopens: Record<string, string> = {};
while (argv[0] === '--dir') {
  const [host, guest] = argv[1].split('::');
  preopens[guest ?? host] = host;
  argv.splice(0, 2);
}
const [file, ...args] = argv;
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, preopens, returnOnExit: true });
const module = await WebAssembly.compile(readFileSync(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject() as WebAssembly.Imports);
process.exitCode = wasi.start(instance);
