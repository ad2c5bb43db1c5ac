// Transpiles every TypeScript file to dist/ (one output per input, no type checking: `npm run typecheck`
// does that), then bundles the entry points whose start-up time matters into single files.
import { build } from 'esbuild';
import { readdirSync, statSync, existsSync, rmSync, renameSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const walk = (dir) => readdirSync(dir).flatMap((name) => {
  const p = join(dir, name);
  return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
});
const sources = ['src', 'test', 'bench'].filter((d) => existsSync(join(root, d))).flatMap((d) => walk(join(root, d)));

await build({
  entryPoints: sources, outdir: join(root, 'dist'), outbase: root,
  format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning',
});

// Single-file bundles: the CLI (fewer module loads at start-up) and the executor, which is copied
// into the runtime directory mounted into Wasm containers and so must not need node_modules.
// CommonJS, not ESM: node starts a CommonJS entry (and a CommonJS worker) ~4 ms faster each, and
// every hyrun call and every Wasm container pays that. The ESM-only `import.meta.url` becomes the
// bundle's own file URL.
const bundles = [
  { in: 'src/cli/main.ts', out: 'dist/hyrun.cjs', external: ['wabt'] },
  // The image commands (build, pull, push, run IMAGE, …), loaded by the CLI only when one is used.
  { in: 'src/cli/image.ts', out: 'dist/hyrun-image.cjs', external: ['wabt'] },
  // undici's Agent, for registries named insecure whose certificate is not trusted: loaded only then.
  { in: 'src/image/insecure-tls.ts', out: 'dist/insecure-tls.cjs', external: ['wabt'] },
  { in: 'src/wasm/executor-main.ts', out: 'dist/executor.cjs', external: ['wabt'] },
  { in: 'src/wasm/worker.ts', out: 'dist/worker.cjs', external: ['wabt'] },
  // hyrun install / doctor, loaded by the CLI only for those commands (it carries the TOML library).
  { in: 'src/engine/cli.ts', out: 'dist/engine.cjs', external: ['wabt'] },
  // Benchmark evidence only (bench/main-thread-run.ts), bundled like the executor for a fair timing.
  { in: 'bench/main-thread-run.ts', out: 'dist/bench/main-thread-run.cjs', external: ['wabt'] },
];
for (const b of bundles) {
  if (!existsSync(join(root, b.in))) continue;
  await build({
    entryPoints: [join(root, b.in)], outfile: join(root, b.out), bundle: true,
    format: 'cjs', platform: 'node', target: 'node20', external: b.external, logLevel: 'warning',
    define: { 'import.meta.url': '__hyrunBundleUrl' },
    banner: { js: "'use strict'; const __hyrunBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
}
// Bundles of earlier builds (ESM, .mjs): gone, so nothing can start a stale copy.
for (const old of ['hyrun.mjs', 'executor.mjs', 'worker.mjs']) rmSync(join(root, 'dist', old), { force: true });

// The Node-API addon (native/hyrun_native.c): compiled against the headers of the node that runs
// this build, with the machine's C compiler, no network. Optional: without it hyrun takes its
// portable paths (src/wasi/native.ts), so a failure here is a warning, not an error.
buildNative();

function buildNative() {
  const out = join(root, 'dist', 'hyrun-native.node');
  const src = join(root, 'native', 'hyrun_native.c');
  if (!existsSync(src)) return;
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return;
  const includes = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node']
    .filter((d) => existsSync(join(d, 'node_api.h')));
  if (includes.length === 0) {
    console.warn('build: node_api.h not found; building without the native addon (slower lookups, microsecond file times)');
    rmSync(out, { force: true });
    return;
  }
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', `-I${includes[0]}`, '-o', tmp, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(tmp, out);
  } catch (error) {
    rmSync(tmp, { force: true });
    rmSync(out, { force: true });
    console.warn(`build: the native addon did not compile; building without it: ${String(error.stderr || error.message).split('\n')[0]}`);
  }
}
