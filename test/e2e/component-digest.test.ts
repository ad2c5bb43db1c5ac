// A cached component start skips hashing the component: its digest is remembered per file identity
// (src/wasm/component.ts fileIdentity). What must hold: the memo is used only for the very file
// state it was taken from; any write to the file (even the same bytes again) leads to a fresh hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, tempDir } from '../helpers.js';
import { fileIdentity, TRANSPILER_TAG, transpiled } from '../../src/wasm/component.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('component digests are remembered per file identity, and a written file is hashed again', { timeout: 300_000 }, async () => {
  const t = tempDir('hyrun-component-digest-');
  try {
    const cache = join(t.path, 'cache');
    const file = join(t.path, 'app.wasm');
    copyFileSync(guest('hello.component'), file);
    // As if some time had passed since each write (a file changed in the last 2 s gets no memo).
    const later = (): bigint => BigInt(Date.now() + 60_000) * 1_000_000n;
    const load = async () => {
      const identity = fileIdentity(file, later());
      assert.ok(identity, 'a regular file has an identity');
      const bytes = readFileSync(file);
      return { identity, bytes, result: await transpiled(file, bytes, cache, identity) };
    };
    const memo = (identity: string): string => readFileSync(join(cache, TRANSPILER_TAG, '.by-file', identity), 'utf8');

    assert.equal(fileIdentity(file), undefined, 'a file written just now is not remembered (its change time may not move on the next write)');
    const first = await load();
    assert.equal(first.result.cached, false);
    assert.equal(memo(first.identity), sha256(first.bytes), 'the remembered digest is the sha256 of the bytes');
    assert.equal(first.result.dir, join(cache, TRANSPILER_TAG, sha256(first.bytes)));

    const again = await load();
    assert.equal(again.identity, first.identity);
    assert.equal(again.result.cached, true);
    assert.equal(again.result.dir, first.result.dir);

    // Another component written over the same path: a new identity, its own digest and output.
    writeFileSync(file, readFileSync(guest('comp_exit.component')));
    const other = await load();
    assert.notEqual(other.identity, first.identity);
    assert.equal(other.result.dir, join(cache, TRANSPILER_TAG, sha256(other.bytes)));
    assert.notEqual(other.result.dir, first.result.dir);
    assert.equal(memo(other.identity), sha256(other.bytes));

    // The first bytes written back: the change time moved on, so the old memo is not the one used.
    writeFileSync(file, first.bytes);
    const back = await load();
    assert.notEqual(back.identity, first.identity);
    assert.equal(back.result.dir, first.result.dir);
    assert.equal(back.result.cached, true, 'same bytes: the transpiled output is found by their hash');
    const names = readdirSync(join(cache, TRANSPILER_TAG, '.by-file')).filter((n) => !n.startsWith('.'));
    assert.equal(names.length, 3, `one memo per file state: ${names.join(' ')}`);
    // And an unchanged file is not hashed: its memo alone decides (shown by pointing it elsewhere).
    writeFileSync(join(cache, TRANSPILER_TAG, '.by-file', back.identity), sha256(other.bytes));
    assert.equal((await load()).result.dir, other.result.dir);
  } finally {
    t.cleanup();
  }
});
