// wasi:filesystem of command components goes through the same sandbox as preview1 modules
// (src/wasi/path-ops.ts, resolve.ts, special-files.ts): test/guests/c/comp_fs.c, built both ways,
// does the same work and the same escape attempts on the same layout, and the two must agree line
// for line. The one translation: preview1's NOTCAPABLE has no WASI 0.2 error code; hyrun answers
// `not-permitted` (as wasmtime does), which the preview1 adapter turns into EPERM.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, guestsDir, hyrun, tempDir } from '../helpers.js';

const cache = tempDir('hyrun-components-');
after(() => cache.cleanup());
const SECRET = 'SECRET\n';

const NOENT = 'No such file or directory';
const NOTCAPABLE = 'Operation not permitted'; // preview1's NOTCAPABLE, through WASI 0.2 and the adapter
const ROFS = 'Read-only file system';
/** What comp_fs.c must print, label by label. */
const EXPECTED: Record<string, string> = {
  // The work itself.
  'read inside': 'ok inside', 'read back': 'ok fresh', stat: 'ok size=6 dir=0', 'list /': 'ok abs-link,d,file.txt,proc,ro,sub,up-link',
  'rmdir non-empty': 'Directory not empty', readlink: 'ok file.txt',
  // The way out: clamped at the guest root, refused under a capability.
  'dotdot at root': NOENT, 'absolute link at root': NOENT, 'climbing link at root': NOENT,
  'cap dotdot': NOTCAPABLE, 'cap climbing link': NOTCAPABLE, 'cap create through link': NOTCAPABLE,
  // The rename race preview2-shim loses: the held descriptor still names the moved directory.
  'rename away held dir': 'ok', 'plant climbing link': 'ok', 'held fd after rename': NOENT, 'held dir still writable': 'ok',
  'through planted link': NOENT,
  // The kernel's files: informational ones only.
  'proc cpuinfo': 'ok', 'proc environ': 'Permission denied', 'proc root escape': 'Permission denied',
  'ro create': ROFS, 'ro unlink': ROFS, 'ro mkdir': ROFS,
};

/** A fresh layout: the box (guest `/`), its read-only `ro`, a capability preopen, an outside with a secret. */
function layout(base: string): { box: string; cap: string; outside: string } {
  const box = join(base, 'box');
  const cap = join(base, 'cap');
  const outside = join(base, 'outside');
  mkdirSync(join(box, 'sub'), { recursive: true });
  mkdirSync(join(box, 'ro'));
  mkdirSync(join(box, 'proc'));
  mkdirSync(cap);
  mkdirSync(outside);
  writeFileSync(join(box, 'file.txt'), 'inside\n');
  writeFileSync(join(box, 'sub/k'), 'keep\n');
  writeFileSync(join(box, 'ro/keep.txt'), 'rokeep\n');
  writeFileSync(join(cap, 'c.txt'), 'capfile\n');
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  symlinkSync(outside, join(box, 'abs-link'));
  symlinkSync('../../outside', join(box, 'up-link'));
  symlinkSync('../box/file.txt', join(cap, 'esc-link'));
  symlinkSync('/etc/hostname', join(cap, 'abs-link'));
  symlinkSync('../outside', join(cap, 'esc-dir'));
  return { box, cap, outside };
}

function runBoth(file: string): { stdout: string; status: number | null; stderr: string; outside: string[]; secret: string } {
  const t = tempDir();
  try {
    const { box, cap, outside } = layout(t.path);
    const r = hyrun(['run', '--dir', `${box}::/`, '--dir', `${box}/ro::/ro:ro`, '--dir', `${cap}::/cap`, '--dir', '/proc::/proc:ro', file],
      { env: { ...process.env, HYRUN_CACHE_DIR: cache.path } });
    return { stdout: r.stdout, status: r.status, stderr: r.stderr, outside: readdirSync(outside), secret: readFileSync(join(outside, 'secret.txt'), 'utf8') };
  } finally {
    t.cleanup();
  }
}

test('a component and a module of the same program get the same answers from the file system', () => {
  const mod = runBoth(guest('comp_fs'));
  const comp = runBoth(join(guestsDir, 'comp_fs.component.wasm'));
  assert.equal(mod.status, 0, mod.stderr);
  assert.equal(comp.status, 0, comp.stderr);
  assert.equal(comp.stdout, mod.stdout.replaceAll('Capabilities insufficient', NOTCAPABLE));
  const lines = new Map(comp.stdout.trim().split('\n').map((l) => l.split(': ', 2) as [string, string]));
  for (const [label, want] of Object.entries(EXPECTED)) assert.equal(lines.get(label), want, label);
  // Nothing reached or changed outside.
  for (const r of [mod, comp]) {
    assert.ok(!r.stdout.includes('SECRET'));
    assert.deepEqual(r.outside, ['secret.txt']);
    assert.equal(r.secret, SECRET);
  }
});
