// Transpiles every TypeScript file to dist/ (one output per input, no type checking: `npm run typecheck`
// does that), then bundles the entry points whose start-up time matters into single files.
import { build } from 'esbuild';
import { readdirSync, statSync, existsSync, rmSync } from 'node:fs';
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
  { in: 'src/wasm/executor-main.ts', out: 'dist/executor.cjs', external: ['wabt'] },
  { in: 'src/wasm/worker.ts', out: 'dist/worker.cjs', external: ['wabt'] },
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
