// hyrun build without a sandbox: every supported instruction, reproducible digests, annotations in
// the manifest, the Wasm artifact, and the refusals (RUN, remote ADD, malformed input).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { build, buildArtifact, type BuildOptions } from '../../src/image/build.js';
import { ImageError } from '../../src/image/errors.js';
import { FsTree } from '../../src/image/fstree.js';
import { MT, type ImageConfig, type Manifest } from '../../src/image/media.js';
import { Store } from '../../src/image/store.js';
import { decompressLayer, readTar, writeTar, compressLayer } from '../../src/image/tar.js';
import { expand, isIgnored, parseIgnore } from '../../src/image/containerfile.js';
import { guest, tempDir } from '../helpers.js';

const opts = (context: string, extra: Partial<BuildOptions> = {}): BuildOptions => ({
  context, tags: [], annotations: {}, labels: {}, buildArgs: {}, format: 'oci', ...extra,
});

function seedContext(dir: string): void {
  copyFileSync(guest('eng_hello'), join(dir, 'app.wasm'));
  writeFileSync(join(dir, 'Containerfile'), 'FROM scratch\nCOPY app.wasm /\nCMD ["/app.wasm"]\n');
}

test('the seed image: one layer, CMD, wasi/wasm config, the annotation in the manifest', async () => {
  const t = tempDir();
  try {
    mkdirSync(join(t.path, 'ctx'));
    seedContext(join(t.path, 'ctx'));
    const store = new Store(join(t.path, 'store'));
    const r = await build(store, opts(join(t.path, 'ctx'), {
      tags: ['seed'], annotations: { 'module.wasm.image/variant': 'compat' }, platform: { os: 'wasi', architecture: 'wasm' },
    }));
    assert.deepEqual(r.names, ['localhost/seed:latest']);
    const manifest = store.readJson<Manifest>(r.digest);
    assert.equal(manifest.mediaType, MT.ociManifest);
    assert.deepEqual(manifest.annotations, { 'module.wasm.image/variant': 'compat' });
    assert.equal(manifest.layers.length, 1);
    assert.equal(manifest.layers[0].mediaType, MT.ociLayerGzip);
    const config = store.readJson<ImageConfig>(manifest.config.digest);
    assert.deepEqual([config.os, config.architecture, config.config?.Cmd], ['wasi', 'wasm', ['/app.wasm']]);
    assert.equal(config.created, '1970-01-01T00:00:00Z');
    const entries = await readTar(decompressLayer(store.readBlob(manifest.layers[0].digest)));
    assert.deepEqual(entries.map((e) => e.header.name), ['app.wasm']);
    assert.equal(entries[0].content.readUInt32LE(0), 0x6d736100);
    assert.equal(config.rootfs.diff_ids.length, 1);
    assert.equal(store.find('localhost/seed:latest')?.descriptor.platform?.os, 'wasi');
  } finally {
    t.cleanup();
  }
});

test('reproducible: same context and arguments, same digests; SOURCE_DATE_EPOCH changes them', async () => {
  const t = tempDir();
  try {
    mkdirSync(join(t.path, 'ctx'));
    seedContext(join(t.path, 'ctx'));
    const one = await build(new Store(join(t.path, 's1')), opts(join(t.path, 'ctx'), { tags: ['a'] }));
    const two = await build(new Store(join(t.path, 's2')), opts(join(t.path, 'ctx'), { tags: ['b'] }));
    assert.equal(one.digest, two.digest);
    assert.equal(one.id, two.id);
    const later = await build(new Store(join(t.path, 's3')), opts(join(t.path, 'ctx'), { epoch: 1_700_000_000 }));
    assert.notEqual(later.digest, one.digest);
    const s4 = new Store(join(t.path, 's4'));
    const laterAgain = await build(s4, opts(join(t.path, 'ctx'), { epoch: 1_700_000_000 }));
    assert.equal(laterAgain.digest, later.digest);
    const layer = await readTar(decompressLayer(s4.readBlob(laterAgain.manifest.layers[0].digest)));
    assert.equal(layer[0].header.mtime?.getTime(), 1_700_000_000_000);
  } finally {
    t.cleanup();
  }
});

test('every metadata instruction, ARG expansion, COPY globs/--chown/--chmod/--from, ADD of a tar, .containerignore', async () => {
  const t = tempDir();
  try {
    const ctx = join(t.path, 'ctx');
    mkdirSync(join(ctx, 'src/sub'), { recursive: true });
    writeFileSync(join(ctx, 'src/a.txt'), 'A');
    writeFileSync(join(ctx, 'src/b.txt'), 'B');
    writeFileSync(join(ctx, 'src/c.md'), 'C');
    writeFileSync(join(ctx, 'src/sub/d.txt'), 'D');
    writeFileSync(join(ctx, 'secret.key'), 'no');
    writeFileSync(join(ctx, 'run.sh'), '#!/bin/sh\n');
    chmodSync(join(ctx, 'run.sh'), 0o755);
    symlinkSync('a.txt', join(ctx, 'src/link'));
    writeFileSync(join(ctx, '.containerignore'), '# comment\n*.key\nsrc/*.md\n');
    const tar = compressLayer(await writeTar([
      { name: 'pkg', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
      { name: 'pkg/data.txt', type: 'file', mode: 0o600, uid: 0, gid: 0, content: Buffer.from('from tar') },
      { name: '../../escape.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, content: Buffer.from('x') },
    ], 0));
    writeFileSync(join(ctx, 'bundle.tar.gz'), tar.blob);
    writeFileSync(join(ctx, 'Containerfile'), [
      'ARG BASE=scratch',
      'FROM ${BASE} AS files',
      'COPY src/ /files/',
      '',
      'FROM scratch',
      'ARG VERSION=1.0',
      'ARG WHO',
      'ENV APP_HOME=/opt/app PATH=/bin',
      'ENV LEGACY legacy value',
      'WORKDIR ${APP_HOME}',
      'LABEL version="${VERSION}" "com.example.who"=${WHO:-nobody}',
      'COPY src/*.txt ./txt/',
      'COPY --chown=1000:1001 --chmod=0640 src/a.txt src/b.txt /multi/',
      'COPY --from=files /files/sub/d.txt /from-stage.txt',
      'COPY run.sh /usr/local/bin/run',
      'ADD bundle.tar.gz /unpacked/',
      'ADD src/a.txt /added-plain.txt',
      'USER 1000:1001',
      'EXPOSE 8080 53/udp',
      'VOLUME ["/data", "/cache"]',
      'STOPSIGNAL SIGINT',
      'ENTRYPOINT exec ${APP_HOME}/serve',
      'CMD ["--port", "8080"]',
      '',
    ].join('\n'));
    const store = new Store(join(t.path, 'store'));
    const r = await build(store, opts(ctx, { buildArgs: { VERSION: '2.5' }, labels: { extra: 'yes' }, tags: ['all:v1'] }));
    const config = store.readJson<ImageConfig>(r.manifest.config.digest);
    const c = config.config!;
    assert.deepEqual(c.Env, ['APP_HOME=/opt/app', 'PATH=/bin', 'LEGACY=legacy value']);
    assert.equal(c.WorkingDir, '/opt/app');
    assert.deepEqual(c.Labels, { version: '2.5', 'com.example.who': 'nobody', extra: 'yes' });
    assert.equal(c.User, '1000:1001');
    assert.deepEqual(c.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.deepEqual(c.Volumes, { '/data': {}, '/cache': {} });
    assert.equal(c.StopSignal, 'SIGINT');
    assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', 'exec ${APP_HOME}/serve'], 'shell form; not expanded at build time');
    assert.deepEqual(c.Cmd, ['--port', '8080']);
    assert.equal(r.manifest.layers.length, 6);

    const tree = new FsTree();
    for (const l of r.manifest.layers) await tree.applyLayerBlob(store.readBlob(l.digest));
    const file = (p: string): string => tree.get(p)?.content?.toString() ?? '<missing>';
    assert.equal(file('opt/app/txt/a.txt'), 'A');
    assert.equal(file('opt/app/txt/b.txt'), 'B');
    assert.equal(tree.get('opt/app/txt/c.md'), undefined, 'glob *.txt only');
    const multi = tree.get('multi/a.txt')!;
    assert.deepEqual([multi.uid, multi.gid, multi.mode], [1000, 1001, 0o640]);
    assert.equal(file('multi/b.txt'), 'B');
    assert.equal(file('from-stage.txt'), 'D');
    assert.equal(tree.get('usr/local/bin/run')?.mode, 0o755);
    assert.equal(file('unpacked/pkg/data.txt'), 'from tar');
    assert.equal(file('unpacked/escape.txt'), 'x', 'a ../ name in an ADDed archive stays inside the destination');
    assert.equal(file('added-plain.txt'), 'A');
    // The first stage saw src/ minus ignored files, symlinks kept.
    const stageFiles = await (async () => {
      const s = new FsTree();
      const first = await build(new Store(join(t.path, 'store2')), opts(ctx, { file: join(ctx, 'Containerfile') }));
      for (const l of first.manifest.layers) await s.applyLayerBlob(new Store(join(t.path, 'store2')).readBlob(l.digest));
      return s;
    })();
    assert.ok(stageFiles.get('opt/app/txt/a.txt'));
  } finally {
    t.cleanup();
  }
});

test('COPY of a directory copies its contents, keeps symlinks and honours .containerignore', async () => {
  const t = tempDir();
  try {
    const ctx = join(t.path, 'ctx');
    mkdirSync(join(ctx, 'root/etc'), { recursive: true });
    writeFileSync(join(ctx, 'root/etc/conf'), 'c');
    writeFileSync(join(ctx, 'root/etc/skip.key'), 'k');
    symlinkSync('etc/conf', join(ctx, 'root/conf-link'));
    writeFileSync(join(ctx, '.dockerignore'), '**/*.key\n');
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY root/ /\n');
    const store = new Store(join(t.path, 'store'));
    const r = await build(store, opts(ctx));
    const names = (await readTar(decompressLayer(store.readBlob(r.manifest.layers[0].digest)))).map((e) => `${e.header.type}:${e.header.name}`);
    assert.deepEqual(names, ['symlink:conf-link', 'directory:etc/', 'file:etc/conf']);
  } finally {
    t.cleanup();
  }
});

const refuses = async (containerfile: string, pattern: RegExp, setup?: (ctx: string) => void): Promise<void> => {
  const t = tempDir();
  try {
    const ctx = join(t.path, 'ctx');
    mkdirSync(ctx);
    setup?.(ctx);
    writeFileSync(join(ctx, 'Containerfile'), containerfile);
    const store = new Store(join(t.path, 'store'));
    await assert.rejects(build(store, opts(ctx, { tags: ['x'] })), (e: unknown) => {
      assert.ok(e instanceof ImageError, String(e));
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    assert.deepEqual(store.images(), [], 'nothing tagged');
  } finally {
    t.cleanup();
  }
};

test('refusals: RUN and remote ADD with the line number, malformed files, missing context files and images', async () => {
  await refuses('FROM scratch\n\nRUN echo hi\n', /Containerfile:3: RUN is not supported.*no build sandbox/);
  await refuses('FROM scratch\nADD https://example.com/x.tar /\n', /Containerfile:2: ADD of a URL/);
  await refuses('FROM scratch\nFROBNICATE x\n', /Containerfile:2: unknown instruction "FROBNICATE"/);
  await refuses('COPY a /\n', /Containerfile:1: COPY before FROM/);
  await refuses('FROM scratch\nCOPY missing.txt /\n', /Containerfile:2: COPY missing.txt: no such file/);
  await refuses('FROM scratch\nCOPY a.key /\n', /no such file.*containerignore/, (ctx) => {
    writeFileSync(join(ctx, 'a.key'), 'k');
    writeFileSync(join(ctx, '.containerignore'), '*.key\n');
  });
  await refuses('FROM localhost/not-there:1\n', /Containerfile:1: image localhost\/not-there:1 is not in the local store/);
  await refuses('FROM scratch\nEXPOSE eighty\n', /Containerfile:2: EXPOSE eighty/);
  await refuses('FROM scratch\nCOPY --chmod=rw a /\n', /--chmod=rw is not an octal mode/, (ctx) => writeFileSync(join(ctx, 'a'), ''));
  await refuses('FROM scratch\nCOPY --chown=nobody a /\n', /no user "nobody"/, (ctx) => writeFileSync(join(ctx, 'a'), ''));
  await refuses('', /no FROM instruction/);
});

test('FROM an image of the store: its layers and config are inherited', async () => {
  const t = tempDir();
  try {
    const base = join(t.path, 'base');
    mkdirSync(base);
    seedContext(base);
    const store = new Store(join(t.path, 'store'));
    await build(store, opts(base, { tags: ['base:1'], platform: { os: 'wasi', architecture: 'wasm' } }));
    const child = join(t.path, 'child');
    mkdirSync(child);
    writeFileSync(join(child, 'extra.txt'), 'more');
    writeFileSync(join(child, 'Containerfile'), 'FROM base:1\nCOPY extra.txt /\n');
    const r = await build(store, opts(child, { platform: { os: 'wasi', architecture: 'wasm' } }));
    assert.equal(r.manifest.layers.length, 2);
    const config = store.readJson<ImageConfig>(r.manifest.config.digest);
    assert.deepEqual(config.config?.Cmd, ['/app.wasm']);
  } finally {
    t.cleanup();
  }
});

test('ENTRYPOINT drops the base image\'s CMD but keeps one set in the same stage', async () => {
  const t = tempDir();
  try {
    const store = new Store(join(t.path, 'store'));
    const make = async (name: string, containerfile: string): Promise<ImageConfig> => {
      const ctx = join(t.path, name);
      mkdirSync(ctx);
      writeFileSync(join(ctx, 'Containerfile'), containerfile);
      const r = await build(store, opts(ctx, { tags: [name] }));
      return store.readJson<ImageConfig>(r.manifest.config.digest);
    };
    await make('base', 'FROM scratch\nCMD ["base-cmd"]\n');
    assert.equal((await make('child', 'FROM base\nENTRYPOINT ["/ep"]\n')).config?.Cmd, null);
    assert.deepEqual((await make('same', 'FROM base\nCMD ["mine"]\nENTRYPOINT ["/ep"]\n')).config?.Cmd, ['mine']);
  } finally {
    t.cleanup();
  }
});

test('COPY follows a symlink source inside the context only, never to host files', async () => {
  const t = tempDir();
  try {
    const ctx = join(t.path, 'ctx');
    mkdirSync(join(ctx, 'real/lib'), { recursive: true });
    writeFileSync(join(ctx, 'real/lib/a.so'), 'lib a');
    writeFileSync(join(t.path, 'host-secret'), 'host secret');
    symlinkSync('real/lib', join(ctx, 'lib'));
    symlinkSync(join(t.path, 'host-secret'), join(ctx, 'secret'));
    symlinkSync('/real/lib/a.so', join(ctx, 'abs-in-context'));
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY lib /lib/\nCOPY abs-in-context /a-copy.so\n');
    const store = new Store(join(t.path, 'store'));
    const r = await build(store, opts(ctx));
    const tree = new FsTree();
    for (const l of r.manifest.layers) await tree.applyLayerBlob(store.readBlob(l.digest));
    assert.equal(tree.get('lib/a.so')?.content?.toString(), 'lib a', 'a symlinked directory: its target\'s contents');
    assert.equal(tree.get('a-copy.so')?.content?.toString(), 'lib a', 'an absolute link resolves at the context root');
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY secret /\n');
    await assert.rejects(build(store, opts(ctx)), /COPY secret: no such file in the build context/);
  } finally {
    t.cleanup();
  }
});

test('--format docker writes Docker media types', async () => {
  const t = tempDir();
  try {
    mkdirSync(join(t.path, 'ctx'));
    seedContext(join(t.path, 'ctx'));
    const store = new Store(join(t.path, 'store'));
    const r = await build(store, opts(join(t.path, 'ctx'), { format: 'docker' }));
    assert.equal(r.manifest.mediaType, MT.dockerManifest);
    assert.equal(r.manifest.config.mediaType, MT.dockerConfig);
    assert.equal(r.manifest.layers[0].mediaType, MT.dockerLayerGzip);
  } finally {
    t.cleanup();
  }
});

test('--artifact: the TAG Runtime Wasm artifact (wasm config, one application/wasm layer)', () => {
  const t = tempDir();
  try {
    const store = new Store(join(t.path, 'store'));
    const r = buildArtifact(store, guest('eng_hello'), { tags: ['hello-artifact'], annotations: { a: 'b' } });
    assert.equal(r.manifest.config.mediaType, MT.wasmConfig);
    assert.deepEqual(r.manifest.layers.map((l) => l.mediaType), [MT.wasmLayer]);
    const config = store.readJson<{ architecture: string; os: string; layerDigests: string[] }>(r.manifest.config.digest);
    assert.deepEqual([config.architecture, config.os, config.layerDigests], ['wasm', 'wasip1', [r.manifest.layers[0].digest]]);
    assert.deepEqual(r.manifest.annotations, { a: 'b' });
    assert.throws(() => buildArtifact(store, join(t.path, 'nope.wasm'), { tags: [], annotations: {} }), /no such file/);
    writeFileSync(join(t.path, 'text.wasm'), 'not wasm');
    assert.throws(() => buildArtifact(store, join(t.path, 'text.wasm'), { tags: [], annotations: {} }), /not a WebAssembly module/);
    // A WASI 0.2 component (its header's layer 1): os wasip2, same media types; a contradicting --platform is refused.
    const c = buildArtifact(store, guest('comp_cli.component'), { tags: ['component-artifact'], annotations: {} });
    assert.deepEqual(c.manifest.layers.map((l) => l.mediaType), [MT.wasmLayer]);
    assert.equal(c.manifest.config.mediaType, MT.wasmConfig);
    const cConfig = store.readJson<{ os: string; component?: { exports: string[]; imports: string[] } }>(c.manifest.config.digest);
    assert.equal(cConfig.os, 'wasip2');
    // The layout's `component` field: what the component's world imports and exports (the preview1
    // command adapter's imports, and wasi:cli/run).
    assert.deepEqual(cConfig.component?.exports.map((e) => e.replace(/@.*/, '')), ['wasi:cli/run']);
    assert.ok(cConfig.component?.imports.some((i) => /^wasi:cli\/environment@0\.2\.\d+$/.test(i)), JSON.stringify(cConfig.component));
    assert.equal('component' in store.readJson<object>(r.manifest.config.digest), false, 'a core module has no component field');
    assert.throws(() => buildArtifact(store, guest('comp_cli.component'), { tags: [], annotations: {}, os: 'wasip1' }), /is a WASI 0\.2 component, but --platform says wasip1\/wasm; use wasip2\/wasm/);
    assert.throws(() => buildArtifact(store, guest('eng_hello'), { tags: [], annotations: {}, os: 'wasip2' }), /is a core module \(WASI preview1\), but --platform says wasip2\/wasm; use wasip1\/wasm/);
  } finally {
    t.cleanup();
  }
});

test('variable expansion and ignore rules', () => {
  const vars = new Map([['A', 'x'], ['EMPTY', '']]);
  assert.equal(expand('$A/${A}/${B:-dflt}/${A:+alt}/${EMPTY:-e}/\\$A', vars), 'x/x/dflt/alt/e/$A');
  assert.equal(expand("'$A'", vars), "'$A'");
  const rules = parseIgnore('*.log\n!keep.log\nbuild/\n');
  assert.equal(isIgnored('x.log', rules), true);
  assert.equal(isIgnored('keep.log', rules), false);
  assert.equal(isIgnored('build/out/a', rules), true);
  assert.equal(isIgnored('src/x.log', rules), false, 'patterns are anchored at the context root');
});
