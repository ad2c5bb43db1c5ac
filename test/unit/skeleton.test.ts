import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PREVIEW1_FUNCTIONS } from '../../src/wasi/host.js';
import { ERRNO, RIGHTS } from '../../src/wasi/constants.js';

test('the host lists all 46 preview1 functions, each once', () => {
  assert.equal(PREVIEW1_FUNCTIONS.length, 46);
  assert.equal(new Set(PREVIEW1_FUNCTIONS).size, 46);
});

test('constants match api.h spot checks', () => {
  assert.equal(ERRNO.NOTCAPABLE, 76);
  assert.equal(ERRNO.E2BIG, 1);
  assert.equal(RIGHTS.SOCK_ACCEPT, 1n << 29n);
});
