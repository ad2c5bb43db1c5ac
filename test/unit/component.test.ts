// The pieces of the component path that need no component: header detection, what the glue asks
// of the host, the launch check, the glue's CommonJS form, and WASI 0.2 error codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isComponentHeader } from '../../src/wasm/binary.js';
import { glueNeeds, unserved } from '../../src/wasm/component.js';
import { toCommonJs, TranspileError } from '../../src/wasm/glue.js';
import { ERRNO } from '../../src/wasi/constants.js';
import { WasiError } from '../../src/wasi/errors.js';
import { toErrorCode } from '../../src/wasi/p2/errors.js';
import { P2Host } from '../../src/wasi/p2/host.js';

test('a component is recognised by its header (layer 1), a module is not', () => {
  assert.equal(isComponentHeader(Uint8Array.of(0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0)), true);
  assert.equal(isComponentHeader(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0)), false);
  assert.equal(isComponentHeader(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 0x0d, 0, 1, 0)), false);
  assert.equal(isComponentHeader(Uint8Array.of(0, 0x61, 0x73, 0x6d)), false);
});

test('the names the glue destructures from each import are what the host must serve', () => {
  const glue = `const { getArguments, getEnvironment } = imports['wasi:cli/environment'];
const { Error: Error$1 } = imports['wasi:io/error'];
const { ping } = imports['wasi:http/types'];`;
  const needs = glueNeeds(glue);
  assert.deepEqual(needs, { 'wasi:cli/environment': ['getArguments', 'getEnvironment'], 'wasi:io/error': ['Error'], 'wasi:http/types': ['ping'] });
  const served = new P2Host({ args: [], env: [], preopens: [] }).importObject();
  assert.deepEqual(unserved(needs, served), ['wasi:http/types']);
  assert.deepEqual(unserved({ 'wasi:cli/environment': ['getArguments', 'madeUp'] }, served), ['wasi:cli/environment#madeUp']);
});

test('the glue becomes a CommonJS body with its per-call debug hook returning at once; other shapes are refused', () => {
  const out = toCommonJs(`"use components";
export function instantiate(getCoreModule, imports) {
  const _debugLog = (...args) => {
    if (!globalThis?.process?.env?.JCO_DEBUG) { return; }
    console.debug(...args);
  };
}
export const _util = {};`);
  assert.match(out, /^function instantiate\(/m);
  assert.match(out, /module\.exports = \{ instantiate \};/);
  assert.doesNotMatch(out, /JCO_DEBUG/);
  assert.doesNotMatch(out, /^export /m);
  assert.throws(() => toCommonJs('export default function () {}'), TranspileError);
});

test("the glue hands its handle tables and host resource maps to an import object that asks for them, and works without", () => {
  const out = toCommonJs(`"use components";
export function instantiate(getCoreModule, imports, instantiateCore = (module, importObject) => new WebAssembly.Instance(module, importObject)) {
  const T_FLAG = 1 << 30;
  const HANDLE_TABLES= [];
  let gen = (function* () {
    const handleTable3 = [T_FLAG, 0];
    const captureTable3= new Map();
    HANDLE_TABLES[3] = handleTable3;
    yield captureTable3;
  })();
  return { tables: HANDLE_TABLES, capture: gen.next().value };
}
export const _util = {};`);
  const mod = { exports: {} as { instantiate: (g: unknown, imports: object) => { tables: unknown[]; capture: unknown } } };
  new Function('module', 'exports', out)(mod, mod.exports);
  const state: { handleTables?: unknown[]; captures: unknown[] } = { captures: [] };
  const made = mod.exports.instantiate(null, { [Symbol.for('hyrun.instance-state')]: state });
  assert.equal(state.handleTables, made.tables);
  assert.deepEqual(state.handleTables?.[3], [1 << 30, 0]);
  assert.deepEqual(state.captures, [made.capture]);
  assert.doesNotThrow(() => mod.exports.instantiate(null, {}));
});

test('host errors become wasi:filesystem error codes; leaving the sandbox is not-permitted', () => {
  assert.equal(toErrorCode(new WasiError(ERRNO.NOTCAPABLE)), 'not-permitted');
  assert.equal(toErrorCode(new WasiError(ERRNO.NOENT)), 'no-entry');
  assert.equal(toErrorCode(new WasiError(ERRNO.ROFS)), 'read-only');
  assert.equal(toErrorCode(Object.assign(new Error('x'), { code: 'EACCES' })), 'access');
  assert.equal(toErrorCode(Object.assign(new Error('x'), { code: 'ENOTEMPTY' })), 'not-empty');
  // A bug is not an error code: it propagates (and traps the guest with a host-failure line).
  assert.throws(() => toErrorCode(new TypeError('bug')), TypeError);
});
