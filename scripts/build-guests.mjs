// Builds the test and benchmark workloads from source with Debian's toolchain. Run by `npm test`
// and `npm run bench` before anything else; rebuilds only what changed.
//
//   test/guests/c/NAME.c      -> build/guests/NAME.wasm (clang-14 wasm32-wasi) + build/guests/native/NAME (gcc)
//   test/guests/wat/NAME.wat  -> build/guests/NAME.wasm (wat2wasm)
//   test/guests/rust/NAME.rs  -> build/guests/NAME.wasm (/usr/bin/rustc --target wasm32-wasi)
//   bench/kernels/NAME.c      -> build/bench/NAME.wasm (-msimd128) + build/bench/native/NAME (both clang-14 -O2)
//   COMPONENTS below          -> build/guests/NAME.component.wasm: the module made a WASI 0.2 command
//                                component with jco's preview1 command adapter (wit-component's
//                                `component new`, jco-transpile's copy, as bundled by npm run build)
//   test/guests/http/NAME.c   -> build/guests/NAME.component.wasm: an HTTP handler against the raw
//                                canonical ABI (clang-14, no libc start files), its wasi:http WIT
//                                (jco's copy of the WASI 0.2.12 packages) embedded, made a component
//   test/guests/http/NAME.js  -> build/guests/NAME.component.wasm: an HTTP handler in JavaScript,
//                                componentize-js (StarlingMonkey: WASI 0.2.10, so WIT 0.2.10)
//
// A C file may carry a first-line comment `// cflags: ...` with extra flags for both builds.
import { execFileSync } from 'node:child_process';
import { createRequire, registerHooks } from 'node:module';
import { readdirSync, statSync, existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join, basename, extname } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'build');
const seen = new Map();

const newer = (src, dst) => existsSync(dst) && statSync(dst).mtimeMs >= statSync(src).mtimeMs;
const list = (dir, ext) => (existsSync(dir) ? readdirSync(dir).filter((f) => extname(f) === ext).map((f) => join(dir, f)) : []);
// clang's wasm driver runs any `wasm-opt` it finds on PATH after linking, which strips the name
// section (trap lines then name no guest function). npm puts node_modules/.bin first on PATH, and
// binaryen (a dependency of jco) has a wasm-opt there: the toolchains get a PATH without it.
const toolPath = (process.env.PATH ?? '').split(':').filter((d) => d !== '' && !d.endsWith('/node_modules/.bin')).join(':');
const run = (cmd, args) => {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PATH: toolPath } });
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

/** `wasmFlags`: for the Wasm build only. Its arguments are kept beside it (NAME.wasm.args): a change rebuilds it. */
function buildC(src, dir, nativeCompiler, wasmFlags = []) {
  const name = basename(src, '.c');
  const wasm = join(dir, `${name}.wasm`);
  const native = join(dir, 'native', name);
  claim(wasm, src);
  mkdirSync(join(dir, 'native'), { recursive: true });
  const flags = extraFlags(src);
  const wasmArgs = ['--target=wasm32-wasi', '-O2', ...wasmFlags, '-o', wasm, src, ...flags];
  const argsFile = `${wasm}.args`;
  // No file: built before flags were recorded, i.e. without Wasm-only flags.
  const sameArgs = existsSync(argsFile) ? readFileSync(argsFile, 'utf8') === wasmArgs.join(' ') : wasmFlags.length === 0;
  if (!newer(src, wasm) || !sameArgs) {
    run('clang-14', wasmArgs);
    writeFileSync(argsFile, wasmArgs.join(' '));
  }
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
// The kernels' Wasm builds use Wasm SIMD (128-bit), as the native builds use x86-64's baseline
// SSE2: the same vector width on both sides (without it matmul ran at 0.47× native, all of it the
// missing vectors: docs/benchmarks.md).
for (const src of list(join(root, 'bench/kernels'), '.c')) buildC(src, join(out, 'bench'), 'clang-14', ['-msimd128']);
await buildComponents();
await buildHttpComponents();
console.log(`build-guests: ${seen.size} workloads up to date in build/`);

/**
 * Command components for test/e2e/component-*.test.ts, from the modules built above. A module that
 * calls WASI 0.2 itself (comp_exit: wasi:cli/exit's exit-with-code, which the preview1 adapter never
 * calls; comp_unserved: interfaces hyrun does not serve; comp_http_unserved: an HTTP handler that
 * imports such interfaces too) gets its WIT embedded first: the world
 * given here, with the interfaces it imports written as nested packages.
 */
/**
 * The world of comp_sockets: wasi:sockets, wasi:io and wasi:clocks as jco ships their WIT (0.2.12),
 * each file made a nested package (its worlds dropped), plus wasi:cli's exit.
 */
function socketsWit() {
  const builtin = join(root, 'node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12');
  const nested = (name) => {
    const text = readFileSync(join(builtin, name, 'package.wit'), 'utf8').replace(/^(@\w+\([^)]*\)\s*)*world [\w-]+ \{[\s\S]*?^\}\s*$/gm, '');
    const m = /^package ([^;]+);/m.exec(text);
    return `package ${m[1]} {\n${text.slice(m.index + m[0].length)}\n}\n`;
  };
  return `package hyrun:fixture;
world sockets {
  import wasi:sockets/instance-network@0.2.12; import wasi:sockets/network@0.2.12;
  import wasi:sockets/tcp@0.2.12; import wasi:sockets/tcp-create-socket@0.2.12;
  import wasi:sockets/udp@0.2.12; import wasi:sockets/udp-create-socket@0.2.12;
  import wasi:sockets/ip-name-lookup@0.2.12; import wasi:cli/exit@0.2.12;
  import wasi:io/poll@0.2.12; import wasi:io/streams@0.2.12; import wasi:clocks/monotonic-clock@0.2.12;
}
package wasi:cli@0.2.12 { interface exit { exit: func(status: result); exit-with-code: func(status-code: u8); } }
${nested('wasi-sockets')}${nested('wasi-io')}${nested('wasi-clocks')}`;
}

async function buildComponents() {
  const COMPONENTS = {
    hello: null, write_bytes: null, rt_trap: null, rt_loop: null, rt_cat: null, rt_clock: null, comp_cli: null, comp_fs: null, eng_volume: null, eng_tty: null,
    comp_exit: `package hyrun:fixture;
world exit-code { import wasi:cli/exit@0.2.0; }
package wasi:cli@0.2.0 { interface exit { exit: func(status: result); exit-with-code: func(status-code: u8); } }`,
    comp_run_err: `package hyrun:fixture;
world run-err { export wasi:cli/run@0.2.0; }
package wasi:cli@0.2.0 { interface run { run: func() -> result; } }`,
    comp_http: `package hyrun:fixture;
world http { export wasi:http/incoming-handler@0.2.0; }
package wasi:http@0.2.0 { interface incoming-handler { handle: func(); } }`,
    comp_unserved: `package hyrun:fixture;
world unserved { import wasi:http/types@0.2.0; import acme:made/up@1.0.0; }
package wasi:http@0.2.0 { interface types { ping: func() -> u32; } }
package acme:made@1.0.0 { interface up { hello: func() -> u32; } }`,
    comp_sockets: socketsWit(),
    comp_http_unserved: inlineWit(`package hyrun:fixture;
world http-unserved { import acme:made/up@1.0.0; import acme:other/thing@1.0.0; export wasi:http/incoming-handler@0.2.12; }
package acme:made@1.0.0 { interface up { hello: func() -> u32; } }
package acme:other@1.0.0 { interface thing { ping: func() -> u32; } }
`, '0.2.12'),
  };
  const jcoLib = join(root, 'node_modules/@bytecodealliance/jco/lib/wasi_snapshot_preview1.command.wasm');
  const todo = Object.entries(COMPONENTS).filter(([name]) => !newer(join(out, 'guests', `${name}.wasm`), join(out, 'guests', `${name}.component.wasm`)));
  for (const [name] of Object.entries(COMPONENTS)) claim(join(out, 'guests', `${name}.component.wasm`), `${name}.wasm`);
  if (todo.length === 0) return;
  // jco-transpile's copy of wasm-tools, bundled by `npm run build` to run on hyrun's own WASI host.
  const bundle = join(root, 'dist/test-component-tools.cjs');
  if (!existsSync(bundle)) { console.error('build-guests: dist/test-component-tools.cjs is missing: run npm run build first'); process.exit(1); }
  const tools = createRequire(import.meta.url)(bundle);
  const adapter = readFileSync(jcoLib);
  for (const [name, wit] of todo) {
    let core = readFileSync(join(out, 'guests', `${name}.wasm`));
    if (wit !== null) core = await tools.componentEmbed({ binary: core, witSource: wit, world: /world ([\w-]+)/.exec(wit)[1] });
    // The adapter only for modules that call preview1 (it wants their _start).
    const preview1 = WebAssembly.Module.imports(new WebAssembly.Module(core)).some((i) => i.module === 'wasi_snapshot_preview1');
    writeFileSync(join(out, 'guests', `${name}.component.wasm`), await tools.componentNew(core, preview1 ? [['wasi_snapshot_preview1', adapter]] : []));
  }
}

/** The WASI 0.2 packages jco ships (node_modules/@bytecodealliance/jco/lib/wit/builtin/VERSION). */
function witPackages(version) {
  return join(root, 'node_modules/@bytecodealliance/jco/lib/wit/builtin', version);
}

/**
 * One WIT source for `component embed`: the fixture's world, then every WASI package of `version`
 * as a nested package (what the world imports refers to the others: io, clocks, cli, …).
 */
function inlineWit(world, version) {
  let wit = world;
  const dir = witPackages(version);
  for (const pkg of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, pkg)).filter((n) => n.endsWith('.wit'))) {
      const text = readFileSync(join(dir, pkg, f), 'utf8');
      const head = /^package ([^;]+);/m.exec(text);
      wit += `package ${head[1]} {\n${text.replace(head[0], '')}\n}\n`;
    }
  }
  return wit;
}

/** HTTP handler components for test/e2e/http-serve.test.ts and the HTTP benchmark. */
async function buildHttpComponents() {
  const dir = join(root, 'test/guests/http');
  for (const src of list(dir, '.c')) {
    const name = basename(src, '.c');
    const core = join(out, 'guests', `${name}.wasm`);
    const component = join(out, 'guests', `${name}.component.wasm`);
    claim(core, src);
    claim(component, src);
    if (newer(src, component)) continue;
    run('clang-14', ['--target=wasm32-wasi', '-O2', '-nostartfiles', '-Wl,--no-entry', '-o', core, src]);
    const tools = createRequire(import.meta.url)(join(root, 'dist/test-component-tools.cjs'));
    const world = `package hyrun:fixture;
world http-handler { import wasi:http/types@0.2.12; import wasi:http/outgoing-handler@0.2.12; export wasi:http/incoming-handler@0.2.12; }
`;
    const embedded = await tools.componentEmbed({ binary: readFileSync(core), witSource: inlineWit(world, '0.2.12'), world: 'http-handler' });
    writeFileSync(component, await tools.componentNew(embedded, []));
  }
  for (const src of list(dir, '.js')) {
    const name = basename(src, '.js');
    const component = join(out, 'guests', `${name}.component.wasm`);
    claim(component, src);
    if (newer(src, component)) continue;
    // componentize-js reads a WIT directory: the world, and the WASI packages it uses as deps/.
    const witDir = join(out, 'guests', `${name}.wit`);
    rmSync(witDir, { recursive: true, force: true });
    mkdirSync(join(witDir, 'deps'), { recursive: true });
    writeFileSync(join(witDir, 'world.wit'), 'package hyrun:js-fixture;\nworld handler { export wasi:http/incoming-handler@0.2.10; }\n');
    // jco ships WASI 0.2.10's WIT for three packages only: the rest are its 0.2.12 packages named
    // 0.2.10 (0.2 releases differ in documentation and @since gates only, and these carry neither).
    for (const pkg of readdirSync(witPackages('0.2.12'))) {
      mkdirSync(join(witDir, 'deps', pkg));
      for (const f of readdirSync(join(witPackages('0.2.12'), pkg))) {
        writeFileSync(join(witDir, 'deps', pkg, f), readFileSync(join(witPackages('0.2.12'), pkg, f), 'utf8').replaceAll('@0.2.12', '@0.2.10'));
      }
    }
    const { componentize } = await componentizeOnHyrunsWasi();
    const { component: bytes } = await componentize({ sourcePath: src, witPath: witDir, worldName: 'handler' });
    writeFileSync(component, bytes);
  }
}

/**
 * componentize-js, its splicer's WASI imports resolved to hyrun's own host (test/componentize-wasi.ts,
 * built to dist/test by npm run build) instead of preview2-shim, with the repository preopened.
 */
async function componentizeOnHyrunsWasi() {
  const shim = new URL('../dist/test/componentize-wasi.js', import.meta.url).href;
  if (!existsSync(new URL(shim))) { console.error('build-guests: dist/test/componentize-wasi.js is missing: run npm run build first'); process.exit(1); }
  process.env.HYRUN_FIXTURE_ROOT = root.replace(/\/$/, '');
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier.startsWith('@bytecodealliance/preview2-shim/')) return { url: shim, shortCircuit: true };
      return next(specifier, context);
    },
  });
  return import('@bytecodealliance/componentize-js');
}
