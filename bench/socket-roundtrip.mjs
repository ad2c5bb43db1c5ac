// The cost of one blocking socket read round trip (write one byte, block until the peer's echo
// arrives), for the asynchrony decision of wasi:sockets (docs/architecture.md, "Asynchrony"):
//   node         plain node: write, await the 'data' event (the floor)
//   jspi         a Wasm loop whose read import is WebAssembly.Suspending (JSPI), run by promising
//   worker       the guest's thread blocks in Atomics.wait; a worker thread owns the socket and
//                answers over a MessagePort (what hyrun does: io-broker.ts, net-server.ts)
//   hyrun        the real thing: comp_sockets tcp-pingpong under `hyrun run --allow-net`, N round
//                trips minus 0 (start-up cancels out)
// The echo peer is a separate node process. Usage (after npm run build && npm run guests):
//   env -u NODE_EXTRA_CA_CERTS node bench/socket-roundtrip.mjs [N]
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const N = Number(process.argv[2] ?? 20000);
const echoSource = `const s = require('node:net').createServer((c) => { c.setNoDelay(true); c.on('data', (d) => c.write(d)); });
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));`;
const echo = spawn(process.execPath, ['-e', echoSource], { stdio: ['ignore', 'pipe', 'inherit'] });
// However this script ends (a path that throws included), the peer goes too: it shares our stderr,
// and a caller waiting for that pipe to close (the bench's spawnSync) would wait for good.
process.on('exit', () => echo.kill());
const port = await new Promise((r) => echo.stdout.once('data', (d) => r(Number(String(d)))));
const connect = () => new Promise((r) => { const c = net.connect(port, '127.0.0.1', () => { c.setNoDelay(true); r(c); }); });
const one = Buffer.from([1]);
const usPer = (t0) => Number(process.hrtime.bigint() - t0) / N / 1000;
const res = {};

{
  const c = await connect();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) { c.write(one); await new Promise((r) => c.once('data', r)); }
  res.node = usPer(t0);
  c.destroy();
}
{
  const wabt = await require('wabt')();
  const wat = `(module (import "h" "write" (func $w)) (import "h" "read" (func $r (result i32)))
    (func (export "run") (param $n i32) (loop $l (call $w) (drop (call $r))
      (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br_if $l (local.get $n)))))`;
  const c = await connect();
  let pending = null;
  let buffered = 0;
  c.on('data', (d) => { buffered += d.length; if (pending) { const p = pending; pending = null; buffered = 0; p(1); } });
  const read = new WebAssembly.Suspending(() => { if (buffered) { buffered = 0; return 1; } return new Promise((r) => { pending = r; }); });
  const { instance } = await WebAssembly.instantiate(wabt.parseWat('p.wat', wat).toBinary({}).buffer, { h: { write: () => { c.write(one); }, read } });
  const t0 = process.hrtime.bigint();
  await WebAssembly.promising(instance.exports.run)(N);
  res.jspi = usPer(t0);
  c.destroy();
}
{
  const workerSource = `const { parentPort, workerData } = require('node:worker_threads');
    const { port, flag, channel } = workerData; const one = Buffer.from([1]);
    const c = require('node:net').connect(port, '127.0.0.1', () => { c.setNoDelay(true); parentPort.postMessage('up'); });
    let waiting = false, buffered = 0;
    const reply = (m) => { channel.postMessage(m); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); };
    c.on('data', (d) => { buffered += d.length; if (waiting) { waiting = false; buffered = 0; reply(1); } });
    channel.on('message', (m) => { if (m === 'w') { c.write(one); reply(0); } else if (buffered) { buffered = 0; reply(1); } else waiting = true; });`;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const w = new Worker(workerSource, { eval: true, workerData: { port, flag, channel: port2 }, transferList: [port2] });
  await new Promise((r) => w.once('message', r));
  const call = (m) => {
    Atomics.store(flag, 0, 0);
    port1.postMessage(m);
    while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0);
    return receiveMessageOnPort(port1).message;
  };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) { call('w'); call('r'); }
  res.worker = usPer(t0);
  await w.terminate();
}
{
  const guest = `${root}build/guests/comp_sockets.component.wasm`;
  const timed = (n) => {
    const t0 = process.hrtime.bigint();
    execFileSync(`${root}bin/hyrun`, ['run', '--allow-net', guest, 'tcp-pingpong', '127.0.0.1', String(port), String(n)], { stdio: ['ignore', 'ignore', 'inherit'] });
    return process.hrtime.bigint() - t0;
  };
  timed(0); // transpiles into the cache
  const base = timed(0);
  res.hyrun = Number(timed(N) - base) / N / 1000;
}
echo.kill();
const fixed = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, +v.toFixed(1)]));
console.log(JSON.stringify({ N, usPerRoundTrip: fixed, ratioToJspi: Object.fromEntries(Object.entries(res).map(([k, v]) => [k, +(v / res.jspi).toFixed(2)])) }));
