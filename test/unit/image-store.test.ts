// The image store: verified blobs, the index lock under concurrent writers, leftovers of killed
// processes, prune.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ImageError } from '../../src/image/errors.js';
import { ANNOTATION_REF_NAME, MT } from '../../src/image/media.js';
import { sha256, Store } from '../../src/image/store.js';
import { tempDir } from '../helpers.js';

const storeModule = new URL('../../src/image/store.js', import.meta.url).href;
/** tmp/ without this process's own lease (a writer holds one until it exits). */
const tmpFiles = (store: Store): string[] => readdirSync(store.tmpDir).filter((n) => n !== `${process.pid}-lease`);

test('a new store is an OCI image layout', () => {
  const t = tempDir();
  try {
    const store = new Store(t.path);
    assert.equal(JSON.parse(String(spawnSync('cat', [join(t.path, 'oci-layout')]).stdout)).imageLayoutVersion, '1.0.0');
    assert.deepEqual(store.readIndex().manifests, []);
    assert.equal(store.readIndex().schemaVersion, 2);
  } finally {
    t.cleanup();
  }
});

test('putBlob stores content under its digest and refuses a wrong expected digest', () => {
  const t = tempDir();
  try {
    const store = new Store(t.path);
    const data = Buffer.from('hello blob');
    const r = store.putBlob(data);
    assert.equal(r.digest, sha256(data));
    assert.deepEqual(store.readBlob(r.digest), data);
    assert.throws(() => store.putBlob(Buffer.from('other'), r.digest), (e: unknown) => e instanceof ImageError && /digest mismatch/.test(e.message));
    assert.equal(readdirSync(store.blobDir).length, 1);
    assert.deepEqual(tmpFiles(store), []);
  } finally {
    t.cleanup();
  }
});

test('putBlobStream rejects a corrupted or truncated blob and leaves nothing behind', async () => {
  const t = tempDir();
  try {
    const store = new Store(t.path);
    const good = Buffer.alloc(100_000, 7);
    const digest = sha256(good);
    const bad = Buffer.from(good);
    bad[5000] = 8;
    await assert.rejects(store.putBlobStream(Readable.from([bad]), { digest, size: good.length }), /digest mismatch/);
    await assert.rejects(store.putBlobStream(Readable.from([good.subarray(0, 10)]), { digest, size: good.length }), /digest mismatch|size mismatch/);
    await assert.rejects(store.putBlobStream(Readable.from([good, good]), { digest, size: good.length }), /larger than its descriptor/);
    assert.equal(store.hasBlob(digest), false);
    assert.deepEqual(tmpFiles(store), []);
    const ok = await store.putBlobStream(Readable.from([good.subarray(0, 50_000), good.subarray(50_000)]), { digest, size: good.length });
    assert.equal(ok.digest, digest);
    assert.equal(store.hasBlob(digest), true);
  } finally {
    t.cleanup();
  }
});

test('tag, find, untag; a name moves to the image tagged last', () => {
  const t = tempDir();
  try {
    const store = new Store(t.path);
    const a = store.putBlob(Buffer.from('{"a":1}'));
    const b = store.putBlob(Buffer.from('{"b":1}'));
    store.tag('localhost/x:1', { mediaType: MT.ociManifest, ...a });
    store.tag('localhost/x:1', { mediaType: MT.ociManifest, ...b });
    store.tag('localhost/y:1', { mediaType: MT.ociManifest, ...a });
    assert.equal(store.find('localhost/x:1')?.descriptor.digest, b.digest);
    assert.equal(store.readIndex().manifests.length, 2);
    assert.equal(store.untag('localhost/x:1'), true);
    assert.equal(store.untag('localhost/x:1'), false);
    assert.equal(store.find('localhost/x:1'), undefined);
    assert.throws(() => store.tag('localhost/z:1', { mediaType: MT.ociManifest, digest: `sha256:${'0'.repeat(64)}`, size: 1 }), /not in the store/);
  } finally {
    t.cleanup();
  }
});

test('concurrent writers never lose an index update (the index lock)', async () => {
  const t = tempDir();
  try {
    new Store(t.path);
    const script = `
      const { Store } = await import(${JSON.stringify(storeModule)});
      const store = new Store(${JSON.stringify(t.path)});
      const who = process.argv[1];
      for (let i = 0; i < 25; i++) {
        const b = store.putBlob(Buffer.from(JSON.stringify({ who, i })));
        store.tag('localhost/p' + who + ':' + i, { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...b });
      }`;
    const runs = [0, 1, 2, 3].map((who) => new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, String(who)], { stdio: 'inherit' });
      child.on('exit', (code) => resolve(code ?? 1));
    }));
    assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0]);
    const store = new Store(t.path);
    const names = store.readIndex().manifests.map((d) => d.annotations?.[ANNOTATION_REF_NAME]);
    assert.equal(names.length, 100);
    assert.equal(new Set(names).size, 100);
    assert.equal(existsSync(join(t.path, 'index.lock')), false);
  } finally {
    t.cleanup();
  }
});

test('a killed writer: its temporary blob is removed and its lock is broken by the next user', () => {
  const t = tempDir();
  try {
    new Store(t.path);
    // A process that dies for real, so its pid is free: its files look exactly like a killed pull's.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    writeFileSync(join(t.path, 'tmp', `${pid}-abcdef-blob`), 'half a layer');
    writeFileSync(join(t.path, 'index.lock'), String(pid));
    const store = new Store(t.path);
    assert.deepEqual(tmpFiles(store), []);
    const b = store.putBlob(Buffer.from('{}'));
    store.tag('localhost/after-kill:1', { mediaType: MT.ociManifest, ...b }); // would time out on a held lock
    assert.equal(store.find('localhost/after-kill:1')?.descriptor.digest, b.digest);
  } finally {
    t.cleanup();
  }
});

test('prune spares what a live writer stored but has not tagged yet (its lease)', async () => {
  const t = tempDir();
  try {
    new Store(t.path);
    const script = `
      const { Store } = await import(${JSON.stringify(storeModule)});
      const store = new Store(${JSON.stringify(t.path)});
      const b = store.putBlob(Buffer.from('work in progress'));
      process.stdout.write(b.digest + '\\n');
      process.stdin.once('data', () => process.exit(0));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const digest = await new Promise<string>((resolve) => child.stdout!.once('data', (d) => resolve(String(d).trim())));
    const store = new Store(t.path);
    assert.equal(store.prune().blobs, 0, 'the writer is alive: its untagged blob stays');
    assert.equal(store.hasBlob(digest), true);
    child.stdin!.write('done\n');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(store.prune().blobs, 1, 'the writer is gone: the blob is garbage');
    assert.equal(store.hasBlob(digest), false);
  } finally {
    t.cleanup();
  }
});

test('prune removes only blobs no image reaches', () => {
  const t = tempDir();
  try {
    const store = new Store(t.path);
    const config = store.putBlob(Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'));
    const layer = store.putBlob(Buffer.from('layer bytes'));
    const manifest = store.putBlob(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, ...config }, layers: [{ mediaType: MT.ociLayer, ...layer }],
    })));
    const orphan = store.putBlob(Buffer.from('nobody needs me'));
    store.tag('localhost/kept:1', { mediaType: MT.ociManifest, ...manifest });
    const r = store.prune();
    assert.equal(r.blobs, 1);
    assert.equal(store.hasBlob(orphan.digest), false);
    for (const d of [config, layer, manifest]) assert.equal(store.hasBlob(d.digest), true);
    store.untag('localhost/kept:1');
    assert.equal(store.prune().blobs, 3);
    assert.deepEqual(readdirSync(store.blobDir), []);
  } finally {
    t.cleanup();
  }
});
