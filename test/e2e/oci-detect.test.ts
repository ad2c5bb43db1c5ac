// Detection through the real lifecycle (docs/detection.md): the binary name, the sandbox exclusion,
// and the smart modes' magic-byte check, each ending in a real container run by crun or runc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, repoRoot, run, tempDir } from '../helpers.js';
import { haveBusybox, makeBusyboxBundle } from './fixtures/rootfs.js';
import { DELEGATES, delegateIds, hyrunEntries } from './fixtures/oci.js';

const hyrunWasm = join(repoRoot, 'bin/hyrun-wasm');
const hyrunBin = join(repoRoot, 'bin/hyrun');
const EXIT42 = guest('eng_exit42');

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed' : false;

  test(`${d.name}: hyrun-wasm makes containers Wasm, but never a pod sandbox`, { skip, timeout: 120_000 }, () => {
    const t = tempDir('hyrun-det-');
    const root = join(t.path, 'root');
    const log = join(t.path, 'log.txt');
    const g = ['--root', root, '--delegate', d.path!, '--debug', '--log', log];
    try {
      const sandbox = makeBusyboxBundle(join(t.path, 'sandbox'), {
        args: ['sh', '-c', 'echo pause-ok; exit 3'],
        annotations: { 'io.kubernetes.cri.container-type': 'sandbox', 'run.oci.handler': 'wasm' },
      });
      let r = run(hyrunWasm, [...g, 'run', '--bundle', sandbox, 'sb']);
      assert.equal(r.status, 3, r.stderr);
      assert.equal(r.stdout.trim(), 'pause-ok');
      assert.match(readFileSync(log, 'utf8'), /container sb: linux \(pod sandbox/);

      const crio = makeBusyboxBundle(join(t.path, 'crio'), {
        args: ['sh', '-c', 'exit 0'], annotations: { 'io.kubernetes.cri-o.ContainerType': 'sandbox' },
      });
      assert.equal(run(hyrunWasm, [...g, 'run', '--bundle', crio, 'sb2']).status, 0);

      // The same Linux bundle without the sandbox key goes to the Wasm handler, which refuses an ELF
      // entrypoint in one line and leaves nothing behind.
      const plain = makeBusyboxBundle(join(t.path, 'plain'), { args: ['sh', '-c', 'exit 0'] });
      r = run(hyrunWasm, [...g, 'run', '--bundle', plain, 'w']);
      assert.notEqual(r.status, 0);
      assert.match(readFileSync(log, 'utf8'), /container w: wasm \(invoked as hyrun-wasm\)/);
      assert.deepEqual(hyrunEntries(root), []);
      assert.deepEqual(delegateIds(root, d.path!), []);
    } finally {
      for (const id of ['sb', 'sb2', 'w']) run(hyrunBin, ['--root', root, '--delegate', d.path!, 'delete', '--force', id]);
      t.cleanup();
    }
  });

  test(`${d.name}: wasm-smart runs a Linux entrypoint as Linux and Wasm bytes without a suffix as Wasm`, {
    skip: skip || (!existsSync(EXIT42) && 'guests not built (npm run guests)'), timeout: 120_000,
  }, () => {
    const t = tempDir('hyrun-det-');
    const root = join(t.path, 'root');
    const log = join(t.path, 'log.txt');
    const g = ['--root', root, '--delegate', d.path!, '--debug', '--log', log];
    try {
      const annotations = { 'run.oci.handler': 'wasm-smart' };
      const linux = makeBusyboxBundle(join(t.path, 'linux'), { args: ['sh', '-c', 'exit 5'], annotations });
      let r = run(hyrunBin, [...g, 'run', '--bundle', linux, 'smart-linux']);
      assert.equal(r.status, 5, r.stderr);
      assert.match(readFileSync(log, 'utf8'), /container smart-linux: linux/);

      const wasm = makeBusyboxBundle(join(t.path, 'wasm'), {
        args: ['module'], annotations: { 'module.wasm.image/variant': 'compat-smart' },
        env: ['PATH=/app:/bin'], files: { 'app/module': readFileSync(EXIT42) },
      });
      r = run(hyrunBin, [...g, 'run', '--bundle', wasm, 'smart-wasm']);
      assert.match(readFileSync(log, 'utf8'), /container smart-wasm: wasm \(module\.wasm\.image\/variant=compat-smart: \/app\/module starts with the Wasm magic\)/);
      assert.equal(r.status, 42, r.stderr);
      assert.deepEqual(hyrunEntries(root), []);
    } finally {
      for (const id of ['smart-linux', 'smart-wasm']) run(hyrunBin, ['--root', root, '--delegate', d.path!, 'delete', '--force', id]);
      t.cleanup();
    }
  });
}
