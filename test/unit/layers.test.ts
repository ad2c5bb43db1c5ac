// The layer rule of src/ (scripts/layers.mjs): no folder imports one above or beside it, no files
// import values from each other in a circle, and docs/architecture.md names every folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot, tempDir } from '../helpers.js';

const checker = join(repoRoot, 'scripts/layers.mjs');
const check = (...args: string[]): { status: number | null; out: string } => {
  const r = spawnSync(process.execPath, [checker, '--quiet', ...args], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

test('layers: src/ has no upward or sideways import and no circle', () => {
  const r = check();
  assert.equal(r.out, '');
  assert.equal(r.status, 0);
});

test('layers: the checker finds an upward import, a sideways one, a value circle and a folder with no row', () => {
  const t = tempDir();
  try {
    const files: Record<string, string> = {
      'wasi/a.ts': "import { b } from '../wasm/b.js';\nexport const a = b;\n", // upward
      'wasm/b.ts': 'export const b = 1;\n',
      'oci/c.ts': "export type { B } from '../wasm/types.js';\n", // sideways (types count here)
      'wasm/types.ts': 'export type B = number;\n',
      'cli/x.ts': "import { y } from './y.js';\nexport const x = 1;\nexport const z = y;\n",
      'cli/y.ts': "export const y = 2;\nexport const load = () => import('./x.js');\n", // x -> y -> x
      'cli/t1.ts': "import type { T2 } from './t2.js';\nexport type T1 = T2;\n",
      'cli/t2.ts': "import { type T1 } from './t1.js';\nexport type T2 = T1 | 1;\n", // a circle of types only: fine
      'extras/e.ts': 'export const e = 1;\n',
    };
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(t.path, name)), { recursive: true });
      writeFileSync(join(t.path, name), text);
    }
    const r = check('--src', t.path);
    assert.equal(r.status, 1);
    const lines = r.out.trim().split('\n').sort();
    assert.deepEqual(lines, [
      'circle: src/cli/x.ts, src/cli/y.ts import values from each other (directly or through one another)',
      'sideways: src/oci/c.ts imports src/wasm/types.ts (src/oci and src/wasm share a row)',
      'src/extras has no place in LAYERS (scripts/layers.mjs): put it on a row',
      'upward: src/wasi/a.ts imports src/wasm/b.ts (src/wasm is above src/wasi)',
    ]);
  } finally {
    t.cleanup();
  }
});

test('layers: docs/architecture.md names every folder of src/ and shows the rows of scripts/layers.mjs', () => {
  const doc = readFileSync(join(repoRoot, 'docs/architecture.md'), 'utf8');
  const folders = readdirSync(join(repoRoot, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'types').map((d) => d.name);
  for (const f of folders) assert.ok(doc.includes(`| \`src/${f}\` |`), `docs/architecture.md: no row for src/${f}`);
  const section = doc.slice(doc.indexOf('## Layers'), doc.indexOf('\n## ', doc.indexOf('## Layers') + 1));
  const documented = [...section.matchAll(/^\| \d+ \| (.*) \|$/gm)].map((m) => [...m[1].matchAll(/`src\/(\w+)`/g)].map((f) => f[1]).join(' '));
  const printed = /^layers, top to bottom: (.*)$/m.exec(spawnSync(process.execPath, [checker], { encoding: 'utf8' }).stdout)?.[1].split(' | ');
  assert.deepEqual(documented, printed?.filter((row) => row !== 'types'));
});
