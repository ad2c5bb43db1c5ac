// A command component's terminals (wasi:cli/terminal-*): present exactly when the stream is a
// terminal, as isatty(3) answers on the host (through the addon; node:tty without it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guest, hyrun, hyrunBin, tempDir } from '../helpers.js';
import { driveTty } from './engines/tty.js';

const TTY = guest('eng_tty.component');

for (const [label, extra] of [['addon', {}], ['no addon', { HYRUN_NO_NATIVE: '1' }]] as const) {
  test(`components see a terminal on a terminal and none on pipes (${label})`, { timeout: 120_000 }, () => {
    const t = tempDir('hyrun-component-tty-');
    try {
      const env = { ...process.env, HYRUN_CACHE_DIR: t.path, ...extra };
      const onTty = driveTty([hyrunBin, 'run', TTY], 'type a line:\r\n', 'typed', { env });
      assert.deepEqual({ status: onTty.status, output: onTty.output }, { status: 0, output: 'stdin tty: yes, stdout tty: yes\r\ntype a line:\r\ntyped\r\necho: [typed]\r\n' });
      const piped = hyrun(['run', TTY], { env, input: 'piped\n' });
      assert.equal(piped.status, 0, piped.stderr);
      assert.equal(piped.stdout, 'stdin tty: no, stdout tty: no\ntype a line:\necho: [piped]\n');
    } finally {
      t.cleanup();
    }
  });
}
