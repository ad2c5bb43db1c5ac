// Transpiles every TypeScript file to dist/ (one output per input, no type checking: `npm run typecheck`
// does that), then bundles the two entry points whose start-up time matters into single files.
import { build } from 'esbuild';
import { readdirSync, statSync, existsSync } from 'node:fs';
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
const bundles = [
  { in: 'src/cli/main.ts', out: 'dist/hyrun.mjs', external: ['wabt'] },
  { in: 'src/wasm/executor-main.ts', out: 'dist/executor.mjs', external: ['wabt'] },
  { in: 'src/wasm/worker.ts', out: 'dist/worker.mjs', external: ['wabt'] },
];
for (const b of bundles) {
  if (!existsSync(join(root, b.in))) continue;
  await build({
    entryPoints: [join(root, b.in)], outfile: join(root, b.out), bundle: true,
    format: 'esm', platform: 'node', target: 'node20', external: b.external, logLevel: 'warning',
    // A bundled CommonJS dependency calls require() at run time (esbuild's ESM shim throws on that);
    // give every ESM bundle a real require so adding one never breaks start-up.
    banner: { js: "import { createRequire as __hyrunRequire } from 'node:module'; const require = __hyrunRequire(import.meta.url);" },
  });
}
