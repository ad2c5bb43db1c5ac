// InstancePool (src/wasm/http-instances.ts) with fake instances: which instance a request gets,
// when a released one is reset and served again, dropped, or (with reuse) tidied and served as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InstancePool, type PooledInstance } from '../../src/wasm/http-instances.js';

interface Fake extends PooledInstance { id: number; resets: number; tidied: number }

function maker(resettable: (id: number) => boolean) {
  const made: Fake[] = [];
  const make = (): Fake => {
    const f: Fake = { id: made.length, resets: 0, tidied: 0, handle: async () => {} };
    f.reset = () => { f.resets++; return resettable(f.id); };
    f.tidy = () => { f.tidied++; };
    made.push(f);
    return f;
  };
  return { made, make };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('fresh: a released instance is reset after the turn and serves again; one that cannot be reset is dropped', async () => {
  const { made, make } = maker((id) => id !== 0);
  const pool = new InstancePool(make, false);
  const first = pool.take() as Fake;
  pool.release(first);
  // Not reset at once: the glue's own after-call steps run first.
  assert.equal(first.resets, 0);
  await turn();
  assert.equal(first.resets, 1);
  // Instance 0 could not be reset: it never comes back.
  const seen = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const f = pool.take() as Fake;
    seen.add(f.id);
    pool.release(f);
    await turn();
  }
  assert.ok(!seen.has(0));
  assert.equal(pool.resets, made.filter((f) => f.id !== 0).reduce((n, f) => n + f.resets, 0));
  assert.ok(made.every((f) => f.tidied === 0));
});

test('reuse: a released instance is tidied and served again as it is, never reset', async () => {
  const { made, make } = maker(() => true);
  const pool = new InstancePool(make, true);
  for (let i = 0; i < 5; i++) {
    const f = pool.take() as Fake;
    assert.equal(f.id, 0);
    pool.release(f);
    await turn();
  }
  assert.equal(made.length, 1);
  assert.equal(made[0]!.tidied, 5);
  assert.equal(made[0]!.resets, 0);
  assert.equal(pool.resets, 0);
});

test('serving threads: HYRUN_SERVE_THREADS when it is a whole number 1-64, else one per CPU and at most 4', async () => {
  const { servingThreads } = await import('../../src/wasm/http-serve.js');
  const { availableParallelism } = await import('node:os');
  const saved = process.env.HYRUN_SERVE_THREADS;
  try {
    process.env.HYRUN_SERVE_THREADS = '3';
    assert.equal(servingThreads(), 3);
    process.env.HYRUN_SERVE_THREADS = '500';
    assert.equal(servingThreads(), 64);
    for (const bad of ['0', '-2', '1.5', 'many', '']) {
      process.env.HYRUN_SERVE_THREADS = bad;
      assert.equal(servingThreads(), Math.min(availableParallelism(), 4), bad);
    }
    delete process.env.HYRUN_SERVE_THREADS;
    assert.equal(servingThreads(), Math.min(availableParallelism(), 4));
  } finally {
    if (saved === undefined) delete process.env.HYRUN_SERVE_THREADS;
    else process.env.HYRUN_SERVE_THREADS = saved;
  }
});
