import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseRunMode, parseDirSpec, parseMemorySize, parseRunArgs, toSpec } from '../../src/cli/run.js';
import { UsageError } from '../../src/cli/errors.js';
import { COMMANDS, commandHelp, generalHelp } from '../../src/cli/help.js';
import { tempDir } from '../helpers.js';

const usage = (fn: () => unknown, pattern: RegExp, exitCode = 125): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${String(e)}`);
    assert.equal(e.exitCode, exitCode);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'message must be one line');
    return true;
  });
};

test('--memory accepts bytes and binary units', () => {
  assert.equal(parseMemorySize('64KiB'), 65536);
  assert.equal(parseMemorySize('16MiB'), 16 * 2 ** 20);
  assert.equal(parseMemorySize('1GiB'), 2 ** 30);
  assert.equal(parseMemorySize('1G'), 2 ** 30);
  assert.equal(parseMemorySize('1g'), 2 ** 30);
  assert.equal(parseMemorySize('1048576'), 1048576);
  assert.equal(parseMemorySize('2m'), 2 * 2 ** 20);
});

test('--memory rejects junk, zero, sub-page and over-4GiB values', () => {
  for (const bad of ['', 'lots', '12Q', '-1', '1.5G', '0', '1000', '5GiB', 'KiB']) usage(() => parseMemorySize(bad), /--memory/);
});

test('--dir HOST keeps the name, HOST::GUEST renames, bad ones are refused', () => {
  const t = tempDir();
  try {
    mkdirSync(join(t.path, 'data'));
    writeFileSync(join(t.path, 'file'), 'x');
    assert.deepEqual(parseDirSpec('data', t.path), { hostPath: join(t.path, 'data'), guestPath: 'data' });
    assert.deepEqual(parseDirSpec('data::/srv', t.path), { hostPath: join(t.path, 'data'), guestPath: '/srv' });
    assert.deepEqual(parseDirSpec(`${t.path}::.`, '/'), { hostPath: t.path, guestPath: '.' });
    usage(() => parseDirSpec('missing', t.path), /does not exist/);
    usage(() => parseDirSpec('file', t.path), /not a directory/);
    usage(() => parseDirSpec('data::', t.path), /empty guest path/);
    usage(() => parseDirSpec('::/srv', t.path), /empty host directory/);
  } finally {
    t.cleanup();
  }
});

test('arguments after FILE go to the guest untouched, flags included', () => {
  const r = parseRunArgs(['--env', 'A=1', '--env=B=2=3', 'app.wasm', '--env', 'X', '--', '-v', '--dir']);
  assert.equal(r.file, 'app.wasm');
  assert.deepEqual(r.guestArgs, ['--env', 'X', '--', '-v', '--dir']);
  assert.deepEqual(r.env, ['A=1', 'B=2=3']);
  const spec = toSpec(r);
  assert.deepEqual(spec.args, ['app.wasm', '--env', 'X', '--', '-v', '--dir']);
  assert.deepEqual(spec.env, ['A=1', 'B=2=3']);
  assert.ok(spec.module.endsWith('/app.wasm') && spec.module.startsWith('/'));
});

test('-- ends hyrun options so FILE may start with a dash', () => {
  const r = parseRunArgs(['--', '-odd.wasm', 'x']);
  assert.equal(r.file, '-odd.wasm');
  assert.deepEqual(r.guestArgs, ['x']);
});

test('memory and tcplisten reach the spec', () => {
  const spec = toSpec(parseRunArgs(['--memory', '16MiB', '--tcplisten', '127.0.0.1:8080', 'a.wasm']));
  assert.equal(spec.memoryLimit, 16 * 2 ** 20);
  assert.deepEqual(spec.tcpListen, ['127.0.0.1:8080']);
  assert.equal(toSpec(parseRunArgs(['a.wasm'])).memoryLimit, undefined);
});

test('HTTP options reach the spec: --addr (the last counts), --allow-net and --instance-reuse are switches', () => {
  const spec = toSpec(parseRunArgs(['--addr', '0.0.0.0:1', '--addr=[::1]:8081', '--allow-net', '--instance-reuse', 'a.wasm', '--allow-net']));
  assert.equal(spec.httpAddr, '[::1]:8081');
  assert.equal(spec.allowNet, true);
  assert.equal(spec.instanceReuse, true);
  // After FILE, --allow-net is the guest's argument.
  assert.deepEqual(spec.args, ['a.wasm', '--allow-net']);
  const plain = toSpec(parseRunArgs(['a.wasm']));
  assert.deepEqual([plain.httpAddr, plain.allowNet, plain.instanceReuse], [undefined, undefined, undefined]);
  usage(() => parseRunArgs(['--addr', '8080', 'a.wasm']), /--addr '8080' is not HOST:PORT/);
  usage(() => parseRunArgs(['--allow-net=yes', 'a.wasm']), /'--allow-net' takes no value/);
  usage(() => parseRunArgs(['--allow-nett', 'a.wasm']), /did you mean --allow-net\?/);
  usage(() => parseRunArgs([], process.cwd(), true), /serve needs a file: hyrun serve/);
});

test('--allow-net grants networking in the spec (allowNet), takes no value, and means a Wasm file', () => {
  const r = parseRunArgs(['--allow-net', 'a.wasm', '--allow-net']);
  assert.equal(r.allowNet, true);
  // After FILE it is the guest's.
  assert.deepEqual(r.guestArgs, ['--allow-net']);
  assert.equal(toSpec(r).allowNet, true);
  assert.equal(toSpec(parseRunArgs(['a.wasm'])).allowNet, undefined);
  usage(() => parseRunArgs(['--allow-net=yes', 'a.wasm']), /'--allow-net' takes no value/);
  usage(() => parseRunArgs(['--allow-nte', 'a.wasm']), /did you mean --allow-net\?/);
  assert.equal(chooseRunMode(['--allow-net', 'ctr1'], '/'), 'wasm');
});

test('bad run arguments give one-line UsageErrors', () => {
  usage(() => parseRunArgs([]), /needs a file/);
  usage(() => parseRunArgs(['--env']), /argument missing/);
  usage(() => parseRunArgs(['--dri', 'x', 'a.wasm']), /unknown option '--dri' \(did you mean --dir\?\)/);
  usage(() => parseRunArgs(['-q', 'a.wasm']), /unknown option '-q'.*hyrun help run/);
  usage(() => parseRunArgs(['--env', 'NOEQUALS', 'a.wasm']), /not KEY=VALUE/);
  usage(() => parseRunArgs(['--env', '=v', 'a.wasm']), /not KEY=VALUE/);
  usage(() => parseRunArgs(['--tcplisten', '8080', 'a.wasm']), /HOST:PORT/);
  usage(() => parseRunArgs(['--tcplisten', 'h:99999', 'a.wasm']), /HOST:PORT/);
  usage(() => parseRunArgs(['--memory', 'big', 'a.wasm']), /--memory 'big'/);
});

test('run mode: Wasm vs runc-style OCI run', () => {
  const t = tempDir();
  try {
    const cwd = t.path;
    writeFileSync(join(cwd, 'module'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    writeFileSync(join(cwd, 'text'), 'not wasm');
    // No config.json: everything is Wasm file mode (so errors are file-mode errors).
    assert.equal(chooseRunMode(['app.wasm'], cwd), 'wasm');
    assert.equal(chooseRunMode(['ctr1'], cwd), 'wasm');
    assert.equal(chooseRunMode([], cwd), 'wasm');
    assert.equal(chooseRunMode(['--bundle', cwd, 'ctr1'], cwd), 'oci');
    assert.equal(chooseRunMode(['-b', cwd, 'ctr1'], cwd), 'oci');
    assert.equal(chooseRunMode(['-d', 'ctr1'], cwd), 'oci');
    assert.equal(chooseRunMode(['--help'], cwd), 'help');
    assert.equal(chooseRunMode(['app.wasm', '--help'], cwd), 'wasm');
    writeFileSync(join(cwd, 'config.json'), '{}');
    assert.equal(chooseRunMode(['ctr1'], cwd), 'oci');
    assert.equal(chooseRunMode(['text'], cwd), 'oci');
    assert.equal(chooseRunMode(['module'], cwd), 'wasm', 'magic bytes win over config.json');
    assert.equal(chooseRunMode(['missing.wat'], cwd), 'wasm', 'the extension wins over config.json');
    assert.equal(chooseRunMode(['--env', 'A=B', 'ctr1'], cwd), 'wasm');
    assert.equal(chooseRunMode(['--dir=.', 'ctr1'], cwd), 'wasm');
    assert.equal(chooseRunMode(['--', 'ctr1'], cwd), 'oci');
  } finally {
    t.cleanup();
  }
});

test('help exists for every command and documents the run rule', () => {
  for (const name of Object.keys(COMMANDS)) {
    const text = commandHelp(name);
    assert.ok(text, name);
    assert.match(text, new RegExp(`^hyrun ${name}: \\S`));
    assert.match(generalHelp(), new RegExp(`\\n  ${name} +\\S`));
  }
  assert.equal(commandHelp('nope'), undefined);
  assert.equal(commandHelp('toString'), undefined);
  const run = commandHelp('run') ?? '';
  for (const word of ['--env', '--dir', '--memory', '--tcplisten', '--allow-net', '--bundle', 'config.json', '\\0asm', 'not inherited']) {
    assert.ok(run.includes(word), `run help mentions ${word}`);
  }
});
