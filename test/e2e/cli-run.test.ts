// `hyrun run FILE`, `hyrun --version` and `hyrun help` as a user meets them: real process, real
// exit codes, one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { assertOneLineError, guest, guestsDir, hyrun, native, READONLY_REPORT, repoRoot, run, tempDir, type Result } from '../helpers.js';
import { HYRUN_ENGINE_FLAGS } from '../../src/wasm/flags.js';

test('runs the README example (text format) and a C guest', () => {
  const r = hyrun(['run', 'examples/hello.wat'], { cwd: repoRoot });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Hello from WebAssembly, run by hyrun!\n');
  const c = hyrun(['run', guest('diff_args'), 'x']);
  assert.equal(c.stdout, 'argc=2\nargv[1]=<x> len=1\n');
});

test("guest argv[0] is FILE exactly as given", () => {
  assert.equal(hyrun(['run', 'diff_argv0.wasm'], { cwd: guestsDir }).stdout, 'diff_argv0.wasm\n');
  assert.equal(hyrun(['run', './diff_argv0.wasm'], { cwd: guestsDir }).stdout, './diff_argv0.wasm\n');
  const rel = relative(repoRoot, guest('diff_argv0'));
  assert.equal(hyrun(['run', rel], { cwd: repoRoot }).stdout, `${rel}\n`);
});

test('-- ends hyrun options; after FILE everything (-- included) is the guest\'s', () => {
  const before = hyrun(['run', '--', guest('diff_args'), '--dir', 'x']);
  assert.equal(before.status, 0, before.stderr);
  assert.equal(before.stdout, 'argc=3\nargv[1]=<--dir> len=5\nargv[2]=<x> len=1\n');
  const after = hyrun(['run', guest('diff_args'), '--', '--version', '-h']);
  assert.equal(after.stdout, 'argc=4\nargv[1]=<--> len=2\nargv[2]=<--version> len=9\nargv[3]=<-h> len=2\n');
  const help = hyrun(['run', guest('diff_args'), '--help']);
  assert.equal(help.stdout, 'argc=2\nargv[1]=<--help> len=6\n');
});

test('--dir HOST preopens under the same name, HOST::GUEST under GUEST; stdin reaches the guest', () => {
  const t = tempDir();
  try {
    writeFileSync(join(t.path, 'note.txt'), 'from the host\n');
    const same = hyrun(['run', '--dir', t.path, guest('diff_cat'), join(t.path, 'note.txt')]);
    assert.equal(same.stdout, 'from the host\n', same.stderr);
    const renamed = hyrun(['run', `--dir=${t.path}::/data`, guest('diff_cat'), '/data/note.txt']);
    assert.equal(renamed.stdout, 'from the host\n', renamed.stderr);
    const outside = hyrun(['run', '--dir', `${t.path}::/data`, guest('diff_cat'), join(t.path, 'note.txt')]);
    assert.equal(outside.status, 1);
    assert.equal(outside.stderr, `cannot open ${join(t.path, 'note.txt')}\n`);
    const stdin = hyrun(['run', guest('diff_cat')], { input: 'piped in\n' });
    assert.equal(stdin.stdout, 'piped in\n');
    const nat = run(native('diff_cat'), [join(t.path, 'note.txt')]);
    assert.equal(nat.stdout, same.stdout);
  } finally {
    t.cleanup();
  }
});

test('--dir HOST::GUEST:ro: reads work, every change is EROFS by any spelling, the directory is unchanged', () => {
  const t = tempDir('hyrun-ro-dir-');
  try {
    for (const d of ['root/tmp', 'ro/sub', 'rw']) mkdirSync(join(t.path, d), { recursive: true });
    writeFileSync(join(t.path, 'ro/in.txt'), 'hello');
    writeFileSync(join(t.path, 'ro/sub/keep.txt'), 'kept');
    symlinkSync('/data', join(t.path, 'root/ln'));
    const list = (): string => execFileSync('find', [join(t.path, 'ro'), '-printf', '%P %y %s %T@\n'], { encoding: 'utf8' });
    const before = list();
    // The volume alone (its own root), then inside a writable `/` with other spellings of its paths.
    const alone = hyrun(['run', '--dir', `${t.path}/ro::/data:ro`, '--dir', `${t.path}/rw::/rw`, guest('eng_readonly'), '/data', '/rw']);
    assert.equal(alone.status, 0, alone.stderr);
    assert.deepEqual(alone.stdout.trim().split('\n'), [...READONLY_REPORT, 'keep: kept']);
    const nested = hyrun(['run', '--dir', `${t.path}/root::/`, '--dir', `${t.path}/ro::/data:ro`, '--dir', `${t.path}/rw::/rw:rw`, guest('eng_readonly'), '/data', '/rw',
      '/./data/x', '/ln/y', '/data/../data/z', '/rw/../data/w', '/tmp/writable']);
    assert.equal(nested.status, 0, nested.stderr);
    assert.deepEqual(nested.stdout.trim().split('\n'), [...READONLY_REPORT, 'create /./data/x: EROFS', 'create /ln/y: EROFS', 'create /data/../data/z: EROFS',
      // wasi-libc takes the `/rw` preopen for this path, and `..` above a preopen other than `/` is NOTCAPABLE.
      'create /rw/../data/w: ENOTCAPABLE', 'create /tmp/writable: ok', 'keep: kept']);
    assert.equal(list(), before, 'nothing in the read-only directory changed');
    assert.deepEqual(readdirSync(join(t.path, 'rw')), ['mine.txt']);
    assert.deepEqual(readdirSync(join(t.path, 'root/tmp')), ['writable']);
    // Without :ro the same guest changes the directory (the test can fail).
    const rw = hyrun(['run', '--dir', `${t.path}/ro::/data`, '--dir', `${t.path}/rw::/rw`, guest('eng_readonly'), '/data', '/rw']);
    assert.match(rw.stdout, /^mkdir: ok$/m);
    assert.notEqual(list(), before);
  } finally {
    t.cleanup();
  }
});

test('bad input: one line, exit 125, nothing left behind', () => {
  const t = tempDir();
  try {
    writeFileSync(join(t.path, 'plain'), 'x');
    mkdirSync(join(t.path, 'd'));
    const g = guest('diff_args');
    const cases: [string[], RegExp][] = [
      [['run'], /run needs a file: hyrun run .*FILE\.wasm/],
      [['run', '--dir', 'missing', g], /--dir 'missing': missing does not exist/],
      [['run', '--dir', 'plain', g], /plain is not a directory/],
      [['run', '--dir', 'd::', g], /empty guest path/],
      [['run', '--memory', 'lots', g], /--memory 'lots' is not a size.*64KiB/],
      [['run', '--memory', '0', g], /--memory '0'/],
      [['run', '--memory', '8GiB', g], /4GiB/],
      [['run', '--env', 'NOVALUE', g], /not KEY=VALUE/],
      [['run', '--dri', 'd', g], /unknown option '--dri' \(did you mean --dir\?\).*hyrun help run/],
      [['run', '--bogus', g], /unknown option '--bogus'/],
      [['run', '--env'], /argument missing/],
      [['run', '--tcplisten', 'nope', g], /HOST:PORT/],
      [['help', 'frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, pattern] of cases) assertOneLineError(hyrun(args, { cwd: t.path }), 125, pattern);
    assert.deepEqual(readdirSync(t.path).sort(), ['d', 'plain']);
  } finally {
    t.cleanup();
  }
});

test('missing FILE is 127, a file that is not Wasm is 126', () => {
  const t = tempDir();
  try {
    writeFileSync(join(t.path, 'notes.wasm'), 'just some text\n');
    writeFileSync(join(t.path, 'script.sh'), '#!/bin/sh\necho hi\n');
    assertOneLineError(hyrun(['run', 'absent.wasm'], { cwd: t.path }), 127, /absent\.wasm: no such file/);
    assertOneLineError(hyrun(['run', 'absent'], { cwd: t.path }), 127, /absent: no such file/);
    assertOneLineError(hyrun(['run', 'notes.wasm'], { cwd: t.path }), 126, /notes\.wasm/);
    assertOneLineError(hyrun(['run', 'script.sh'], { cwd: t.path }), 126, /script\.sh/);
    assertOneLineError(hyrun(['run', '.'], { cwd: t.path }), 126, /not a regular file/);
  } finally {
    t.cleanup();
  }
});

test('--version: hyrun version, the delegate, the Wasm engine', () => {
  const r = hyrun(['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(hyrun(['-v']).stdout, r.stdout);
  const lines = r.stdout.trimEnd().split('\n');
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  assert.equal(lines[0], `hyrun version ${pkg.version}`);
  const first = (bin: string): string => execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0];
  // Default: crun when it works here, else runc; HYRUN_DELEGATE picks one explicitly.
  assert.ok([`delegate: ${first('crun')}`, `delegate: ${first('runc')}`].includes(lines[1]), lines[1]);
  const forced = hyrun(['--version'], { env: { ...process.env, HYRUN_DELEGATE: 'runc' } }).stdout.split('\n');
  assert.equal(forced[1], `delegate: ${first('runc')}`);
  const none = hyrun(['--version'], { env: { ...process.env, HYRUN_DELEGATE: '/nonexistent/crun' } });
  assert.equal(none.status, 0);
  assert.match(none.stdout.split('\n')[1], /^delegate: none found \(.*\/nonexistent\/crun/);
  assert.equal(lines.at(-1), `+WASM:v8 ${process.versions.v8}`);
  // The addon: loaded when the build made it (it does here), absent with the reason otherwise.
  assert.equal(lines.find((l) => l.startsWith('addon: ')), 'addon: loaded');
  assert.equal(lines.find((l) => l.startsWith('sandbox: ')), 'sandbox: race-free (openat2 + held descriptors)');
  const walk = hyrun(['--version'], { env: { ...process.env, HYRUN_NO_OPENAT2: '1' } }).stdout.split('\n');
  assert.ok(walk.includes('sandbox: race-free (held descriptors, component by component; HYRUN_NO_OPENAT2=1)'), walk.join('|'));
  const without = hyrun(['--version'], { env: { ...process.env, HYRUN_NO_NATIVE: '1' } }).stdout.split('\n');
  assert.ok(without.includes('addon: absent (HYRUN_NO_NATIVE=1)'), without.join('|'));
  assert.ok(without.includes('sandbox: refused for guests with preopens (addon absent (HYRUN_NO_NATIVE=1))'), without.join('|'));
});

test('without the addon a guest with a preopen is refused in one line, and nothing else changes', () => {
  const t = tempDir();
  try {
    const env = { ...process.env, HYRUN_NO_NATIVE: '1' };
    const refused = hyrun(['run', '--dir', `${t.path}::/`, join(repoRoot, 'examples/hello.wat')], { env });
    assert.equal(refused.status, 125);
    assert.equal(refused.stdout, '');
    const errLines = refused.stderr.trimEnd().split('\n');
    assert.equal(errLines.length, 1, refused.stderr);
    assert.match(errLines[0], /^hyrun: the Wasm sandbox needs hyrun's addon \(hyrun-native\.node\) .*absent \(HYRUN_NO_NATIVE=1\).*npm run build/);
    // A guest with no preopen has no path to resolve: it runs.
    const plain = hyrun(['run', join(repoRoot, 'examples/hello.wat')], { env });
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /hello/i);
  } finally {
    t.cleanup();
  }
});

test('the CLI starts from its code cache, and from source whenever the cache does not match the bundle', () => {
  assert.ok(hyrun(['--version']).stdout.split('\n').includes('code cache: used'), 'npm run build made a cache this node accepts');
  // A copy of dist/ and bin/ whose bundle is then changed: the cache must not be used for it.
  const t = tempDir();
  try {
    for (const d of ['bin', 'dist']) execFileSync('cp', ['-r', join(repoRoot, d), join(t.path, d)]);
    // The copy's front end finds the pinned node where a checkout has it.
    symlinkSync(join(repoRoot, 'node_modules'), join(t.path, 'node_modules'));
    const copy = join(t.path, 'bin/hyrun');
    const versionOf = (): string[] => run(copy, ['--version']).stdout.split('\n');
    assert.ok(versionOf().includes('code cache: used'), 'a plain copy (new mtimes) keeps its cache');
    const hello = (): Result => run(copy, ['run', guest('hello')]);
    const expected = hyrun(['run', guest('hello')]);
    assert.equal(expected.status, 0, expected.stderr);
    const bundle = join(t.path, 'dist/hyrun-main.cjs');
    const original = readFileSync(bundle, 'utf8');
    // Same build line, other text: V8 itself refuses the cache (the source differs in length).
    writeFileSync(bundle, `${original}\n// edited by hand\n`);
    assert.ok(versionOf().includes('code cache: refused by V8'), versionOf().join('|'));
    assert.deepEqual(hello(), expected);
    // Another build line: the entry does not offer the cache at all.
    writeFileSync(bundle, original.replace(/^\/\/ hyrun build \w+/, '// hyrun build 0000000000000000'));
    assert.ok(versionOf().includes('code cache: absent'), versionOf().join('|'));
    assert.deepEqual(hello(), expected);
  } finally {
    t.cleanup();
  }
});

test('the executor and its worker thread start from their code caches too', () => {
  // The executor as a Wasm container starts it, with a socket on stdin so the guest gets the worker thread.
  const spec = { module: guest('hello'), args: ['hello'], env: [], preopens: [] };
  // With the V8 flags a container's executor starts with (flags.ts): V8 checks its caches against them.
  const r = spawnSync(process.execPath, [...HYRUN_ENGINE_FLAGS, join(repoRoot, 'dist/executor.cjs')], {
    env: { ...process.env, HYRUN_EXECUTOR_SPEC: Buffer.from(JSON.stringify(spec)).toString('base64'), HYRUN_TRACE_STARTUP: '1' },
    stdio: ['pipe', 'pipe', 'pipe'], input: '', encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^hello from wasi/);
  assert.match(r.stderr, /\] [\d.]+ ms runWasm \(code cache: used; guest on the worker thread\)/);
  assert.match(r.stderr, /worker [\d.]+ ms \(worker clock\) bundle evaluated \(code cache: used\)/);
});

test('help: general, per command, and run documents its options and the mode rule', () => {
  const general = hyrun(['help']);
  assert.equal(general.status, 0);
  for (const cmd of ['run', 'create', 'start', 'state', 'kill', 'delete', 'exec', 'ps', 'pause', 'resume', 'update', 'list', 'spec', 'features']) {
    assert.match(general.stdout, new RegExp(`\\n  ${cmd} +\\S`), cmd);
    const one = hyrun(['help', cmd]);
    assert.equal(one.status, 0);
    assert.match(one.stdout, new RegExp(`^hyrun ${cmd}: .+\\n\\nUsage:\\n  hyrun ${cmd}`));
  }
  assert.equal(hyrun(['--help']).stdout, general.stdout);
  assert.equal(hyrun(['-h']).stdout, general.stdout);
  const runHelp = hyrun(['run', '--help']);
  assert.equal(runHelp.stdout, hyrun(['help', 'run']).stdout);
  assert.match(runHelp.stdout, /--dir HOST\[::GUEST\]/);
  assert.match(runHelp.stdout, /config\.json exists in the current directory: OCI mode/);
});

test('bin/hyrun-wasm (the symlink) dispatches like hyrun', () => {
  const wasmBin = join(repoRoot, 'bin/hyrun-wasm');
  const r = run(wasmBin, ['run', guest('diff_args'), 'x']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'argc=2\nargv[1]=<x> len=1\n');
  assert.equal(run(wasmBin, ['help', 'run']).stdout, hyrun(['help', 'run']).stdout);
  assertOneLineError(run(wasmBin, ['run', '--memory', 'x', guest('diff_args')]), 125, /--memory 'x'/);
});

test('run in a bundle directory (config.json, no Wasm file) is runc run, not a file run', () => {
  const t = tempDir();
  try {
    // An invalid config: the OCI layer must reject it before creating anything.
    writeFileSync(join(t.path, 'config.json'), '{}');
    const viaCwd = hyrun(['run', 'diff-cli-ctr'], { cwd: t.path });
    assert.notEqual(viaCwd.status, 0);
    assert.match(viaCwd.stderr, /config\.json/);
    assert.doesNotMatch(viaCwd.stderr, /no such file/);
    const viaBundle = hyrun(['run', '--bundle', t.path, 'diff-cli-ctr']);
    assert.equal(viaBundle.stderr, viaCwd.stderr);
    // A .wasm argument still means a file run, config.json or not.
    const file = hyrun(['run', guest('diff_args'), 'y'], { cwd: t.path });
    assert.equal(file.stdout, 'argc=2\nargv[1]=<y> len=1\n');
  } finally {
    t.cleanup();
  }
});

test('--memory caps what the guest can allocate, in every accepted spelling', () => {
  const allocated = (args: string[]): number => {
    const r = hyrun(['run', ...args, guest('diff_grow'), '64']);
    assert.equal(r.status, 0, r.stderr);
    const m = /^allocated (\d+) MiB/.exec(r.stdout);
    assert.ok(m, r.stdout);
    return Number(m[1]);
  };
  assert.equal(allocated([]), 64);
  const capped = allocated(['--memory', '16MiB']);
  assert.ok(capped < 16 && capped > 8, `16MiB cap gave ${capped} MiB`);
  assert.equal(allocated(['--memory=16M']), capped);
  assert.equal(allocated(['--memory', String(16 * 1048576)]), capped);
  assert.equal(allocated(['--memory', '16384KiB']), capped);
  assert.equal(allocated(['--memory', '1G']), 64);
});
