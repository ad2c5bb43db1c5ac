// `npm run dist`: the release artifact, hyrun-<version>-linux-<arch>.tar.gz in the checkout's root
// (or in OUTDIR: `node scripts/dist.mjs OUTDIR`, after `npm run build`).
// One directory, hyrun/, that runs on a machine without node (docs/node.md):
//   bin/hyrun, bin/hyrun-wasm   the sh front end
//   dist/*.cjs, *.node, *.cache the bundles, the addon, the code caches (as `npm run build` made them),
//   dist/*.wasm                 the component transpiler's own Wasm (loaded beside its bundle)
//   node/                       the pinned node, the libraries it links and the dynamic loader
//   node_modules/wabt           .wat support
//   package.json, README.md
// Reproducible: two runs over the same build give the same bytes. Entries are sorted, every time is
// SOURCE_DATE_EPOCH (default: the last commit's time), owners are root (0:0), modes are 0755 for
// directories and executables and 0644 otherwise, and gzip's header carries no time or name.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { ensurePinnedNode } from './node.mjs';

ensurePinnedNode();
const root = new URL('..', import.meta.url).pathname;
const { writeNodeDir } = await import(join(root, 'dist/src/handlers/self-node.js'));
if (!existsSync(join(root, 'dist/hyrun.cjs'))) {
  console.error('dist: hyrun is not built (npm run build)');
  process.exit(1);
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const arch = { x64: 'x64', arm64: 'arm64' }[process.arch] ?? process.arch;
const out = join(process.argv[2] ?? root, `hyrun-${pkg.version}-linux-${arch}.tar.gz`);
const epoch = Number(process.env.SOURCE_DATE_EPOCH
  ?? execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' }).trim());
if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`dist: SOURCE_DATE_EPOCH must be a number of seconds, not ${epoch}`);

const work = mkdtempSync(join(tmpdir(), 'hyrun-dist-'));
try {
  const top = join(work, 'hyrun');
  mkdirSync(join(top, 'bin'), { recursive: true });
  cpSync(join(root, 'bin/hyrun'), join(top, 'bin/hyrun'));
  symlinkSync('hyrun', join(top, 'bin/hyrun-wasm'));
  mkdirSync(join(top, 'dist'));
  // What an install copies (src/engine/prefix.ts bundles()): the entries, bundles, addon and caches.
  for (const f of readdirSync(join(root, 'dist')).filter((f) => /\.(cjs|node|cache|wasm)$/.test(f))) cpSync(join(root, 'dist', f), join(top, 'dist', f));
  cpSync(join(root, 'node_modules/wabt'), join(top, 'node_modules/wabt'), { recursive: true, dereference: true });
  writeNodeDir(join(top, 'node'));
  const nodePkg = join(root, 'node_modules', `node-linux-${arch}`);
  for (const f of ['LICENSE', 'README.md']) if (existsSync(join(nodePkg, f))) cpSync(join(nodePkg, f), join(top, 'node', f));
  writeFileSync(join(top, 'package.json'), `${JSON.stringify({ name: 'hyrun', version: pkg.version, private: true, type: 'module' }, null, 2)}\n`);
  cpSync(join(root, 'README.md'), join(top, 'README.md'));

  const pack = tar.pack();
  const chunks = [];
  pack.on('data', (c) => chunks.push(c));
  const done = new Promise((resolve, reject) => { pack.on('end', resolve); pack.on('error', reject); });
  const mtime = new Date(epoch * 1000);
  const header = { mtime, uid: 0, gid: 0, uname: 'root', gname: 'root' };
  let files = 0;
  let bytes = 0;
  const add = (rel) => {
    const path = join(work, rel);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) pack.entry({ ...header, name: rel, type: 'symlink', linkname: readlinkSync(path), mode: 0o777 });
    else if (st.isDirectory()) {
      pack.entry({ ...header, name: `${rel}/`, type: 'directory', mode: 0o755 });
      for (const name of readdirSync(path).sort()) add(`${rel}/${name}`);
    } else {
      const data = readFileSync(path);
      files += 1;
      bytes += data.length;
      pack.entry({ ...header, name: rel, type: 'file', mode: (st.mode & 0o111) !== 0 ? 0o755 : 0o644 }, data);
    }
  };
  add('hyrun');
  pack.finalize();
  await done;
  const packed = gzipSync(Buffer.concat(chunks), { level: 9 });
  writeFileSync(out, packed);
  const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
  const sha = execFileSync('sha256sum', [out], { encoding: 'utf8' }).split(' ')[0];
  console.log(`dist: ${out}\n  ${files} files, ${mb(bytes)} unpacked, ${mb(packed.length)} packed\n  sha256 ${sha}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
