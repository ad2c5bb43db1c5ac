// CRI-O 1.32 writes `linux.resources.pids.limit: -1` (unlimited) with ociVersion 1.2.0. Debian's
// crun 1.8.1 writes the -1 into pids.max literally and the kernel refuses it, so the container does
// not start. hyrun hands crun a config without that limit (configForDelegate in src/oci/config.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir } from '../helpers.js';
import { configForDelegate } from '../../src/oci/config.js';
import type { OciSpec } from '../../src/oci/spec.js';
import { haveBusybox, makeBusyboxBundle } from './fixtures/rootfs.js';
import { DELEGATES, oci } from './fixtures/oci.js';

const withPids = (limit: number) => (c: OciSpec): void => {
  c.ociVersion = '1.2.0';
  c.linux = { ...c.linux, resources: { ...(c.linux?.resources ?? {}), pids: { limit } } };
};

test('configForDelegate: crun loses a pids limit <= 0 (and old crun gets ociVersion 1.1.0); positive limits and runc are untouched', () => {
  const base = { ociVersion: '1.2.0', root: { path: 'r' }, linux: { resources: { pids: { limit: -1 }, memory: { limit: 5 } } } } as unknown as OciSpec;
  const crun = { kind: 'crun', version: 'crun version 1.8.1' };
  const out = configForDelegate(base, crun)!;
  assert.equal(out.ociVersion, '1.1.0');
  assert.deepEqual(out.linux?.resources, { memory: { limit: 5 } });
  assert.deepEqual((base.linux?.resources as { pids?: unknown }).pids, { limit: -1 }, 'the user config object is not modified');
  assert.equal(configForDelegate(base, { kind: 'runc', version: 'runc version 1.1.5' }), undefined);
  const positive = { ...base, ociVersion: '1.1.0', linux: { resources: { pids: { limit: 100 } } } } as unknown as OciSpec;
  assert.equal(configForDelegate(positive, crun), undefined);
  const newCrun = configForDelegate(base, { kind: 'crun', version: 'crun version 1.20' })!;
  assert.equal(newCrun.ociVersion, '1.2.0');
  assert.deepEqual(newCrun.linux?.resources, { memory: { limit: 5 } });
});

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed (scripts/setup.sh --test)' : false;
  test(`${d.name}: a CRI-O style config (ociVersion 1.2.0, pids limit -1) runs through hyrun; the user's config untouched`, { skip, timeout: 120_000 }, () => {
    const t = tempDir('hyrun-pids-');
    const o = oci(join(t.path, 'root'), d.path!);
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sh', '-c', 'echo pids ok; exit 4'], edit: withPids(-1) });
      const before = readFileSync(join(bundle, 'config.json'));
      const r = o(['run', '--bundle', bundle, 'pids']);
      assert.equal(r.status, 4, r.stderr);
      assert.equal(r.stdout, 'pids ok\n');
      assert.deepEqual(readFileSync(join(bundle, 'config.json')), before);
      if (d.name === 'crun') {
        // Why: crun itself, given the same bundle (ociVersion lowered so only the pids limit differs), fails.
        const cfg = JSON.parse(before.toString()) as OciSpec;
        cfg.ociVersion = '1.1.0';
        const direct = join(t.path, 'direct.json');
        writeFileSync(direct, JSON.stringify(cfg));
        const c = spawnSync(d.path!, ['--root', join(t.path, 'crun-root'), 'run', '--config', direct, '--bundle', bundle, 'pids-direct'], { encoding: 'utf8', timeout: 60_000 });
        spawnSync(d.path!, ['--root', join(t.path, 'crun-root'), 'delete', '--force', 'pids-direct']);
        assert.notEqual(c.status, 4, `crun ran it: ${c.stdout}${c.stderr}`);
        assert.match(c.stderr, /pids\.max|Invalid argument/);
      }
    } finally {
      o(['delete', '--force', 'pids']);
      t.cleanup();
    }
  });
}
