// Standard streams, args/env, clocks, random and poll_oneoff as a guest sees them through `hyrun run`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { guest, hyrun, hyrunBin, native } from '../helpers.js';

test('stdin through a pipe: a cat-like guest echoes 5 MiB exactly', () => {
  const input = randomBytes(5 << 20);
  const r = spawnSync(hyrunBin, ['run', guest('rt_cat')], { input, maxBuffer: 64 << 20, timeout: 60_000 });
  assert.equal(r.status, 0, String(r.stderr));
  assert.equal(r.stdout.length, input.length);
  assert.ok(r.stdout.equals(input));
  assert.equal(String(r.stderr), `copied ${input.length} bytes\n`);
});

test('stdin at EOF at once (empty pipe, /dev/null) reads 0 bytes', () => {
  const r = spawnSync(hyrunBin, ['run', guest('rt_cat')], { input: '' });
  assert.equal(r.status, 0);
  assert.equal(String(r.stderr), 'copied 0 bytes\n');
  const n = spawnSync(hyrunBin, ['run', guest('rt_cat')], { stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(String(n.stderr), 'copied 0 bytes\n');
});

test('a 16 MiB write to a pipe is complete and identical to the native program', () => {
  const r = spawnSync(hyrunBin, ['run', guest('rt_bigwrite'), '16'], { maxBuffer: 64 << 20, timeout: 60_000 });
  assert.equal(r.status, 0, String(r.stderr));
  assert.equal(String(r.stderr), `write returned ${16 << 20} of ${16 << 20}\n`);
  const nat = spawnSync(native('rt_bigwrite'), ['16'], { maxBuffer: 64 << 20 });
  assert.equal(r.stdout.length, 16 << 20);
  assert.ok(r.stdout.equals(nat.stdout));
});

test('a large write to a slow reader through a shell pipeline is complete', () => {
  // The reader sleeps first, so the guest's write meets a full pipe and must wait.
  const r = spawnSync('sh', ['-c', `"${hyrunBin}" run "${guest('rt_bigwrite')}" 8 | (sleep 1; wc -c)`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.stdout.trim(), String(8 << 20));
});

test('args and env reach the guest exactly (order, duplicates, empty and spaced values)', () => {
  const r = hyrun(['run', '--env', 'B=2', '--env', 'A=x y', '--env', 'B=3', '--env', 'EMPTY=', guest('rt_env'), 'one', '', 'two words', '--env']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, [
    'argc=5', `arg[0]=[${guest('rt_env')}]`, 'arg[1]=[one]', 'arg[2]=[]', 'arg[3]=[two words]', 'arg[4]=[--env]',
    'env[0]=[B=2]', 'env[1]=[A=x y]', 'env[2]=[B=3]', 'env[3]=[EMPTY=]', 'envc=4', '',
  ].join('\n'));
  // hyrun's own environment is not inherited.
  const bare = hyrun(['run', guest('rt_env')], { env: { ...process.env, SHOULD_NOT_LEAK: '1' } });
  assert.match(bare.stdout, /envc=0\n$/);
});

test('clocks, random_get and poll_oneoff behave as preview1 specifies', () => {
  const before = BigInt(Date.now()) * 1_000_000n;
  const r = hyrun(['run', guest('rt_clock')]);
  assert.equal(r.status, 0, r.stderr);
  const facts = new Map(r.stdout.trim().split('\n').map((l) => {
    const [k, ...rest] = l.split(' ');
    return [k + (k === 'res' ? rest.shift() : ''), rest];
  }));
  for (const id of [0, 1, 2, 3]) {
    const [errno, res] = facts.get(`res${id}`)!;
    assert.equal(errno, '0');
    assert.ok(BigInt(res) > 0n);
  }
  assert.deepEqual(facts.get('bad_clock_time'), ['28']);
  assert.deepEqual(facts.get('bad_clock_res'), ['28']);
  const realtime = BigInt(facts.get('realtime')![0]);
  assert.ok(realtime >= before - 1_000_000_000n && realtime <= BigInt(Date.now()) * 1_000_000n + 1_000_000_000n);
  assert.deepEqual(facts.get('monotonic_backwards'), ['0']);
  assert.ok(BigInt(facts.get('cputime_delta')![0]) > 0n, 'CPU time advances with work');
  assert.deepEqual(facts.get('random_err'), ['0', '0']);
  const [a] = facts.get('random_a')!;
  const [b] = facts.get('random_b')!;
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a, b);
  assert.notEqual(a, '0'.repeat(64));
  assert.deepEqual(facts.get('random_distinct'), ['256']);
  // sleep_rel: errno, nevents, elapsed ns, event error, event type, userdata echoed back.
  const [e1, n1, ns1, err1, type1, ud] = facts.get('sleep_rel')!;
  assert.deepEqual([e1, n1, err1, type1, ud], ['0', '1', '0', '0', '1234567890abcdef']);
  assert.ok(BigInt(ns1) >= 200_000_000n, `slept ${ns1} ns`);
  const [e2, n2, ns2] = facts.get('sleep_abs')!;
  assert.deepEqual([e2, n2], ['0', '1']);
  assert.ok(BigInt(ns2) >= 100_000_000n, `slept ${ns2} ns`);
  assert.deepEqual(facts.get('poll_zero'), ['28']);
  // stdout is writable at once, so the 10 s clock does not fire: event for userdata 2, type FD_WRITE.
  assert.deepEqual(facts.get('poll_stdout'), ['0', '1', '2', '2']);
  assert.deepEqual(facts.get('poll_badf'), ['0', '1', '2', '8']);
  assert.deepEqual(facts.get('sched_yield'), ['0']);
});

test('non-blocking stdio pipes (O_NONBLOCK set by someone else) still give complete reads and writes', () => {
  // Writer side: 16 MiB into a non-blocking pipe whose reader starts late, so writes hit EAGAIN.
  const w = spawnSync('sh', ['-c', `"${native('rt_nonblock_exec')}" "${hyrunBin}" run "${guest('rt_bigwrite')}" 16 | (sleep 1; wc -c)`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(w.stdout.trim(), String(16 << 20), w.stderr);
  assert.match(w.stderr, /write returned 16777216 of 16777216/);
  // Reader side: input arrives after a delay on a non-blocking pipe, so reads hit EAGAIN first.
  const r = spawnSync('sh', ['-c', `(sleep 1; head -c 3000000 /dev/zero) | "${native('rt_nonblock_exec')}" "${hyrunBin}" run "${guest('rt_cat')}" | wc -c`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.stdout.trim(), '3000000', r.stderr);
  assert.equal(r.stderr, 'copied 3000000 bytes\n');
});

test('poll_oneoff on a stdin pipe: times out while empty, wakes for data, reports hangup at EOF', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(hyrunBin, ['run', guest('rt_poll_stdin'), '200'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  const seen = (re: RegExp): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${re}: ${JSON.stringify(lines)}`)), 30_000);
    const check = (): void => {
      if (lines.some((l) => re.test(l))) { clearTimeout(timer); child.stdout.off('data', check); resolve(); }
    };
    child.stdout.on('data', check);
    check();
  });
  child.stdout.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await seen(/^timeout$/);
  child.stdin.write('abc');
  await seen(/^data/);
  child.stdin.end();
  await seen(/^eof/);
  assert.equal(await exited, 0);
  const firstTimeout = lines.indexOf('timeout');
  // Before the write, only timeouts; then exactly the data, then EOF with the hangup flag.
  const rest = lines.filter((l) => l !== 'timeout');
  assert.equal(firstTimeout, 0);
  assert.deepEqual(rest, ['data 3 [abc]', 'eof hangup=1']);
});
