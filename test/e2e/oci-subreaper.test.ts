// The engines' contract (engine-facts.md): the shim/conmon is a child subreaper that reaps the pid in
// the pid file. After `hyrun create`, the container must be the subreaper's child (hyrun and the
// delegate gone), and the subreaper must get the container's real exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { hyrunBin, repoRoot, tempDir } from '../helpers.js';
import { haveBusybox, makeBusyboxBundle } from './fixtures/rootfs.js';
import { DELEGATES, hyrunEntries, oci, waitFor } from './fixtures/oci.js';

const SUBREAPER = join(repoRoot, 'test/e2e/fixtures/subreaper.py');

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed' : false;

  test(`${d.name}: after create the container is the subreaper's child, which reaps its exit status`, { skip, timeout: 120_000 }, async () => {
    const t = tempDir('hyrun-reap-');
    const root = join(t.path, 'root');
    const o = oci(root, d.path!);
    const id = 'reaped';
    const pidFile = join(t.path, 'init.pid');
    const child = spawn('python3', [SUBREAPER, pidFile, hyrunBin, '--root', root, '--delegate', d.path!, 'create',
      '--bundle', makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sh', '-c', 'exit 9'] }), '--pid-file', pidFile, id],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const done = new Promise<void>((r) => child.on('close', () => r()));
    try {
      const m = await waitFor('the subreaper to report the container parent', () => /self:(\d+) container:(\d+) ppid:(\d+)/.exec(out) ?? (/create-failed|error/.test(out) ? assert.fail(out) : undefined));
      assert.equal(m[3], m[1], `the container's parent is the subreaper (${out})`);
      const r = o(['start', id]);
      assert.equal(r.status, 0, r.stderr);
      await done;
      assert.match(out, /exit:9/);
      assert.equal(o(['delete', id]).status, 0);
      assert.deepEqual(hyrunEntries(root), []);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      o(['delete', '--force', id]);
      t.cleanup();
    }
  });
}
