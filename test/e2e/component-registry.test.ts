// Component artifacts through a registry (issue 16 §4): `hyrun build --artifact` of a component
// writes the CNCF TAG Runtime config with its `component` field (checked on the registry's copy,
// against wasmtime's reading of the component), and `hyrun pull` into a fresh store and a fresh
// cache transpiles the component at pull time, so that its first start, in either run mode,
// transpiles nothing. Debian's docker-registry on 127.0.0.1, started here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrunBin, run, tempDir, type Result } from '../helpers.js';
import { startRegistry, type Registry } from './engines/registry.js';
import { cannotRun, explain } from './engines/tools.js';
import { sortedWorld, wasmtimeWorlds } from '../wasmtime-worlds.js';

const skip = cannotRun(['docker-registry', 'crun', 'python3']);
const EXIT = guest('comp_exit.component');
const HTTP = guest('http_handler.component');
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('component artifacts through a registry', { skip, timeout: 600_000 }, () => {
  const scratch = tempDir('hyrun-comp-registry-');
  let registry: Registry;
  /** hyrun with its own store and cache (one pair builds and pushes, a fresh one pulls). */
  const hyrunIn = (side: string) => (args: string[], extra: NodeJS.ProcessEnv = {}): Result =>
    run(hyrunBin, args, { env: { ...process.env, HYRUN_STORAGE: join(scratch.path, side, 'store'), HYRUN_CACHE_DIR: join(scratch.path, side, 'cache'), ...extra }, timeout: 180_000 });
  const builder = hyrunIn('builder');
  const puller = hyrunIn('puller');
  const must = (r: Result, what: string): Result => {
    assert.equal(r.status, 0, `${what}: ${explain(r)}`);
    return r;
  };
  const remote = (name: string): string => `${registry.host}/components/${name}:1`;

  before(async () => {
    registry = await startRegistry();
    for (const [file, name] of [[EXIT, 'exit'], [HTTP, 'http']] as const) {
      must(builder(['build', '--artifact', file, '-t', `${name}:1`]), `build --artifact ${file}`);
      must(builder(['push', '--tls-verify=false', `${name}:1`, remote(name)]), `push ${name}`);
    }
  });
  after(async () => {
    await registry?.stop();
    scratch.cleanup();
  });

  /** The config of an image, as the registry serves it. */
  async function registryConfig(name: string): Promise<{ os: string; layerDigests: string[]; component?: { exports: string[]; imports: string[] } }> {
    const base = `http://${registry.host}/v2/components/${name}`;
    const manifest = await (await fetch(`${base}/manifests/1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as
      { config: { mediaType: string; digest: string }; layers: { digest: string }[] };
    assert.equal(manifest.config.mediaType, 'application/vnd.wasm.config.v0+json');
    const config = await (await fetch(`${base}/blobs/${manifest.config.digest}`)).json() as Awaited<ReturnType<typeof registryConfig>>;
    assert.deepEqual(config.layerDigests, manifest.layers.map((l) => l.digest));
    return config;
  }

  test("the artifact's config names the component's imports and exports, as wasmtime reads them", async () => {
    const oracle = wasmtimeWorlds([EXIT, HTTP]);
    for (const [file, name] of [[EXIT, 'exit'], [HTTP, 'http']] as const) {
      const config = await registryConfig(name);
      assert.equal(config.os, 'wasip2');
      assert.ok(config.component, `no component field in the config of ${name}: ${JSON.stringify(config)}`);
      assert.deepEqual(Object.keys(config.component).sort(), ['exports', 'imports']);
      assert.deepEqual(sortedWorld(config.component), sortedWorld(oracle[file]!), name);
    }
    // What the HTTP handler is, spelled as the layout spells it.
    assert.deepEqual((await registryConfig('http')).component!.exports, ['wasi:http/incoming-handler@0.2.12']);
  });

  /** Every file of the transpiled form of `digest` in the puller's cache: name -> inode, size and modification time. */
  function entryStamps(digest: string): Map<string, string> {
    const top = join(scratch.path, 'puller', 'cache', 'components');
    const tags = existsSync(top) ? readdirSync(top) : [];
    const dir = tags.map((t) => join(top, t, digest)).find((d) => existsSync(d));
    const out = new Map<string, string>();
    if (dir === undefined) return out;
    for (const f of readdirSync(dir)) {
      const st = statSync(join(dir, f), { bigint: true });
      out.set(f, `${st.ino} ${st.size} ${st.mtimeNs}`);
    }
    return out;
  }
  /** The transpiled forms in the puller's cache (digests). */
  const entries = (): string[] => {
    const top = join(scratch.path, 'puller', 'cache', 'components');
    return existsSync(top) ? readdirSync(top).flatMap((t) => readdirSync(join(top, t)).filter((d) => !d.startsWith('.'))).sort() : [];
  };

  test('hyrun pull transpiles the component (with its glue code cache); the first start, embedded or OCI, transpiles nothing', () => {
    assert.deepEqual(entries(), [], 'the puller starts with an empty cache');
    const pulled = must(puller(['pull', '--tls-verify=false', remote('exit')]), 'pull');
    assert.match(pulled.stderr, /transpiled the component .*components\/exit:1 runs/);
    assert.deepEqual(entries(), [sha(EXIT)]);
    const stamps = entryStamps(sha(EXIT));
    assert.ok(stamps.has('meta.json') && stamps.has('glue.cjs') && stamps.has('glue.cjs.cache'), [...stamps.keys()].join(' '));
    // The embedded executor says where its component came from; the OCI mode's create would
    // transpile into this same cache: the files left as the pull wrote them prove neither did.
    const embedded = puller(['run', '--rm', remote('exit'), '7'], { HYRUN_RUN_MODE: 'embedded', HYRUN_TRACE_STARTUP: '1' });
    assert.equal(embedded.status, 7, explain(embedded));
    assert.equal(embedded.stdout, 'exiting with 7\n');
    assert.match(embedded.stderr, /component from the transpile cache/);
    assert.doesNotMatch(embedded.stderr, /component transpiled/);
    const oci = puller(['run', '--rm', remote('exit'), '8'], { HYRUN_RUN_MODE: 'oci' });
    assert.equal(oci.status, 8, explain(oci));
    assert.equal(oci.stdout, 'exiting with 8\n');
    assert.deepEqual(entries(), [sha(EXIT)]);
    assert.deepEqual(entryStamps(sha(EXIT)), stamps, 'the transpiled form (or its code cache) was written again after the pull');
  });

  test('hyrun pull of an HTTP component transpiles it for serving (suspending glue)', () => {
    must(puller(['pull', '--tls-verify=false', remote('http')]), 'pull');
    assert.ok(entries().includes(sha(HTTP)), entries().join(' '));
    const top = join(scratch.path, 'puller', 'cache', 'components');
    const dir = readdirSync(top).map((t) => join(top, t, sha(HTTP))).find((d) => existsSync(d))!;
    assert.equal((JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { suspending: boolean }).suspending, true);
  });
});
