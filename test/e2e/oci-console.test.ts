// Console sockets with REAL crun and runc: the delegate makes the pty and sends its master over the
// socket (SCM_RIGHTS); a python3 receiver (fixtures/recvtty.py) stands in for conmon/the shim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers.js';
import { haveBusybox, makeBusyboxBundle } from './fixtures/rootfs.js';
import { DELEGATES, oci, stateOf, waitFor } from './fixtures/oci.js';

const RECVTTY = join(repoRoot, 'test/e2e/fixtures/recvtty.py');

/** Start the receiver; resolves once it listens. `output()` is what it printed so far. */
async function receiver(socket: string, typed?: string): Promise<{ child: ChildProcess; output: () => string; done: Promise<number | null> }> {
  const child = spawn('python3', [RECVTTY, socket, ...(typed === undefined ? [] : [typed])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const done = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  await waitFor('the console receiver to listen', () => out.includes('listening'));
  return { child, output: () => out, done };
}

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed' : false;

  test(`${d.name}: create and exec --tty hand a pty to the console socket`, { skip, timeout: 120_000 }, async () => {
    const t = tempDir('hyrun-tty-');
    const o = oci(join(t.path, 'root'), d.path!);
    const id = 'tty';
    const kids: ChildProcess[] = [];
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), {
        tty: true,
        args: ['sh', '-c', 'read line; echo "got:$line"; tty; sleep 1000'],
      });
      const rx = await receiver(join(t.path, 'c.sock'), 'typed-by-test');
      kids.push(rx.child);
      let r = o(['create', '--bundle', bundle, '--console-socket', join(t.path, 'c.sock'), id], { stdio: 'ignore' });
      assert.equal(r.status, 0);
      await waitFor('the pty to arrive', () => /pty:/.test(rx.output()));
      r = o(['start', id]);
      assert.equal(r.status, 0, r.stderr);
      await waitFor('the container to answer through the pty', () => /got:typed-by-test/.test(rx.output()) && /\/dev\/pts\/\d+/.test(rx.output()));
      assert.equal(stateOf(o, id).status, 'running');

      // exec --tty --detach with its own console socket (as conmon does for `podman exec -t`).
      const ex = await receiver(join(t.path, 'e.sock'));
      kids.push(ex.child);
      r = o(['exec', '--tty', '--detach', '--console-socket', join(t.path, 'e.sock'), id, 'sh', '-c', 'echo exec-on-tty; tty'], { stdio: 'ignore' });
      assert.equal(r.status, 0);
      await ex.done;
      assert.match(ex.output(), /pty:/);
      assert.match(ex.output(), /exec-on-tty/);
      assert.match(ex.output(), /\/dev\/pts\/\d+/);
    } finally {
      o(['delete', '--force', id]);
      for (const k of kids) if (k.exitCode === null) k.kill('SIGKILL');
      t.cleanup();
    }
  });
}
