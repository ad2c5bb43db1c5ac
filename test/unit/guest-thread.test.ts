// Which thread runs the guest (src/wasm/executor.ts guestThread): the rule in one table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestThread } from '../../src/wasm/executor.js';

test('PID 1 runs the guest on the main thread only when signals can be handled in C', () => {
  assert.equal(guestThread({}, 1, false, true), 'main');
  assert.equal(guestThread({}, 1, false, false), 'worker');
  assert.equal(guestThread({}, 4242, false, false), 'main');
  assert.equal(guestThread({}, 4242, false, true), 'main');
});

test('sockets (--tcplisten, a socket on stdin) always take the worker and its broker', () => {
  for (const pid of [1, 4242]) {
    assert.equal(guestThread({ tcpListen: ['127.0.0.1:0'] }, pid, false, true), 'worker');
    assert.equal(guestThread({}, pid, true, true), 'worker');
  }
  assert.equal(guestThread({ tcpListen: [] }, 1, false, true), 'main');
});
