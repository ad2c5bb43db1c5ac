// Unpacking hostile layers: nothing may land outside the root filesystem, whatever the names,
// symlinks or hard links say; whiteouts and opaque directories; set-id bits and devices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pack as tarPack } from 'tar-stream';
import { ImageError } from '../../src/image/errors.js';
import { applyLayer, resolveInRoot } from '../../src/image/unpack.js';
import { readTar } from '../../src/image/tar.js';
import { tempDir } from '../helpers.js';

interface E { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo'; mode?: number; linkname?: string; content?: string }

/** A raw tar written entry by entry (tar-stream keeps names exactly as given, `..` and `/` included). */
async function layer(entries: E[]) {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const done = (async () => { for await (const c of pack) chunks.push(c as Buffer); })();
  for (const e of entries) {
    await new Promise<void>((res, rej) => pack.entry(
      { name: e.name, type: e.type ?? 'file', mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644), linkname: e.linkname, devmajor: 1, devminor: 3 } as never,
      (e.type === undefined || e.type === 'file' ? Buffer.from(e.content ?? '') : Buffer.alloc(0)),
      (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await done;
  return readTar(Buffer.concat(chunks));
}

const LAYER = `sha256:${'ab'.repeat(32)}`;

test('an entry climbing out with .. is refused', async () => {
  const t = tempDir();
  try {
    const root = join(t.path, 'root');
    mkdirSync(root);
    const entries = await layer([{ name: 'ok.txt', content: 'fine' }, { name: 'a/../../escape.txt', content: 'bad' }]);
    assert.throws(() => applyLayer(root, entries, LAYER), (e: unknown) => e instanceof ImageError && /climbs out of the root filesystem/.test(e.message));
    assert.equal(existsSync(join(t.path, 'escape.txt')), false);
  } finally {
    t.cleanup();
  }
});

test('absolute names and symlinks planted by earlier entries stay inside the root', async () => {
  const t = tempDir();
  try {
    const root = join(t.path, 'root');
    const outside = join(t.path, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    const entries = await layer([
      { name: '/etc/abs.txt', content: 'absolute name' },
      { name: 'evil-abs', type: 'symlink', linkname: outside },
      { name: 'evil-abs/pwned', content: 'through an absolute symlink' },
      { name: 'evil-rel', type: 'symlink', linkname: '../../../../../../..' },
      { name: `evil-rel${outside}/pwned2`, content: 'through a relative symlink' },
      { name: 'loop', type: 'symlink', linkname: 'loop' },
    ]);
    applyLayer(root, entries, LAYER);
    assert.deepEqual(readdirSync(outside), [], 'nothing written outside the root');
    assert.equal(readFileSync(join(root, 'etc/abs.txt'), 'utf8'), 'absolute name');
    assert.equal(readFileSync(join(root, outside, 'pwned'), 'utf8'), 'through an absolute symlink');
    assert.equal(readFileSync(join(root, outside, 'pwned2'), 'utf8'), 'through a relative symlink');
    assert.equal(readlinkSync(join(root, 'evil-abs')), outside, 'the symlink itself is kept as written');
    assert.throws(() => resolveInRoot(root, ['loop', 'x']), /too many levels of symbolic links/);
  } finally {
    t.cleanup();
  }
});

test('a later entry replaces a symlink instead of writing through it', async () => {
  const t = tempDir();
  try {
    const root = join(t.path, 'root');
    const victim = join(t.path, 'victim.txt');
    mkdirSync(root);
    writeFileSync(victim, 'original');
    applyLayer(root, await layer([{ name: 'file', type: 'symlink', linkname: victim }]), LAYER);
    applyLayer(root, await layer([{ name: 'file', content: 'replaced' }]), LAYER);
    assert.equal(readFileSync(victim, 'utf8'), 'original');
    assert.equal(lstatSync(join(root, 'file')).isFile(), true);
    assert.equal(readFileSync(join(root, 'file'), 'utf8'), 'replaced');
  } finally {
    t.cleanup();
  }
});

test('hard links resolve inside the root; links to nothing or out with .. are refused', async () => {
  const t = tempDir();
  try {
    const root = join(t.path, 'root');
    mkdirSync(root);
    applyLayer(root, await layer([
      { name: 'etc/passwd', content: 'image passwd' },
      { name: 'hard', type: 'link', linkname: '/etc/passwd' },
    ]), LAYER);
    assert.equal(readFileSync(join(root, 'hard'), 'utf8'), 'image passwd');
    assert.equal(statSync(join(root, 'hard')).ino, statSync(join(root, 'etc/passwd')).ino);
    await assert.rejects(async () => applyLayer(root, await layer([{ name: 'h2', type: 'link', linkname: '../../../etc/shadow' }]), LAYER), /climbs out/);
    await assert.rejects(async () => applyLayer(root, await layer([{ name: 'h3', type: 'link', linkname: 'no/such/file' }]), LAYER), /the layers do not hold/);
    // A hard link through a planted symlink is resolved in the root, never to the host's file.
    const hostFile = join(t.path, 'host-secret');
    writeFileSync(hostFile, 'host');
    applyLayer(root, await layer([{ name: 'dir-link', type: 'symlink', linkname: t.path }]), LAYER);
    await assert.rejects(async () => applyLayer(root, await layer([{ name: 'h4', type: 'link', linkname: 'dir-link/host-secret' }]), LAYER), /the layers do not hold/);
  } finally {
    t.cleanup();
  }
});

test('whiteouts and opaque directories hide the layers below, not the same layer', async () => {
  const t = tempDir();
  try {
    const root = join(t.path, 'root');
    mkdirSync(root);
    applyLayer(root, await layer([
      { name: 'keep.txt', content: 'k' },
      { name: 'gone.txt', content: 'g' },
      { name: 'opaque/old1', content: '1' },
      { name: 'opaque/old2', content: '2' },
      { name: 'tree/deep/x', content: 'x' },
    ]), LAYER);
    applyLayer(root, await layer([
      { name: '.wh.gone.txt' },
      { name: 'tree/.wh.deep' },
      { name: 'opaque/new', content: 'n' },
      { name: 'opaque/.wh..wh..opq' },
      { name: '.wh...' },
    ]), LAYER);
    assert.equal(existsSync(join(root, 'gone.txt')), false);
    assert.equal(existsSync(join(root, 'keep.txt')), true);
    assert.equal(existsSync(join(root, 'tree/deep')), false);
    assert.deepEqual(readdirSync(join(root, 'opaque')), ['new']);
    assert.deepEqual(readdirSync(root).sort(), ['keep.txt', 'opaque', 'tree']);
  } finally {
    t.cleanup();
  }
});

test('set-id bits are dropped unless asked for; devices and fifos are not created', async () => {
  const t = tempDir();
  try {
    const root = join(t.path, 'root');
    mkdirSync(root);
    const entries = await layer([
      { name: 'suid', content: '#!', mode: 0o4755 },
      { name: 'sgid', content: '#!', mode: 0o2755 },
      { name: 'dev/null', type: 'character-device', mode: 0o666 },
      { name: 'pipe', type: 'fifo', mode: 0o644 },
    ]);
    applyLayer(root, entries, LAYER);
    assert.equal(statSync(join(root, 'suid')).mode & 0o7777, 0o755);
    assert.equal(statSync(join(root, 'sgid')).mode & 0o7777, 0o755);
    assert.equal(existsSync(join(root, 'dev/null')), false);
    assert.equal(existsSync(join(root, 'pipe')), false);
    const root2 = join(t.path, 'root2');
    mkdirSync(root2);
    applyLayer(root2, entries, LAYER, { keepSetid: true });
    assert.equal(statSync(join(root2, 'suid')).mode & 0o7777, 0o4755);
  } finally {
    t.cleanup();
  }
});
