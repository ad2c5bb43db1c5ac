// The executor as a user meets it: `hyrun run FILE` as a real process, checking exit statuses, the
// one-line messages on stderr, the memory cap and signal handling (also as PID 1 of a PID namespace).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { guest, hyrun, hyrunBin, hyrunBundle, native, tempDir } from '../helpers.js';
import { HYRUN_ENGINE_FLAGS } from '../../src/wasm/flags.js';

test('exit statuses: proc_exit, C exit(), return from main', () => {
  for (const [mode, n] of [['procexit', 0], ['procexit', 1], ['procexit', 42], ['procexit', 255], ['exit', 3], ['return', 0], ['return', 7]] as const) {
    const r = hyrun(['run', guest('rt_exit'), mode, String(n)]);
    assert.equal(r.status, n, `${mode} ${n}: ${r.stderr}`);
    assert.equal(r.stdout, `ending with ${mode} ${n}\n`);
    assert.equal(r.stderr, '');
  }
  // The native build agrees on the statuses it can produce.
  assert.equal(spawnSync(native('rt_exit'), ['exit', '3']).status, 3);
});

test('traps: one stderr line naming the trap and the functions, exit 134, earlier output kept', () => {
  const cases: [string, RegExp][] = [
    ['unreachable', /^hyrun: wasm trap: unreachable executed at crash_now <- main <- .*_start/],
    ['div0', /^hyrun: wasm trap: integer divide by zero at divide <- main/],
    ['oob', /^hyrun: wasm trap: out of bounds memory access at load_far <- main/],
    // Overflowing the C shadow stack (in linear memory) and the engine's call stack.
    ['stack', /^hyrun: wasm trap: out of bounds memory access at recurse/],
    ['deep', /^hyrun: wasm trap: call stack exhausted at deep/],
  ];
  for (const [what, re] of cases) {
    const r = hyrun(['run', guest('rt_trap'), what]);
    assert.equal(r.status, 134, `${what}: ${r.stderr}`);
    assert.equal(r.stdout, `about to trap: ${what}\n`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.split('\n').length, 2, `exactly one line: ${JSON.stringify(r.stderr)}`);
  }
});

test('launch errors: missing file 127, not Wasm 126 saying what it is', () => {
  const dir = tempDir();
  try {
    const missing = hyrun(['run', join(dir.path, 'nope.wasm')]);
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /^hyrun: .*nope\.wasm: no such file/);
    const files: [string, Uint8Array | string, RegExp][] = [
      ['empty.wasm', '', /an empty file/],
      ['script.wasm', '#!/bin/sh\necho hi\n', /a script \(#!\/bin\/sh\)/],
      ['notes.wasm', 'just some notes\n', /a text file/],
      ['data.wasm', gzipSync('hello'), /gzip-compressed data/],
    ];
    for (const [name, content, re] of files) {
      const p = join(dir.path, name);
      writeFileSync(p, content);
      const r = hyrun(['run', p]);
      assert.equal(r.status, 126, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^hyrun: .*${name} is not a WebAssembly module: it is ${re.source}`));
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    const elf = join(dir.path, 'native.wasm');
    copyFileSync(native('rt_exit'), elf);
    chmodSync(elf, 0o755);
    const r = hyrun(['run', elf]);
    assert.equal(r.status, 126);
    assert.match(r.stderr, /ELF executable/);
  } finally {
    dir.cleanup();
  }
});

test('launch errors: unknown imports are listed; no _start; invalid binary', () => {
  const dir = tempDir();
  try {
    const imports = join(dir.path, 'imports.wat');
    writeFileSync(imports, `(module
      (import "env" "get_magic" (func (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (import "wasi_unstable" "proc_exit" (func (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")))`);
    let r = hyrun(['run', imports]);
    assert.equal(r.status, 126);
    assert.match(r.stderr, /imports what hyrun does not provide .*: env\.get_magic, wasi_unstable\.proc_exit\n$/);
    const lib = join(dir.path, 'lib.wat');
    writeFileSync(lib, '(module (memory (export "memory") 1) (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))');
    r = hyrun(['run', lib]);
    assert.equal(r.status, 126);
    assert.match(r.stderr, /no _start function/);
    const bad = join(dir.path, 'bad.wasm');
    writeFileSync(bad, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0x01, 0x05, 0xff]));
    r = hyrun(['run', bad]);
    assert.equal(r.status, 126);
    assert.match(r.stderr, /is not a valid WebAssembly module/);
    // An invalid function body: the message gives the offset in the file as it is (the executor
    // compiles a reshaped copy, flags.ts, but reports errors against the original).
    const badOp = join(dir.path, 'badop.wasm');
    const badOpBytes = Buffer.from([
      0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 1,
      7, 10, 1, 6, ...Buffer.from('_start'), 0, 0, 0x0a, 5, 1, 3, 0, 0xff, 0x0b,
    ]);
    writeFileSync(badOp, badOpBytes);
    r = hyrun(['run', badOp]);
    assert.equal(r.status, 126);
    assert.match(r.stderr, new RegExp(`is not a valid WebAssembly module: .*0xff @\\+${badOpBytes.indexOf(0xff)}\n$`));
    const badWat = join(dir.path, 'bad.wat');
    writeFileSync(badWat, '(module (func (export "_start") i32.bogus))');
    r = hyrun(['run', badWat]);
    assert.equal(r.status, 126);
    assert.match(r.stderr, /is not valid WebAssembly text/);
  } finally {
    dir.cleanup();
  }
});

test('tiers: bin/hyrun starts node with the engine flags, so every guest function is compiled by TurboFan (as V8 reports it)', () => {
  // The flags go on node's command line (flags.ts); HYRUN_V8_FLAGS replaces them, here adding V8's
  // report of each function it compiles. With flags toggled at run time this very run aborted V8 14.
  const tiers = (name: string, env: NodeJS.ProcessEnv): string[] => {
    const r = hyrun(['run', guest(name)], { env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    const compiled = [...r.stdout.matchAll(/Compiled function \S+#\d+ using (Liftoff|TurboFan)/g)].map((m) => m[1]!);
    assert.ok(compiled.length >= 10, `V8 reported the functions it compiled:\n${r.stdout}`);
    return compiled;
  };
  for (const name of ['hello', 'hello_rust']) {
    const withPolicy = tiers(name, { HYRUN_V8_FLAGS: [...HYRUN_ENGINE_FLAGS, '--trace-wasm-compilation-times'].join(' ') });
    assert.deepEqual([...new Set(withPolicy)], ['TurboFan'], name);
    // Not vacuous: with V8's defaults the same guest starts in Liftoff.
    assert.ok(tiers(name, { HYRUN_V8_FLAGS: '--trace-wasm-compilation-times' }).includes('Liftoff'), name);
  }
});

test('tiers: nothing changes V8 flags at run time (the code caches stay valid, V8 cannot abort on a flag change)', () => {
  // node's cachedDataVersionTag hashes the flags: the same before the guest ran and after.
  const probe = join(tempDir().path, 'probe.cjs');
  writeFileSync(probe, `const v8 = require('node:v8'); const before = v8.cachedDataVersionTag();
    process.on('exit', () => { if (v8.cachedDataVersionTag() !== before) process.stderr.write('flags changed'); });
    process.argv[1] = ${JSON.stringify(hyrunBundle)}; require(process.argv[1]);`);
  const r = spawnSync(process.execPath, [...HYRUN_ENGINE_FLAGS, probe, 'run', guest('hello')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /hello/);
  assert.doesNotMatch(r.stderr, /flags changed/);
});

test('.wat modules run (wabt), with stdout and proc_exit', () => {
  const dir = tempDir();
  try {
    const p = join(dir.path, 'hi.wat');
    writeFileSync(p, `(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "hi from wat\\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 12))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (call $exit (i32.const 9))))`);
    const r = hyrun(['run', p]);
    assert.equal(r.stdout, 'hi from wat\n');
    assert.equal(r.status, 9);
  } finally {
    dir.cleanup();
  }
});

test('memory cap: malloc fails cleanly at the cap; initial memory above the cap is refused', () => {
  const capped = hyrun(['run', '--memory', '4MiB', guest('rt_malloc')]);
  assert.equal(capped.status, 0, capped.stderr);
  const m = /^allocated (\d+) MiB, 0 corrupt\n$/.exec(capped.stdout);
  assert.ok(m, capped.stdout);
  assert.ok(Number(m[1]) >= 1 && Number(m[1]) < 4, capped.stdout);
  const bigger = hyrun(['run', '--memory', '64MiB', guest('rt_malloc')]);
  const n = Number(/^allocated (\d+) MiB/.exec(bigger.stdout)?.[1]);
  assert.ok(n > 32 && n < 64, bigger.stdout);
  // Without a cap the guest gets more than either (bounded by its own argument so the test is quick).
  const free = hyrun(['run', guest('rt_malloc'), '100']);
  assert.equal(free.stdout, 'allocated 100 MiB, 0 corrupt\n');
  const tiny = hyrun(['run', '--memory', '64KiB', guest('rt_malloc')]);
  assert.equal(tiny.status, 126);
  assert.match(tiny.stderr, /^hyrun: .*needs \d+ bytes of memory at start, more than the memory limit of 65536 bytes\n$/);
});

test('imported memory is created by the host, capped', () => {
  const dir = tempDir();
  try {
    const p = join(dir.path, 'impmem.wat');
    // Grows its imported memory one page at a time until memory.grow fails; exits with the page count.
    writeFileSync(p, `(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 1))
      (func (export "_start")
        (block $done (loop $more
          (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
          (br $more)))
        (call $exit (memory.size))))`);
    const r = hyrun(['run', '--memory', '640KiB', p]);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 10);
  } finally {
    dir.cleanup();
  }
});

/** Starts a spinning guest, waits until it says so, sends sig; resolves with the exit status. */
function signalDuringLoop(cmd: string, args: string[], sig: NodeJS.Signals, pickPid?: (pid: number) => number): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no exit after ${sig}: ${out}`)); }, 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('spinning\n')) {
        const target = pickPid ? pickPid(child.pid!) : child.pid!;
        process.kill(target, sig);
      }
    });
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal }); });
  });
}

test('on the host, SIGTERM, SIGINT, SIGHUP, SIGUSR1 kill a guest in a tight loop as they would a native program', async () => {
  // The guest runs on the main thread and the signals keep their default action: the process dies
  // of the signal (a shell reports 128+signal). SIGUSR1 must not open node's inspector instead (the
  // process would keep running and this would time out).
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'] as const) {
    const r = await signalDuringLoop(hyrunBin, ['run', guest('rt_loop')], sig);
    assert.deepEqual(r, { code: null, signal: sig }, sig);
  }
});

test('SIGUSR1 never opens the inspector on 127.0.0.1:9229 while hyrun runs a guest', async () => {
  // Also once the guest is running (its output seen): hyrun dies of SIGUSR1 and nothing listens on
  // the inspector's port meanwhile. (A SIGUSR1 in node's own first milliseconds, before any of
  // hyrun's JavaScript runs, still reaches node's handler: node 20 has no --disable-sigusr1.)
  const listening = (): boolean => /127\.0\.0\.1:9229\b/.test(spawnSync('ss', ['-ltnH'], { encoding: 'utf8' }).stdout);
  assert.equal(listening(), false, 'something else listens on 9229: the test cannot tell');
  let seen = false;
  const r = await signalDuringLoop(hyrunBin, ['run', guest('rt_loop')], 'SIGUSR1', (pid) => {
    // Poll the port right after the signal, until the process is gone.
    const t = setInterval(() => { seen ||= listening(); try { process.kill(pid, 0); } catch { clearInterval(t); } }, 5);
    return pid;
  });
  assert.deepEqual(r, { code: null, signal: 'SIGUSR1' });
  assert.equal(seen || listening(), false, 'the inspector opened');
});

test('as PID 1 of a PID namespace, SIGTERM still stops the guest (143)', async (t) => {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
  if (probe.status !== 0) return t.skip('cannot create PID namespaces here');
  // unshare --fork: its child (node running hyrun) is PID 1 inside; signal that child.
  const childOf = (pid: number): number => {
    const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
    return Number(r.stdout.trim().split('\n')[0]);
  };
  const r = await signalDuringLoop('unshare', ['--pid', '--fork', '--mount-proc', hyrunBin, 'run', guest('rt_loop')], 'SIGTERM', (pid) => {
    const c = childOf(pid);
    // Prove the premise: the process we signal is PID 1 in its namespace.
    const status = spawnSync('grep', ['NSpid', `/proc/${c}/status`], { encoding: 'utf8' }).stdout;
    assert.match(status, /NSpid:\s+\d+\s+1\n/);
    return c;
  });
  assert.deepEqual(r, { code: 143, signal: null });
});

/** Spawns hyrun, sends sig after delayMs, resolves with how it ended. */
function signalAfter(args: string[], sig: NodeJS.Signals, delayMs: number, stdin: 'pipe' | 'ignore' = 'pipe'): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(hyrunBin, args, { stdio: [stdin, 'ignore', 'pipe'] });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no exit after ${sig}`)); }, 30_000);
    setTimeout(() => child.kill(sig), delayMs);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal }); });
  });
}

test('signals also end a guest blocked in a read, a full-pipe write, a sleep or an accept', async () => {
  // Blocked reading stdin (a socket, as Node gives children; nothing is ever written).
  assert.deepEqual(await signalAfter(['run', guest('rt_cat')], 'SIGTERM', 1000), { code: null, signal: 'SIGTERM' });
  // Blocked reading a real pipe, and writing into a pipe nobody reads, through a shell.
  const viaShell = (cmd: string): Promise<{ code: number | null; signal: string | null }> => new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', cmd], { stdio: 'ignore' });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('shell pipeline did not end')); }, 30_000);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal }); });
  });
  const hy = `"${hyrunBin}" run`;
  // The hyrun process's status is written to a file by a subshell; a random token in the guest's
  // argv lets pkill find exactly our process (node's path ends in bin/node, hyrun's own node; the
  // bracket keeps the pattern from matching the shell's command line, which spells it). The signal goes a second after node is seen running
  // (not a second after the pipeline starts, which a busy machine may need for node's start); a
  // signal that came before the guest blocks would end it the same way. The idle end of the pipe
  // sleeps until the test kills it (its pid in a file), so no fixed sleep bounds the run.
  const dir = tempDir();
  try {
    const { readFileSync } = await import('node:fs');
    const token = `tok${process.pid}x${Date.now()}`;
    const status = join(dir.path, 'status');
    const idle = (tag: string): string => `sh -c 'echo $$ > "${status}${tag}.idle"; exec sleep 60'`;
    const signalOnceRunning = (tag: string): string => [
      `i=0; until pgrep -f "[b]in/node .*${token}${tag}" >/dev/null || [ $i -ge 400 ]; do sleep 0.05; i=$((i+1)); done; sleep 1`,
      `pkill -TERM -f "[b]in/node .*${token}${tag}"`,
      `until [ -s "${status}${tag}" ] && [ -s "${status}${tag}.idle" ]; do sleep 0.05; done; kill $(cat "${status}${tag}.idle"); wait`,
    ].join('; ');
    // Reading a real pipe that stays empty.
    await viaShell(`${idle('r')} | ( ${hy} "${guest('rt_cat')}" ${token}r; echo $? > "${status}r" ) & ${signalOnceRunning('r')}`);
    assert.equal(readFileSync(`${status}r`, 'utf8').trim(), '143');
    // Writing 16 MiB into a pipe whose reader never reads.
    await viaShell(`( ${hy} "${guest('rt_bigwrite')}" 16 ${token}w; echo $? > "${status}w" ) | ${idle('w')} & ${signalOnceRunning('w')}`);
    assert.equal(readFileSync(`${status}w`, 'utf8').trim(), '143');
  } finally {
    dir.cleanup();
  }
  // Sleeping in poll_oneoff (rt_poll_stdin with a long timeout, stdin never ready) and blocked in sock_accept.
  assert.deepEqual(await signalAfter(['run', guest('rt_poll_stdin'), '60000'], 'SIGHUP', 1000), { code: null, signal: 'SIGHUP' });
  // --tcplisten puts the guest on a worker (sockets need the broker): the signal still kills.
  assert.deepEqual(await signalAfter(['run', '--tcplisten', '127.0.0.1:0', guest('rt_http_server')], 'SIGINT', 1000), { code: null, signal: 'SIGINT' });
});
