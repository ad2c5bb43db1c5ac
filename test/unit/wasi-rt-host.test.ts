// In-process tests of the non-filesystem preview1 areas, calling the import functions the way a
// guest would (pointers into a real WebAssembly.Memory) and decoding what they wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WasiContext, type WasiOptions } from '../../src/wasi/context.js';
import { argsEnvImports } from '../../src/wasi/args-env.js';
import { clockImports } from '../../src/wasi/clock.js';
import { randomImports } from '../../src/wasi/random.js';
import { procImports } from '../../src/wasi/proc.js';
import { pollImports } from '../../src/wasi/poll.js';
import { setupStdio, StdioDescriptor } from '../../src/wasi/stdio.js';
import { ProcExit, toErrno } from '../../src/wasi/errors.js';
import type { ImportArea } from '../../src/wasi/host.js';
import { ERRNO, FILETYPE } from '../../src/wasi/constants.js';
import { tempDir } from '../helpers.js';

/** The import functions as the guest sees them: errno results, as host.ts's boundary makes them. */
function guarded(area: ImportArea): Record<string, (...args: any[]) => number> {
  const out: Record<string, (...args: any[]) => number> = {};
  for (const [name, fn] of Object.entries(area)) {
    out[name] = (...args: any[]) => {
      try {
        return (fn(...args) as number | undefined) ?? ERRNO.SUCCESS;
      } catch (e) {
        return toErrno(e);
      }
    };
  }
  return out;
}

function makeCtx(options: Partial<WasiOptions> = {}): { ctx: WasiContext; dv: DataView; bytes: Uint8Array } {
  const ctx = new WasiContext({ args: [], env: [], preopens: [], ...options });
  const memory = new WebAssembly.Memory({ initial: 4 });
  ctx.bindMemory(memory);
  return { ctx, dv: new DataView(memory.buffer), bytes: new Uint8Array(memory.buffer) };
}

/** Reads the NUL-terminated strings a *_get call laid out, following its pointer array. */
function readStrings(dv: DataView, bytes: Uint8Array, listPtr: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = dv.getUint32(listPtr + i * 4, true);
    const end = bytes.indexOf(0, p);
    out.push(Buffer.from(bytes.subarray(p, end)).toString('utf8'));
  }
  return out;
}

test('args and environ are passed exactly, in order, with UTF-8 sizes', () => {
  const args = ['prog', 'a b', '', 'ünïcödé'];
  const env = ['B=2', 'A=1', 'B=3', 'EMPTY='];
  const { ctx, dv, bytes } = makeCtx({ args, env });
  const f = guarded(argsEnvImports(ctx));
  assert.equal(f.args_sizes_get(100, 104), ERRNO.SUCCESS);
  assert.equal(dv.getUint32(100, true), 4);
  assert.equal(dv.getUint32(104, true), args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0));
  f.args_get(200, 1000);
  assert.deepEqual(readStrings(dv, bytes, 200, 4), args);
  // The strings are packed contiguously from the buffer pointer.
  assert.equal(dv.getUint32(200, true), 1000);
  f.environ_sizes_get(100, 104);
  assert.equal(dv.getUint32(100, true), 4);
  assert.equal(dv.getUint32(104, true), env.join('\0').length + 1);
  f.environ_get(300, 2000);
  assert.deepEqual(readStrings(dv, bytes, 300, 4), env);
});

test('clock ids: resolution and time for the four clocks, INVAL otherwise', () => {
  const { ctx, dv } = makeCtx();
  const f = guarded(clockImports(ctx));
  for (const id of [0, 1, 2, 3]) {
    assert.equal(f.clock_res_get(id, 8), ERRNO.SUCCESS);
    assert.ok(dv.getBigUint64(8, true) > 0n);
    assert.equal(f.clock_time_get(id, 1n, 16), ERRNO.SUCCESS);
  }
  assert.equal(f.clock_res_get(4, 8), ERRNO.INVAL);
  assert.equal(f.clock_time_get(0xffffffff, 1n, 8), ERRNO.INVAL);
  f.clock_time_get(0, 1n, 16);
  const realtime = dv.getBigUint64(16, true);
  const wall = BigInt(Date.now()) * 1_000_000n;
  assert.ok(realtime > wall - 10_000_000_000n && realtime < wall + 10_000_000_000n, 'realtime is epoch nanoseconds');
  f.clock_time_get(1, 1n, 16);
  const a = dv.getBigUint64(16, true);
  f.clock_time_get(1, 1n, 16);
  assert.ok(dv.getBigUint64(16, true) >= a);
  // A pointer past the end of memory is EFAULT, not a host crash.
  assert.equal(f.clock_time_get(1, 1n, 4 * 65536 - 4), ERRNO.FAULT);
});

test('random_get fills large buffers completely (chunked) and differently each time', () => {
  const { ctx, bytes } = makeCtx();
  const f = guarded(randomImports(ctx));
  const len = 200_000; // several chunks
  assert.equal(f.random_get(0, len), ERRNO.SUCCESS);
  const first = Buffer.from(bytes.subarray(0, len));
  // The tail chunk was filled too: a zero run of 4 KiB at the end would be astronomically unlikely.
  assert.ok(first.subarray(len - 4096).some((b) => b !== 0));
  f.random_get(0, len);
  assert.notDeepEqual(Buffer.from(bytes.subarray(0, len)), first);
  assert.equal(f.random_get(4 * 65536 - 10, 11), ERRNO.FAULT);
  assert.equal(f.random_get(0, 0), ERRNO.SUCCESS);
});

test('proc_exit throws ProcExit with the code; proc_raise is NOSYS; sched_yield succeeds', () => {
  const { ctx } = makeCtx();
  const f = procImports(ctx);
  assert.throws(() => f.proc_exit(42), (e: unknown) => e instanceof ProcExit && e.code === 42);
  assert.equal(f.proc_raise(15), ERRNO.NOSYS);
  assert.equal(f.sched_yield(), ERRNO.SUCCESS);
});

function writeClockSub(dv: DataView, at: number, userdata: bigint, timeoutNs: bigint, flags = 0, id = 1): void {
  new Uint8Array(dv.buffer, at, 48).fill(0);
  dv.setBigUint64(at, userdata, true);
  dv.setUint8(at + 8, 0);
  dv.setUint32(at + 16, id, true);
  dv.setBigUint64(at + 24, timeoutNs, true);
  dv.setUint16(at + 40, flags, true);
}

test('poll_oneoff: zero subscriptions is INVAL; clock events use the 32-byte layout', () => {
  const { ctx, dv } = makeCtx();
  const f = guarded(pollImports(ctx));
  assert.equal(f.poll_oneoff(0, 1024, 0, 2048), ERRNO.INVAL);
  // Two clocks: one already expired (ABSTIME in the past), one 10 s away: only the first fires.
  writeClockSub(dv, 0, 0xaaaan, 1n, 1);
  writeClockSub(dv, 48, 0xbbbbn, 10_000_000_000n);
  new Uint8Array(dv.buffer, 1024, 64).fill(0xee);
  assert.equal(f.poll_oneoff(0, 1024, 2, 2048), ERRNO.SUCCESS);
  assert.equal(dv.getUint32(2048, true), 1);
  assert.equal(dv.getBigUint64(1024, true), 0xaaaan);
  assert.equal(dv.getUint16(1032, true), 0); // error
  assert.equal(dv.getUint8(1034), 0); // type CLOCK
  assert.equal(dv.getBigUint64(1040, true), 0n); // nbytes zeroed
  // An unknown clock id gives an event carrying INVAL instead of failing the call.
  writeClockSub(dv, 0, 7n, 1000n, 0, 9);
  assert.equal(f.poll_oneoff(0, 1024, 1, 2048), ERRNO.SUCCESS);
  assert.equal(dv.getUint32(2048, true), 1);
  assert.equal(dv.getUint16(1032, true), ERRNO.INVAL);
});

test('poll_oneoff: a relative clock blocks for at least its timeout', () => {
  const { ctx, dv } = makeCtx();
  const f = guarded(pollImports(ctx));
  writeClockSub(dv, 0, 1n, 50_000_000n);
  const t0 = process.hrtime.bigint();
  assert.equal(f.poll_oneoff(0, 1024, 1, 2048), ERRNO.SUCCESS);
  assert.ok(process.hrtime.bigint() - t0 >= 50_000_000n);
  assert.equal(dv.getUint32(2048, true), 1);
});

test('poll_oneoff: fd subscriptions on stdio are ready; bad fds give BADF events', () => {
  const { ctx, dv } = makeCtx();
  setupStdio(ctx);
  const f = guarded(pollImports(ctx));
  const fdSub = (at: number, userdata: bigint, type: number, fd: number): void => {
    new Uint8Array(dv.buffer, at, 48).fill(0);
    dv.setBigUint64(at, userdata, true);
    dv.setUint8(at + 8, type);
    dv.setUint32(at + 16, fd, true);
  };
  fdSub(0, 11n, 2, 2);
  fdSub(48, 12n, 2, 99);
  assert.equal(f.poll_oneoff(0, 1024, 2, 2048), ERRNO.SUCCESS);
  assert.equal(dv.getUint32(2048, true), 2);
  const events = [0, 1].map((i) => ({ ud: dv.getBigUint64(1024 + i * 32, true), err: dv.getUint16(1032 + i * 32, true), type: dv.getUint8(1034 + i * 32) }));
  assert.deepEqual(events.sort((a, b) => Number(a.ud - b.ud)), [{ ud: 11n, err: 0, type: 2 }, { ud: 12n, err: ERRNO.BADF, type: 2 }]);
});

test('stdio descriptors report the host fd type and write completely', () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'out.txt');
    writeFileSync(file, '');
    const fd = openSync(file, 'w');
    const nul = openSync('/dev/null', 'r');
    const d = new StdioDescriptor(fd, false);
    assert.equal(d.filetype, FILETYPE.REGULAR_FILE);
    assert.equal(new StdioDescriptor(nul, true).filetype, FILETYPE.CHARACTER_DEVICE);
    const chunk = Buffer.alloc(3 << 20, 7);
    assert.equal(d.write([chunk, Buffer.from('end')]), chunk.length + 3);
    assert.equal(d.filestat().size, BigInt(chunk.length + 3));
    assert.equal(new StdioDescriptor(nul, true).read([Buffer.alloc(10)]), 0); // EOF
    closeSync(fd);
    closeSync(nul);
  } finally {
    dir.cleanup();
  }
});
