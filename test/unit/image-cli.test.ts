// Telling `hyrun run IMAGE` from `run FILE.wasm` and runc's `run ID`; `ps` from runc's `ps ID`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isContainerPs, isImageRun } from '../../src/cli/run-target.js';
import { candidateNames, localName, parsePlatform, selectPlatform } from '../../src/image/resolve.js';
import { normalizeReference } from '../../src/image/reference.js';
import { MT } from '../../src/image/media.js';
import { tempDir } from '../helpers.js';

test('run: image-only options, references with / : @, and bare names the store has mean an image', () => {
  const t = tempDir();
  try {
    const cwd = join(t.path, 'cwd');
    const store = join(t.path, 'store');
    mkdirSync(cwd);
    mkdirSync(store);
    writeFileSync(join(store, 'index.json'), JSON.stringify({ manifests: [{ annotations: { 'org.opencontainers.image.ref.name': 'localhost/hello:latest' } }] }));
    writeFileSync(join(cwd, 'app'), '\0asm');
    const image = (args: string[]): boolean => isImageRun(args, cwd, store);
    assert.equal(image(['--rm', 'whatever']), true);
    assert.equal(image(['-e', 'A=1', 'x']), true);
    assert.equal(image(['alpine:3']), true);
    assert.equal(image(['quay.io/org/app']), true);
    assert.equal(image(['-d', 'registry.local:5000/app']), true);
    assert.equal(image(['hello']), true, 'bare name in the store');
    assert.equal(image(['nothello']), false, 'bare name not in the store: a (missing) file');
    assert.equal(image(['app.wasm']), false);
    assert.equal(image(['app']), false, 'an existing file');
    assert.equal(image(['--env', 'A=1', 'x.wat']), false);
    assert.equal(image(['--dir', '.', 'x']), false);
    assert.equal(image(['--bundle', '.', 'ctr']), false);
    assert.equal(image(['-d', 'ctr1']), false, "runc's run -d ID");
    assert.equal(image(['--help']), false);
    mkdirSync(join(cwd, 'build'));
    assert.equal(image(['build/missing']), false, 'a path into a directory here is a (missing) file');
    assert.equal(image(['/abs/missing']), false, 'an absolute path is a file');
    assert.equal(image(['--memory', '64MiB', 'alpine:3']), true, 'a shared option is skipped with its value');
    writeFileSync(join(cwd, 'config.json'), '{}');
    assert.equal(image(['hello']), false, 'config.json here: a runc container ID');
    assert.equal(image(['hello:1']), true);
  } finally {
    t.cleanup();
  }
});

test('ps: without an ID it lists run IMAGE containers', () => {
  assert.equal(isContainerPs([]), true);
  assert.equal(isContainerPs(['-a', '--format', 'json']), true);
  assert.equal(isContainerPs(['ctr1']), false);
  assert.equal(isContainerPs(['--format', 'json', 'ctr1']), false);
});

test('references and names are normalised as the ecosystem does', () => {
  assert.equal(normalizeReference('alpine'), 'docker.io/library/alpine:latest');
  assert.equal(normalizeReference('org/app:1'), 'docker.io/org/app:1');
  assert.equal(normalizeReference('127.0.0.1:5000/a/b'), '127.0.0.1:5000/a/b:latest');
  assert.equal(normalizeReference(`x@sha256:${'a'.repeat(64)}`), `docker.io/library/x@sha256:${'a'.repeat(64)}`);
  assert.throws(() => normalizeReference('UPPER/case'), /invalid image reference/);
  assert.deepEqual(candidateNames('hello'), ['localhost/hello:latest', 'docker.io/library/hello:latest']);
  assert.equal(localName('hello:2'), 'localhost/hello:2');
  assert.equal(localName('quay.io/a/b:1'), 'quay.io/a/b:1');
});

test('platform selection in an index: requested, else the host, else a Wasm platform', () => {
  const d = (os: string, architecture: string) => ({ mediaType: MT.ociManifest, digest: `sha256:${os.padEnd(64, '0').slice(0, 64)}`, size: 1, platform: { os, architecture } });
  const both = { schemaVersion: 2 as const, manifests: [d('wasi', 'wasm'), d('linux', 'amd64'), d('unknown', 'unknown')] };
  assert.equal(selectPlatform(both, parsePlatform('wasi/wasm')).platform?.os, 'wasi');
  assert.equal(selectPlatform(both).platform?.os, process.arch === 'x64' ? 'linux' : 'wasi');
  assert.equal(selectPlatform({ schemaVersion: 2, manifests: [d('wasip1', 'wasm')] }).platform?.os, 'wasip1');
  assert.throws(() => selectPlatform(both, parsePlatform('linux/arm64')), /no image for linux\/arm64 in the index \(it has wasi\/wasm, linux\/amd64\)/);
  assert.throws(() => parsePlatform('linux'), /not OS\/ARCH/);
});
