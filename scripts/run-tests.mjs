// Runs every dist/test/**/*.test.js with node's test runner, one file at a time (the end-to-end
// tests start real daemons and containers; running them concurrently on two cores only adds noise).
// Arguments filter by substring of the path: `node scripts/run-tests.mjs wasi/ sandbox`.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensurePinnedNode } from './node.mjs';

// The tests run on hyrun's pinned node (they spawn process.execPath for node children).
ensurePinnedNode();

const root = new URL('..', import.meta.url).pathname;
const walk = (dir) => readdirSync(dir).flatMap((n) => {
  const p = join(dir, n);
  return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
});
const filters = process.argv.slice(2);
const files = walk(join(root, 'dist/test'))
  .filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`run-tests: no test files match ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
