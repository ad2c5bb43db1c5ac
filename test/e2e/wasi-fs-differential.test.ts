// Differential check: test/guests/c/fs_posix.c built natively (gcc) and as Wasm must print the
// same lines — the Wasm run through hyrun with its directory preopened, the native one on a
// plain temp directory. Covers libc-level open/read/write/seek/stat/link/symlink/rename/readdir
// and their errno values as programs see them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { guest, hyrun, native, run, tempDir } from '../helpers.js';

test('fs_posix prints the same natively and under hyrun, and leaves the same tree', () => {
  const a = tempDir('hyrun-fs-native-');
  const b = tempDir('hyrun-fs-wasm-');
  try {
    const nat = run(native('fs_posix'), [a.path]);
    assert.equal(nat.status, 0, nat.stderr);
    const wasm = hyrun(['run', '--dir', `${b.path}::/sandbox`, guest('fs_posix'), '/sandbox']);
    assert.equal(wasm.status, 0, wasm.stderr);
    assert.ok(nat.stdout.split('\n').length > 50, 'the guest ran to the end');
    assert.equal(wasm.stdout, nat.stdout);
    assert.deepEqual(readdirSync(b.path, { recursive: true }).sort(), readdirSync(a.path, { recursive: true }).sort());
  } finally {
    a.cleanup();
    b.cleanup();
  }
});
