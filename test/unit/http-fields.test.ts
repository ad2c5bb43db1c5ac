// wasi:http/types `fields` (src/wasi/p2/http-fields.ts): the header rules a guest meets, thrown as
// the glue expects a result's error (the header-error variant).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fields, validName, validValue } from '../../src/wasi/p2/http-fields.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const refusal = (op: () => void): string => {
  try {
    op();
  } catch (e) {
    return (e as { tag: string }).tag;
  }
  return 'ok';
};

test('names must be tokens; values have no control characters and no surrounding whitespace', () => {
  for (const ok of ['x-ok', 'Content-Type', "a!#$%&'*+-.^_`|~9"]) assert.ok(validName(ok), ok);
  for (const bad of ['', 'bad name', 'a:b', 'ä', 'x\r']) assert.ok(!validName(bad), bad);
  for (const ok of ['', 'plain', 'in side', 'tab\tinside', '\u00ff obs-text']) assert.ok(validValue(Buffer.from(ok, 'latin1')), ok);
  for (const bad of ['a\r\nb', 'nul\0', ' lead', 'trail ', 'del\x7f']) assert.ok(!validValue(Buffer.from(bad, 'latin1')), bad);
});

test('append, set and delete answer invalid-syntax, forbidden and immutable as the WIT says', () => {
  const f = new Fields();
  assert.equal(refusal(() => f.append('x-ok', bytes('1'))), 'ok');
  assert.equal(refusal(() => f.append('bad name', bytes('1'))), 'invalid-syntax');
  assert.equal(refusal(() => f.append('x-v', bytes('a\nb'))), 'invalid-syntax');
  for (const name of ['Connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'proxy-connection', 'http2-settings']) {
    assert.equal(refusal(() => f.append(name, bytes('x'))), 'forbidden', name);
    assert.equal(refusal(() => f.set(name, [bytes('x')])), 'forbidden', name);
  }
  assert.equal(refusal(() => Fields.fromList([['x-a', bytes('1')], ['connection', bytes('close')]])), 'forbidden');
  // `te: trailers` is a request header a client may send (not forbidden, as in wasmtime).
  assert.equal(refusal(() => f.append('te', bytes('trailers'))), 'ok');
  const received = Fields.received(['Host', 'example', 'X-In', 'v']);
  assert.equal(refusal(() => received.append('x-more', bytes('1'))), 'immutable');
  assert.equal(refusal(() => received.delete('x-in')), 'immutable');
  // A copy of immutable fields may be changed.
  assert.equal(refusal(() => received.clone().append('x-more', bytes('1'))), 'ok');
});

test('names are case-insensitive and kept lower-case; repeated names keep their order', () => {
  const f = Fields.fromList([['X-A', bytes('1')], ['x-b', bytes('2')], ['x-a', bytes('3')]]);
  assert.deepEqual(f.get('x-A').map(text), ['1', '3']);
  assert.ok(f.has('X-B'));
  assert.deepEqual(f.entries().map(([n, v]) => `${n}=${text(v)}`), ['x-a=1', 'x-b=2', 'x-a=3']);
  f.set('x-a', [bytes('9')]);
  assert.deepEqual(f.entries().map(([n, v]) => `${n}=${text(v)}`), ['x-b=2', 'x-a=9']);
  f.delete('X-B');
  assert.deepEqual(f.toObject(), { 'x-a': '9' });
  f.append('x-a', bytes('10'));
  assert.deepEqual(f.toObject(), { 'x-a': ['9', '10'] });
});
