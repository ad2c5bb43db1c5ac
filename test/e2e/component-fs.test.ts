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
  assert.equal(comp.stdout, mod.stdout.replaceAll('Capabilities insufficient', 'Operation not permitted'));
  const lines = new Map(comp.stdout.trim().split('\n').map((l) => l.split(': ', 2) as [string, string]));
  // The work itself.
  assert.equal(lines.get('read inside'), 'ok inside');
  assert.equal(lines.get('read back'), 'ok fresh');
  assert.equal(lines.get('stat'), 'ok size=6 dir=0');
  assert.equal(lines.get('list /'), 'ok abs-link,d,file.txt,proc,ro,sub,up-link');
  assert.equal(lines.get('rmdir non-empty'), 'Directory not empty');
  assert.equal(lines.get('readlink'), 'ok file.txt');
  // The way out: clamped at the guest root, refused under a capability, the kernel's files closed.
  for (const l of ['dotdot at root', 'absolute link at root', 'climbing link at root']) assert.equal(lines.get(l), 'No such file or directory', l);
  for (const l of ['cap dotdot', 'cap climbing link', 'cap create through link']) assert.equal(lines.get(l), 'Operation not permitted', l);
  // The rename race preview2-shim loses: the held descriptor still names the moved directory.
  assert.equal(lines.get('rename away held dir'), 'ok');
  assert.equal(lines.get('plant climbing link'), 'ok');
  assert.equal(lines.get('held fd after rename'), 'No such file or directory');
  assert.equal(lines.get('held dir still writable'), 'ok');
  assert.equal(lines.get('through planted link'), 'No such file or directory');
  assert.equal(lines.get('proc cpuinfo'), 'ok');
  assert.equal(lines.get('proc environ'), 'Permission denied');
  assert.equal(lines.get('proc root escape'), 'Permission denied');
  for (const l of ['ro create', 'ro unlink', 'ro mkdir']) assert.equal(lines.get(l), 'Read-only file system', l);
  // Nothing reached or changed outside.
  for (const r of [mod, comp]) {
    assert.ok(!r.stdout.includes('SECRET'));
    assert.deepEqual(r.outside, ['secret.txt']);
    assert.equal(r.secret, SECRET);
  }
});
