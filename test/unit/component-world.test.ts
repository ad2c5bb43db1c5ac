// componentWorld (src/wasm/component-world.ts) against wasmtime, the reference: for every component
// the test setup built (command components, HTTP handlers in C and in JavaScript, the fixtures that
// import what hyrun does not serve), the same imports and exports as wasmtime-py's component type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { componentWorld } from '../../src/wasm/component-world.js';
import { guestsDir } from '../helpers.js';
import { sortedWorld, wasmtimeWorlds } from '../wasmtime-worlds.js';

test('componentWorld names what wasmtime names, for every component fixture', () => {
  const paths = readdirSync(guestsDir).filter((n) => n.endsWith('.component.wasm')).map((n) => join(guestsDir, n));
  assert.ok(paths.length >= 10, `only ${paths.length} components in ${guestsDir}: run npm run guests`);
  const oracle = wasmtimeWorlds(paths);
  for (const path of paths) {
    const ours = componentWorld(readFileSync(path));
    const theirs = oracle[path]!;
    assert.ok(theirs.exports.length > 0, `${path}: wasmtime sees no exports`);
    assert.deepEqual(sortedWorld(ours), sortedWorld(theirs), path);
    assert.equal(new Set(ours.imports).size, ours.imports.length, `${path}: an import named twice`);
  }
});

test('componentWorld refuses bytes that do not parse', () => {
  const bytes = readFileSync(join(guestsDir, 'http_handler.component.wasm'));
  // The same component cut short: a section now runs past the end.
  assert.throws(() => componentWorld(bytes.subarray(0, bytes.length - 10)), /past the end|truncated/);
});
