// `hyrun run` of WASI 0.2 command components (issue 16 §1, §6), built at test setup from our C
// guests with jco's preview1 command adapter (scripts/build-guests.mjs): arguments, environment,
// stdio, clocks, random, exit codes, traps, --memory, the transpile cache, bad input.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { assertOneLineError, guestsDir, hyrun, hyrunBin, tempDir, type Result } from '../helpers.js';

const component = (name: string): string => join(guestsDir, `${name}.component.wasm`);
// One cache for the file: the first test to run a component transpiles it, the rest use it.
const cache = tempDir('hyrun-components-');
const env = { ...process.env, HYRUN_CACHE_DIR: cache.path };
const run = (args: string[], input?: string, extra: NodeJS.ProcessEnv = {}): Result => hyrun(['run', ...args], { env: { ...env, ...extra }, input });
const cachedOutputs = (dir: string): string[] => {
  try {
    // Transpiled outputs are named by the component's sha256 (.by-file holds remembered digests).
    return readdirSync(join(dir, 'components')).flatMap((tag) => readdirSync(join(dir, 'components', tag)).filter((n) => /^[0-9a-f]{64}$/.test(n)));
  } catch {
    return [];
  }
};

test('a command component gets its arguments, only the --env environment, clocks, random and stdin', () => {
  const r = run(['--env', 'A=1', '--env', 'B=x=y', component('comp_cli'), 'stdin', 'two words'], 'piped in\n');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'argc=3\nargv[1]=stdin\nargv[2]=two words\nenv A=1\nenv B=x=y\nmonotonic ok\nrealtime ok\nrandom ok\nstdin 9 bytes\n');
  assert.equal(r.stderr, '');
});

test('--version names the transpiler whose glue components run on', () => {
  const pkg = JSON.parse(readFileSync(join(guestsDir, '../../node_modules/@bytecodealliance/jco-transpile/package.json'), 'utf8')) as { version: string };
  assert.ok(hyrun(['--version']).stdout.split('\n').includes(`components: jco-transpile@${pkg.version}`));
});

test('clock pollables: a relative and an absolute sleep through poll_oneoff wait at least as long as asked', () => {
  // rt_clock sleeps 200 ms, then until 100 ms from now, reporting the nanoseconds each took.
  const r = run([component('rt_clock')]);
  assert.equal(r.status, 0, r.stderr);
  const rel = /^sleep_rel 0 1 (\d+) /m.exec(r.stdout);
  const abs = /^sleep_abs 0 1 (\d+)$/m.exec(r.stdout);
  assert.ok(rel && Number(rel[1]) >= 200e6, r.stdout);
  assert.ok(abs && Number(abs[1]) >= 100e6, r.stdout);
});

test('detected by the binary header, not the file name', () => {
  const t = tempDir();
  try {
    copyFileSync(component('hello'), join(t.path, 'app.bin'));
    const r = run([join(t.path, 'app.bin')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hello from wasi, argc=1\n');
  } finally {
    t.cleanup();
  }
});

test('exit codes: exit-with-code keeps the code; exit(err) and run returning err are 1', () => {
  const seven = run([component('comp_exit')]);
  assert.equal(seven.status, 7, seven.stderr);
  assert.equal(seven.stdout, 'exiting with 7\n');
  // A u8: what the guest passes is taken modulo 256, as a native exit(300) is.
  assert.equal(run([component('comp_exit'), '300']).status, 44);
  assert.equal(run([component('comp_exit'), '0']).status, 0);
  // wasi:cli/run returning err.
  const err = run([component('comp_run_err')]);
  assert.equal(err.status, 1, err.stderr);
  assert.equal(err.stderr, '');
  // The adapter (jco's, as wasmtime's) turns proc_exit(5) into wasi:cli/exit's exit(err): status 1.
  const adapted = run([component('comp_cli'), 'exit', '5']);
  assert.equal(adapted.status, 1, adapted.stderr);
});

test('traps: 134 with the trap and the guest frames named, output before it kept', () => {
  const r = run([component('rt_trap')]);
  assert.equal(r.status, 134);
  assert.equal(r.stdout, 'about to trap: unreachable\n');
  assert.match(r.stderr, /^hyrun: wasm trap: unreachable executed at crash_now <- main <- [^\n]*wasi:cli\/run@[\d.]+#run\n$/);
  const div = run([component('rt_trap'), 'div0']);
  assert.equal(div.status, 134);
  assert.match(div.stderr, /^hyrun: wasm trap: integer divide by zero at divide <- main/);
});

/** Starts a component, sends sig once it printed `ready` (or after a while when empty), resolves with how it ended. */
function signalled(name: string, sig: NodeJS.Signals, ready: string): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(hyrunBin, ['run', component(name)], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no exit after ${sig}: ${out}`)); }, 30_000);
    if (ready === '') setTimeout(() => child.kill(sig), 1500);
    child.stdout.on('data', (d) => {
      out += d;
      if (ready !== '' && out.includes(ready)) child.kill(sig);
    });
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal }); });
  });
}

test('signals end a component as a native program: spinning, or blocked reading stdin', async () => {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGUSR1'] as const) {
    assert.deepEqual(await signalled('rt_loop', sig, 'spinning\n'), { code: null, signal: sig }, sig);
  }
  assert.deepEqual(await signalled('rt_cat', 'SIGTERM', ''), { code: null, signal: 'SIGTERM' });
});

test('as PID 1 of a PID namespace, SIGTERM still stops a spinning component (143)', async (t) => {
  if (spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status !== 0) return t.skip('cannot create PID namespaces here');
  const r = await new Promise<{ code: number | null }>((resolve, reject) => {
    const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', hyrunBin, 'run', component('rt_loop')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('no exit after SIGTERM')); }, 30_000);
    child.stdout.on('data', (d) => {
      if (!String(d).includes('spinning')) return;
      // unshare --fork: its child (node running hyrun) is PID 1 inside.
      const pid = Number(spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n')[0]);
      process.kill(pid, 'SIGTERM');
    });
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code }); });
  });
  assert.deepEqual(r, { code: 143 });
});

test('--memory caps the component\'s memories', () => {
  const ok = run(['--memory', '16MiB', component('hello')]);
  assert.equal(ok.status, 0, ok.stderr);
  assertOneLineError(run(['--memory', '64KiB', component('hello')]), 126, /needs \d+ bytes of memory at start, more than the memory limit of 65536 bytes/);
});

test('transpiled once: the second start comes from the cache and loads no transpiler', () => {
  const t = tempDir();
  try {
    const trace = { HYRUN_CACHE_DIR: t.path, HYRUN_TRACE_STARTUP: '1' };
    const first = run([component('hello')], undefined, trace);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /component transpiled/);
    assert.equal(cachedOutputs(t.path).length, 1);
    const second = run([component('hello')], undefined, trace);
    assert.equal(second.stdout, 'hello from wasi, argc=1\n');
    assert.match(second.stderr, /component from the transpile cache/);
    assert.doesNotMatch(second.stderr, /component transpiled/);
    assert.equal(cachedOutputs(t.path).length, 1);
  } finally {
    t.cleanup();
  }
});

test('starts racing to transpile the same component all run, and leave one complete output', async () => {
  const t = tempDir();
  try {
    const one = (): Promise<{ code: number | null; out: string }> => new Promise((resolve) => {
      const child = spawn(hyrunBin, ['run', component('comp_cli')], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...env, HYRUN_CACHE_DIR: t.path } });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.on('exit', (code) => resolve({ code, out }));
    });
    const results = await Promise.all([one(), one(), one(), one()]);
    for (const r of results) {
      assert.equal(r.code, 0);
      assert.match(r.out, /^argc=1\n/);
    }
    assert.equal(cachedOutputs(t.path).length, 1);
    const tagDir = join(t.path, 'components', readdirSync(join(t.path, 'components'))[0]!);
    assert.deepEqual(readdirSync(tagDir).filter((n) => n.startsWith('.') && n !== '.by-file'), [], 'no temporary directories left');
  } finally {
    t.cleanup();
  }
});

test('bad input: a world hyrun does not serve is one line listing what is missing, 126', () => {
  assertOneLineError(run([component('comp_unserved')]), 126,
    /comp_unserved\.component\.wasm imports what hyrun does not serve \(hyrun serves wasi:cli\/command\): acme:made\/up, wasi:http\/types\n$/);
});

test('bad input: hyrun serve of a command component is one line saying so, 126', () => {
  assertOneLineError(hyrun(['serve', component('hello')], { env }), 126,
    /hello\.component\.wasm is not an HTTP component: it exports no wasi:http\/incoming-handler \(its exports: wasi:cli\/run@0\.2\.\d+\)/);
});

test('bad input: run of an HTTP component (it is served) and serve, on an address in use, are one line, 125', async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  try {
    const port = (busy.address() as AddressInfo).port;
    for (const verb of ['run', 'serve']) {
      assertOneLineError(hyrun([verb, '--addr', `127.0.0.1:${port}`, component('comp_http')], { env }), 125,
        new RegExp(`cannot serve on 127\\.0\\.0\\.1:${port}: the address is in use`));
    }
  } finally {
    busy.close();
  }
});

/** A port nothing listens on now (the kernel's pick, closed again). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Whether a TCP connection to 127.0.0.1:port is refused (nothing listens there). */
const refused = (port: number): Promise<boolean> => new Promise((resolve) => {
  const c = connect({ host: '127.0.0.1', port }, () => { c.destroy(); resolve(false); });
  c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
});

test('bad input: an HTTP component importing what hyrun does not serve: serve and run are one line listing it, 126; nothing listens; only its transpiled form is cached', async () => {
  // comp_http_unserved exports wasi:http/incoming-handler and imports acme:made/up and acme:other/thing.
  const t = tempDir();
  try {
    const port = await freePort();
    for (const verb of ['serve', 'run']) {
      const r = hyrun([verb, '--addr', `127.0.0.1:${port}`, component('comp_http_unserved')], { env: { ...env, HYRUN_CACHE_DIR: t.path } });
      assertOneLineError(r, 126,
        /comp_http_unserved\.component\.wasm imports what hyrun does not serve \(hyrun serves wasi:http\/proxy and wasi:cli\/command's imports\): acme:made\/up, acme:other\/thing\n$/);
      assert.equal(await refused(port), true, `something listens on 127.0.0.1:${port} after hyrun ${verb} was refused`);
    }
    // The component is valid: its transpiled form is kept whole (a second start refuses it without
    // transpiling again), but nothing ran, so no glue code cache was written, and no temporary is left.
    const entries = cachedOutputs(t.path);
    assert.equal(entries.length, 1, entries.join(' '));
    const tag = readdirSync(join(t.path, 'components'))[0]!;
    const dir = join(t.path, 'components', tag, entries[0]!);
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { cores: string[]; suspending: boolean };
    assert.equal(meta.suspending, true, 'transpiled as an HTTP component');
    assert.deepEqual(readdirSync(dir).sort(), [...meta.cores, 'glue.cjs', 'meta.json'].sort());
    assert.deepEqual(readdirSync(join(t.path, 'components', tag)).filter((n) => n.startsWith('.') && n !== '.by-file'), [], 'no temporary directories left');
  } finally {
    t.cleanup();
  }
});

test('bad input: --tcplisten is for preview1 modules: with a component it is one line, 125', () => {
  assertOneLineError(run(['--tcplisten', '127.0.0.1:0', component('hello')]), 125, /--tcplisten is for WASI preview1 modules: .*hello\.component\.wasm is a component/);
});

test('bad input: a component that fails validation is one line, 126, and nothing is cached (run and serve)', () => {
  const t = tempDir();
  try {
    const bytes = readFileSync(component('hello'));
    // A truncated component: the header says component, the rest does not hold.
    writeFileSync(join(t.path, 'cut.wasm'), bytes.subarray(0, 5000));
    for (const verb of ['run', 'serve']) {
      const r = hyrun([verb, ...(verb === 'serve' ? ['--addr', '127.0.0.1:0'] : []), join(t.path, 'cut.wasm')], { env: { ...env, HYRUN_CACHE_DIR: join(t.path, 'cache') } });
      assertOneLineError(r, 126, /cut\.wasm is not a valid WebAssembly component: /);
      assert.deepEqual(cachedOutputs(join(t.path, 'cache')), [], verb);
    }
  } finally {
    t.cleanup();
  }
});

after(() => cache.cleanup());

