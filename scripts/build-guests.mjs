// Builds the test and benchmark workloads from source with Debian's toolchain. Run by `npm test`
// and `npm run bench` before anything else; rebuilds only what changed.
//
//   test/guests/c/NAME.c      -> build/guests/NAME.wasm (clang-14 wasm32-wasi) + build/guests/native/NAME (gcc)
//   test/guests/wat/NAME.wat  -> build/guests/NAME.wasm (wat2wasm)
//   test/guests/rust/NAME.rs  -> build/guests/NAME.wasm (/usr/bin/rustc --target wasm32-wasi)
//   bench/kernels/NAME.c      -> build/bench/NAME.wasm + build/bench/native/NAME (both clang-14 -O2)
//
// A C file may carry a first-line comment `// cflags: ...` with extra flags for both builds.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, basename, extname } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'build');
const seen = new Map();

const newer = (src, dst) => existsSync(dst) && statSync(dst).mtimeMs >= statSync(src).mtimeMs;
const list = (dir, ext) => (existsSync(dir) ? readdirSync(dir).filter((f) => extname(f) === ext).map((f) => join(dir, f)) : []);
const run = (cmd, args) => {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    console.error(`build-guests: ${cmd} ${args.join(' ')} failed`);
    process.exit(1);
  }
};
const claim = (dst, src) => {
  if (seen.has(dst)) { console.error(`build-guests: ${src} and ${seen.get(dst)} both build ${dst}; rename one`); process.exit(1); }
  seen.set(dst, src);
};
const extraFlags = (src) => {
  const first = readFileSync(src, 'utf8').split('\n', 1)[0];
  const m = /^\/\/ cflags: (.*)$/.exec(first);
  return m ? m[1].trim().split(/\s+/) : [];
};

function buildC(src, dir, nativeCompiler) {
  const name = basename(src, '.c');
  const wasm = join(dir, `${name}.wasm`);
  const native = join(dir, 'native', name);
  claim(wasm, src);
  mkdirSync(join(dir, 'native'), { recursive: true });
  const flags = extraFlags(src);
  if (!newer(src, wasm)) run('clang-14', ['--target=wasm32-wasi', '-O2', '-o', wasm, src, ...flags]);
  if (!newer(src, native)) run(nativeCompiler, ['-O2', '-o', native, src, ...flags, '-lm']);
}

mkdirSync(join(out, 'guests'), { recursive: true });
for (const src of list(join(root, 'test/guests/c'), '.c')) buildC(src, join(out, 'guests'), 'gcc');
for (const src of list(join(root, 'test/guests/wat'), '.wat')) {
  const wasm = join(out, 'guests', `${basename(src, '.wat')}.wasm`);
  claim(wasm, src);
  if (!newer(src, wasm)) run('wat2wasm', ['--enable-all', '-o', wasm, src]);
}
for (const src of list(join(root, 'test/guests/rust'), '.rs')) {
  const wasm = join(out, 'guests', `${basename(src, '.rs')}.wasm`);
  claim(wasm, src);
  if (!newer(src, wasm)) run('/usr/bin/rustc', ['--target', 'wasm32-wasi', '-O', '--edition', '2021', '-o', wasm, src]);
}
mkdirSync(join(out, 'bench'), { recursive: true });
for (const src of list(join(root, 'bench/kernels'), '.c')) buildC(src, join(out, 'bench'), 'clang-14');
console.log(`build-guests: ${seen.size} workloads up to date in build/`);
