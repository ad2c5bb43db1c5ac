// Collecting the transpile cache (src/handlers/component-gc.ts, docs/components.md): `hyrun prune`
// removes transpiled components unused for 30 days, those of another transpiler unused for a day,
// and leftovers of dead transpiles; never one a container was created with while it exists; a
// start marks its component used; a container's create collects at most once a day. Ages are made
// by setting a directory's modification time back, which is what the collection reads as "last used".
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrunBin, run, tempDir, type Result } from '../helpers.js';
import { cannotRun, explain } from './engines/tools.js';
import type { OciSpec } from '../../src/oci/spec.js';

const skip = cannotRun(['crun']);
const HELLO = guest('hello.component');
const CLI = guest('comp_cli.component');
const EXIT = guest('comp_exit.component');
const MODULE = guest('eng_hello');
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const DAY = 86_400_000;
const OLD_TAG = 'jco-transpile@0.0.1.g1';

describe('the transpile cache is collected', { skip, timeout: 600_000 }, () => {
  const scratch = tempDir('hyrun-comp-gc-');
  const cache = join(scratch.path, 'cache');
  const env = { ...process.env, HYRUN_CACHE_DIR: cache, HYRUN_STORAGE: join(scratch.path, 'store') };
  const h = (args: string[]): Result => run(hyrunBin, args, { env, timeout: 180_000 });
  const must = (args: string[]): Result => {
    const r = h(args);
    assert.equal(r.status, 0, `hyrun ${args.join(' ')}: ${explain(r)}`);
    return r;
  };
  const containers: string[] = [];
  after(() => {
    for (const id of containers) h(['--root', join(scratch.path, 'state'), 'delete', '--force', id]);
    scratch.cleanup();
  });

  const top = join(cache, 'components');
  let tag = '';
  const entry = (digest: string, t = tag): string => join(top, t, digest);
  const age = (path: string, ms: number): void => {
    const t = (Date.now() - ms) / 1000;
    utimesSync(path, t, t);
  };
  const prune = (): string => must(['prune']).stdout;

  /** Creates (not starts) a crun container whose entrypoint is `file`: it registers, and a component is transpiled for it. */
  let seq = 0;
  function create(file: string): string {
    const id = `gc-${process.pid}-${++seq}`;
    const dir = join(scratch.path, `bundle-${seq}`);
    mkdirSync(join(dir, 'rootfs'), { recursive: true });
    copyFileSync(file, join(dir, 'rootfs', 'app.wasm'));
    assert.equal(run('crun', ['spec'], { cwd: dir }).status, 0);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as OciSpec;
    config.process!.terminal = false;
    config.process!.args = ['/app.wasm', '0'];
    config.annotations = { 'module.wasm.image/variant': 'compat' };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    // Its stdio is the container's: not pipes this test would wait on.
    const r = run(hyrunBin, ['--root', join(scratch.path, 'state'), '--delegate', 'crun', 'create', '--bundle', dir, id], { env, stdio: 'ignore', timeout: 180_000 });
    assert.equal(r.status, 0, `create ${file}`);
    containers.push(id);
    return id;
  }
  const remove = (id: string): void => {
    must(['--root', join(scratch.path, 'state'), 'delete', '--force', id]);
    containers.splice(containers.indexOf(id), 1);
  };

  test('prune: unused for 30 days, another transpiler unused for a day, dead temporaries; the rest stays', () => {
    must(['run', HELLO]);
    must(['run', CLI]);
    tag = readdirSync(top).filter((n) => !n.startsWith('.'))[0]!;
    assert.ok(existsSync(entry(sha(HELLO))) && existsSync(entry(sha(CLI))));
    const byFile = join(top, tag, '.by-file');
    assert.ok(readdirSync(byFile).some((r) => readFileSync(join(byFile, r), 'utf8') === sha(HELLO)), 'a remembered digest of hello');
    // Another hyrun's entries: one unused for two days, one used an hour ago.
    for (const [name, ms] of [['a'.repeat(64), 2 * DAY], ['b'.repeat(64), 3_600_000]] as const) {
      mkdirSync(entry(name, OLD_TAG), { recursive: true });
      writeFileSync(join(entry(name, OLD_TAG), 'meta.json'), '{}');
      age(entry(name, OLD_TAG), ms);
    }
    // A transpile that died two hours ago, and one under way.
    mkdirSync(join(top, tag, '.new-dead'));
    age(join(top, tag, '.new-dead'), 2 * 3_600_000);
    mkdirSync(join(top, tag, '.new-busy'));
    age(entry(sha(HELLO)), 31 * DAY);
    age(entry(sha(CLI)), 29 * DAY);

    assert.match(prune(), /^removed 2 transpiled components \(\d/m);
    assert.equal(existsSync(entry(sha(HELLO))), false, 'unused for 31 days: removed');
    assert.equal(existsSync(entry('a'.repeat(64), OLD_TAG)), false, 'another transpiler, unused for 2 days: removed');
    assert.ok(existsSync(entry(sha(CLI))), 'unused for 29 days: kept');
    assert.ok(existsSync(entry('b'.repeat(64), OLD_TAG)), 'another transpiler, used an hour ago: kept');
    assert.equal(existsSync(join(top, tag, '.new-dead')), false);
    assert.ok(existsSync(join(top, tag, '.new-busy')));
    assert.equal(readdirSync(byFile).some((r) => readFileSync(join(byFile, r), 'utf8') === sha(HELLO)), false, 'the remembered digest of a removed component is forgotten');
    // The next start transpiles it again.
    const again = run(hyrunBin, ['run', HELLO], { env: { ...env, HYRUN_TRACE_STARTUP: '1' } });
    assert.equal(again.status, 0, explain(again));
    assert.match(again.stderr, /component transpiled/);
  });

  test('a start marks its component used: an old one run again is kept', () => {
    age(entry(sha(CLI)), 31 * DAY);
    must(['run', CLI]);
    assert.ok(Date.now() - statSync(entry(sha(CLI))).mtimeMs < 3_600_000, 'the start did not mark it used');
    assert.match(prune(), /^removed 0 transpiled components/m);
    assert.ok(existsSync(entry(sha(CLI))));
  });

  test("a container's component is kept while the container exists, whatever its age", () => {
    const id = create(EXIT);
    assert.ok(existsSync(entry(sha(EXIT))), 'transpiled by create');
    age(entry(sha(EXIT)), 40 * DAY);
    assert.match(prune(), /^removed 0 transpiled components \([^)]*\); kept 1 that containers use$/m);
    assert.ok(existsSync(entry(sha(EXIT))));
    remove(id);
    assert.match(prune(), /^removed 1 transpiled components/m);
    assert.equal(existsSync(entry(sha(EXIT))), false);
  });

  test('a create collects at most once a day', () => {
    // The create above collected (no stamp yet) and stamped: a create now does not collect again.
    const stamp = join(cache, '.components-collected');
    assert.ok(existsSync(stamp), 'no stamp of a create-time collection');
    age(entry(sha(CLI)), 31 * DAY);
    age(entry('b'.repeat(64), OLD_TAG), 2 * DAY);
    remove(create(MODULE));
    assert.ok(existsSync(entry(sha(CLI))) && existsSync(entry('b'.repeat(64), OLD_TAG)), 'collected twice in a day');
    // A day later, the next create collects.
    age(stamp, DAY + 60_000);
    remove(create(MODULE));
    assert.equal(existsSync(entry(sha(CLI))), false);
    assert.equal(existsSync(join(top, OLD_TAG)), false, "another transpiler's emptied directory goes too");
    assert.ok(Date.now() - statSync(stamp).mtimeMs < 3_600_000);
    // components/ holds transpiler tags' directories only (other tools list it so).
    assert.ok(readdirSync(top).every((n) => statSync(join(top, n)).isDirectory()), readdirSync(top).join(' '));
  });
});
