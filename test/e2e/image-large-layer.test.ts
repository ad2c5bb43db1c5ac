// A layer far bigger than the memory hyrun may use: 320 MiB of file content (zeros, so the blob is
// small), compressed with zstd and with gzip by the real tools, run on the embedded executor with
// /usr/bin/time measuring the peak resident set of the whole hyrun process. Unpacking streams
// (blob file -> decoder -> tar entries -> file writes), so the peak stays far below the layer size;
// the file arrives whole.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrunBin, run, tempDir } from '../helpers.js';
import { cannotRun, explain } from './engines/tools.js';
import { MT } from '../../src/image/media.js';
import { Store } from '../../src/image/store.js';

const skip = cannotRun(['zstd', 'gzip', 'tar', 'sha256sum']);
const SIZE_MIB = 320;
/** Peak RSS allowed for the whole `hyrun run` (node, the image bundle, V8's Wasm engine): well under the layer. */
const PEAK_LIMIT_MIB = 220;

describe('a layer larger than the memory bound', { skip: skip ?? (!statSync('/usr/bin/time', { throwIfNoEntry: false }) ? '/usr/bin/time missing' : undefined), timeout: 600_000 }, () => {
  const t = tempDir('hyrun-large-layer-');
  after(t.cleanup);

  for (const [kind, compressor, mediaType] of [['zstd', 'zstd -q -c', MT.ociLayerZstd], ['gzip', 'gzip -1 -c', MT.ociLayerGzip]] as const) {
    test(`${kind}: run IMAGE unpacks it with a bounded peak RSS`, (tc) => {
      const dir = join(t.path, kind);
      const content = join(dir, 'content');
      mkdirSync(content, { recursive: true });
      copyFileSync(guest('eng_hello'), join(content, 'hello.wasm'));
      // A sparse file: no disk used for the source, zeros when read.
      execFileSync('truncate', ['-s', `${SIZE_MIB}M`, join(content, 'big.bin')]);
      const tarCmd = `tar -C ${content} --sort=name --owner=0 --group=0 --numeric-owner -cf - big.bin hello.wasm`;
      const blobFile = join(dir, 'layer');
      execFileSync('sh', ['-c', `${tarCmd} | ${compressor} > ${blobFile}`]);
      const diffId = `sha256:${execFileSync('sh', ['-c', `${tarCmd} | sha256sum`], { encoding: 'utf8' }).split(' ')[0]}`;
      const storage = join(dir, 'store');
      const store = new Store(storage);
      const layer = store.putBlob(readFileSync(blobFile));
      assert.ok(layer.size < 4 * 2 ** 20, 'the blob itself is small');
      const config = store.putBlob(Buffer.from(JSON.stringify({ architecture: 'wasm', os: 'wasi', config: { Cmd: ['/hello.wasm'] }, rootfs: { type: 'layers', diff_ids: [diffId] } })));
      const manifest = store.putBlob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, ...config }, layers: [{ mediaType, ...layer }] })));
      store.tag('localhost/big:1', { mediaType: MT.ociManifest, ...manifest });

      const r = run('/usr/bin/time', ['-f', 'peak-kib=%M', hyrunBin, 'run', '--rm', 'big:1'], {
        env: { ...process.env, HYRUN_STORAGE: storage, HYRUN_CACHE_DIR: join(dir, 'cache'), HYRUN_RUN_MODE: 'embedded' }, timeout: 300_000,
      });
      assert.equal(r.status, 0, explain(r));
      assert.equal(r.stdout, 'hello from hyrun-test wasm\n');
      const peakMib = Number(/peak-kib=(\d+)/.exec(r.stderr)?.[1]) / 1024;
      assert.ok(peakMib > 0, r.stderr);
      tc.diagnostic(`peak RSS ${peakMib.toFixed(0)} MiB`);
      assert.ok(peakMib < PEAK_LIMIT_MIB, `peak RSS ${peakMib.toFixed(0)} MiB for a ${SIZE_MIB} MiB layer (limit ${PEAK_LIMIT_MIB} MiB)`);
      // The whole file was unpacked (and is zeros): the snapshot holds it.
      const snapshots = readdirSync(join(storage, 'snapshots'));
      assert.equal(snapshots.length, 1);
      const big = join(storage, 'snapshots', snapshots[0], 'rootfs', 'big.bin');
      assert.equal(statSync(big).size, SIZE_MIB * 2 ** 20);
      assert.equal(execFileSync('sh', ['-c', `cmp -n ${SIZE_MIB * 2 ** 20} ${big} /dev/zero && echo same`], { encoding: 'utf8' }).trim(), 'same');
    });
  }
});
