// Transpiles every TypeScript file to dist/ (one output per input, no type checking: `npm run typecheck`
// does that), then bundles the entry points whose start-up time matters into single files.
import { build } from 'esbuild';
import { readdirSync, statSync, existsSync, rmSync, renameSync, readFileSync, writeFileSync, mkdtempSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { join } from 'node:path';
import { ensurePinnedNode } from './node.mjs';

// Built on the node hyrun runs on: the addon against its headers, the code caches by its V8.
ensurePinnedNode();

const root = new URL('..', import.meta.url).pathname;
const walk = (dir) => readdirSync(dir).flatMap((name) => {
  const p = join(dir, name);
  return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
});
const sources = ['src', 'test', 'bench'].filter((d) => existsSync(join(root, d))).flatMap((d) => walk(join(root, d)));

// The component transpiler's version keys the transpile cache (src/wasm/component.ts).
const transpilerPackage = join(root, 'node_modules/@bytecodealliance/jco-transpile');
const transpilerVersion = JSON.parse(readFileSync(join(transpilerPackage, 'package.json'), 'utf8')).version;
const constants = { __HYRUN_TRANSPILER__: JSON.stringify(`jco-transpile@${transpilerVersion}`) };

// One output per source: outputs of deleted sources go too (a stale dist/test/*.test.js would still run).
for (const d of ['src', 'test', 'bench']) rmSync(join(root, 'dist', d), { recursive: true, force: true });
await build({
  entryPoints: sources, outdir: join(root, 'dist'), outbase: root,
  format: 'esm', platform: 'node', target: 'node24', logLevel: 'warning', define: constants,
});

// Single-file bundles: the CLI (fewer module loads at start-up) and the executor, which is copied
// into the runtime directory mounted into Wasm containers and so must not need node_modules.
// CommonJS, not ESM: node starts a CommonJS entry (and a CommonJS worker) ~4 ms faster each, and
// every hyrun call and every Wasm container pays that. The ESM-only `import.meta.url` becomes the
// bundle's own file URL.
// jco's own components (its transpiler, its wasm-tools) import WASI 0.2 from preview2-shim: in the
// bundles those imports go to hyrun's own host instead (src/wasm/transpiler-wasi.ts).
const onHyrunsWasi = Object.fromEntries(['cli', 'filesystem', 'io', 'random'].map((n) => [`@bytecodealliance/preview2-shim/${n}`, join(root, 'src/wasm/transpiler-wasi.ts')]));
// Its minifier (oxc-minify, native, required when the transpiler loads) is never asked for: a stub
// stands in, so the bundle needs nothing from node_modules (installs and releases have none).
onHyrunsWasi['oxc-minify'] = join(root, 'src/wasm/transpiler-no-minify.ts');
const bundles = [
  // dist/hyrun.cjs is a small entry that starts this bundle from V8's code cache (codeCache below).
  { in: 'src/cli/main.ts', out: 'dist/hyrun-main.cjs', external: ['wabt'] },
  // The image commands (build, pull, push, run IMAGE, …), loaded by the CLI only when one is used.
  { in: 'src/cli/image.ts', out: 'dist/hyrun-image.cjs', external: ['wabt'] },
  // undici's Agent, for registries named insecure whose certificate is not trusted: loaded only then.
  { in: 'src/image/insecure-tls.ts', out: 'dist/insecure-tls.cjs', external: ['wabt'] },
  // dist/executor.cjs and dist/worker.cjs are entries like dist/hyrun.cjs (in Wasm containers too).
  { in: 'src/wasm/executor-main.ts', out: 'dist/executor-main.cjs', external: ['wabt'] },
  { in: 'src/wasm/worker.ts', out: 'dist/worker-main.cjs', external: ['wabt'] },
  // The thread that serves an HTTP component (src/wasm/http-serve.ts), beside the executor and the CLI.
  { in: 'src/wasm/http-serve-worker.ts', out: 'dist/http-worker.cjs', external: ['wabt'] },
  // The net thread of a component with wasi:sockets (src/wasm/net-thread.ts): loaded only for those.
  { in: 'src/wasm/net-worker.ts', out: 'dist/net-worker.cjs', external: ['wabt'] },
  // hyrun install / doctor, loaded by the CLI only for those commands (it carries the TOML library).
  { in: 'src/engine/cli.ts', out: 'dist/engine.cjs', external: ['wabt'] },
  // The component transpiler (jco-transpile and its own Wasm, copied beside it below), loaded only to
  // transpile a component that is not cached yet. Its optimiser and minifier are never asked for.
  // It is a component itself: its WASI imports go to hyrun's own host (src/wasm/transpiler-wasi.ts), never preview2-shim.
  { in: 'src/wasm/transpile.ts', out: 'dist/hyrun-transpile.cjs', external: ['wabt', 'binaryen'], alias: onHyrunsWasi },
  // Test setup: wit-component's embed and new, for the component fixtures (scripts/build-guests.mjs), the same way.
  { in: 'test/component-tools.ts', out: 'dist/test-component-tools.cjs', external: ['wabt', 'binaryen'], alias: onHyrunsWasi },
  // Benchmark evidence only (bench/main-thread-run.ts), bundled like the executor for a fair timing.
  { in: 'bench/main-thread-run.ts', out: 'dist/bench/main-thread-run.cjs', external: ['wabt'] },
];
for (const b of bundles) {
  if (!existsSync(join(root, b.in))) continue;
  await build({
    entryPoints: [join(root, b.in)], outfile: join(root, b.out), bundle: true,
    format: 'cjs', platform: 'node', target: 'node24', external: b.external, alias: b.alias, logLevel: 'warning',
    define: { 'import.meta.url': '__hyrunBundleUrl', ...constants },
    banner: { js: "'use strict'; const __hyrunBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
}
// jco-transpile finds its Wasm beside its own file (import.meta.url): beside the bundle here.
for (const name of readdirSync(join(transpilerPackage, 'vendor')).filter((n) => n.endsWith('.wasm'))) {
  copyFileSync(join(transpilerPackage, 'vendor', name), join(root, 'dist', name));
}
// Bundles of earlier builds (ESM, .mjs): gone, so nothing can start a stale copy.
for (const old of ['hyrun.mjs', 'executor.mjs', 'worker.mjs']) rmSync(join(root, 'dist', old), { force: true });

// The Node-API addon (native/hyrun_native.c): compiled against the headers of the node that runs
// this build (the pinned one: node_modules/node-linux-<arch>/include/node), with the machine's C compiler, no network. Required: the Wasm sandbox resolves paths
// only on held descriptors through it (src/wasi/native.ts), so without it every Wasm container and
// every `hyrun run --dir` would be refused; a build that cannot make it fails.
buildNative();

// The entries and their code caches (after the addon: the training runs take its paths too). Every
// hyrun call that reaches node pays its bundle's compile, and every Wasm container the executor's
// and the worker's.
await codeCaches();

/**
 * Writes each entry (dist/hyrun.cjs, executor.cjs, worker.cjs) from scripts/cached-entry.cjs, then
 * trains: runs the CLI and the executor (its guest on the worker thread, as in a container) once
 * on scripts/code-cache-training.wat (a directory listing, stats, a write), which leaves
 * dist/<body>.cache, V8's code cache of everything those runs compiled. Optional, like the addon:
 * a failure is a warning, and the entries then compile their bundles from source.
 */
async function codeCaches() {
  const entries = [['hyrun.cjs', 'hyrun-main.cjs'], ['executor.cjs', 'executor-main.cjs'], ['worker.cjs', 'worker-main.cjs']];
  const template = readFileSync(join(root, 'scripts', 'cached-entry.cjs'), 'utf8');
  for (const [entry, body] of entries) {
    // The bundle's first line names its build (a hash of its text), for the entry to match the cache with.
    const bundle = readFileSync(join(root, 'dist', body), 'utf8');
    // node 20 loses a script's dynamic-import hook when V8 takes its code from a cache: an import()
    // left in these bundles (a built-in or external module) would fail only at run time.
    const dynamic = /[^\w.$]import\((["'`])([^"'`]+)\1\)/.exec(bundle);
    if (dynamic) throw new Error(`build: dist/${body} calls import(${dynamic[1]}${dynamic[2]}${dynamic[1]}), which fails under its code cache: use require (createRequire) instead`);
    const id = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
    writeFileSync(join(root, 'dist', body), `// hyrun build ${id}\n${bundle}`);
    writeFileSync(join(root, 'dist', entry), template.replaceAll('__BODY__', body));
    rmSync(join(root, 'dist', `${body}.cache`), { force: true });
  }
  const work = mkdtempSync(join(tmpdir(), 'hyrun-build-'));
  try {
    const wabt = await (await import('wabt')).default();
    const wat = readFileSync(join(root, 'scripts', 'code-cache-training.wat'), 'utf8');
    const module = wabt.parseWat('code-cache-training.wat', wat);
    const wasm = join(work, 'train.wasm');
    writeFileSync(wasm, module.toBinary({}).buffer);
    module.destroy();
    mkdirSync(join(work, 'dir'));
    writeFileSync(join(work, 'dir', 'a'), 'a');
    const env = { ...process.env, HYRUN_CODE_CACHE: 'write' };
    delete env.NODE_OPTIONS; // V8 flags there would be baked into the caches' flag hash
    // V8 checks a cache against its flags: train with those bin/hyrun and the executor start with.
    // --random-seed fixes what V8 otherwise randomises per process (hash seeds, and so the layout of
    // a code cache): two builds of a tree then make the same caches, and the release artifact the
    // same bytes (scripts/dist.mjs). V8 leaves that flag out of the hash it checks caches against
    // (measured on V8 14.6: cachedDataVersionTag() is the same with and without it).
    const { HYRUN_ENGINE_FLAGS } = await import(join(root, 'dist/src/wasm/flags.js'));
    const flags = [...HYRUN_ENGINE_FLAGS, '--random-seed=1'];
    execFileSync(process.execPath, [...flags, join(root, 'dist/hyrun.cjs'), 'run', '--dir', `${join(work, 'dir')}::/t`, wasm],
      { env, stdio: ['ignore', 'ignore', 'pipe'] });
    // The executor twice, each run writing one cache: the guest on the worker thread (a socket on
    // stdin, node's 'pipe', puts it there, as sockets do in containers) for the worker's, then on the
    // main thread (as PID 1 runs it with the addon) for the executor's own. Run apart, each cache
    // is the same on every build; one run racing both threads made the executor's differ.
    const spec = { module: wasm, args: ['train'], env: [], preopens: [{ hostPath: join(work, 'dir'), guestPath: '/t' }] };
    const specEnv = { HYRUN_EXECUTOR_SPEC: Buffer.from(JSON.stringify(spec)).toString('base64') };
    execFileSync(process.execPath, [...flags, join(root, 'dist/executor.cjs')],
      { env: { ...env, ...specEnv, HYRUN_CODE_CACHE: 'write:worker-main.cjs' }, input: '', stdio: ['pipe', 'ignore', 'pipe'] });
    execFileSync(process.execPath, [...flags, join(root, 'dist/executor.cjs')],
      { env: { ...env, ...specEnv, HYRUN_CODE_CACHE: 'write:executor-main.cjs' }, stdio: ['ignore', 'ignore', 'pipe'] });
    const missing = entries.map(([, body]) => body).filter((body) => !existsSync(join(root, 'dist', `${body}.cache`)));
    if (missing.length > 0) throw new Error(`the training runs wrote no cache for ${missing.join(', ')}`);
  } catch (error) {
    console.warn(`build: code caches incomplete (start-up compiles those bundles from source): ${String(error.stderr || error.message).split('\n')[0]}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function buildNative() {
  const out = join(root, 'dist', 'hyrun-native.node');
  const src = join(root, 'native', 'hyrun_native.c');
  if (!existsSync(src)) return;
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return;
  const includes = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node']
    .filter((d) => existsSync(join(d, 'node_api.h')));
  if (includes.length === 0) {
    rmSync(out, { force: true });
    throw new Error(`build: node_api.h not found next to ${process.execPath} nor in /usr/include/node: the Wasm sandbox needs the addon (install node's headers)`);
  }
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', `-I${includes[0]}`, '-o', tmp, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(tmp, out);
  } catch (error) {
    rmSync(tmp, { force: true });
    rmSync(out, { force: true });
    throw new Error(`build: the native addon did not compile (the Wasm sandbox needs it): ${String(error.stderr || error.message).split('\n')[0]}`);
  }
}
