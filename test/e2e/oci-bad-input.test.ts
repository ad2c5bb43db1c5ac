// Bad input (issue B §6) against real crun and runc: one clear line on stderr and as the last JSON
// error line of --log, a non-zero exit, and nothing left behind (hyrun state, delegate state, cgroups).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hyrun, hyrunBin, tempDir, type Result } from '../helpers.js';
import { driveTty } from './engines/tty.js';
import { haveBusybox, makeBusyboxBundle } from './fixtures/rootfs.js';
import { DELEGATES, delegateIds, hyrunEntries, lastLogLine, oci, stateOf } from './fixtures/oci.js';

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** The rule for every refusal: exit != 0, one stderr line, the same message last in the JSON log. */
function assertRefused(r: Result, log: string, msg: RegExp): void {
  assert.notEqual(r.status, 0, `should fail: ${r.stdout}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0]!, msg);
  const last = lastLogLine(log);
  assert.equal(last.level, 'error');
  assert.match(last.msg, msg);
  assert.match(last.time, RFC3339);
}

/** cgroup directories (any hierarchy) whose name mentions the id. */
function cgroupsNamed(id: string): string[] {
  const out = execFileSync('sh', ['-c', `find /sys/fs/cgroup -maxdepth 4 -type d -name '*${id}*' 2>/dev/null || true`], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed (scripts/setup.sh --test)' : false;

  test(`${d.name}: bundle problems are one clear line and leave nothing`, { skip, timeout: 120_000 }, () => {
    const t = tempDir('hyrun-bad-');
    const log = join(t.path, 'log.json');
    const root = join(t.path, 'root');
    const o = oci(root, d.path!, ['--log', log, '--log-format', 'json']);
    const clean = (id: string) => {
      assert.deepEqual(hyrunEntries(root), [], 'no hyrun state left');
      assert.deepEqual(delegateIds(root, d.path!), [], 'the delegate has no container');
      assert.deepEqual(cgroupsNamed(id), [], 'no cgroup left');
    };
    try {
      const empty = join(t.path, 'empty');
      mkdirSync(empty);
      assertRefused(o(['create', '--bundle', empty, 'badcfg1']), log, /config .*empty\/config\.json does not exist/);
      clean('badcfg1');

      assertRefused(o(['create', '--bundle', join(t.path, 'nowhere'), 'badcfg2']), log, /bundle .*nowhere does not exist/);
      clean('badcfg2');

      const broken = makeBusyboxBundle(join(t.path, 'broken'));
      writeFileSync(join(broken, 'config.json'), '{\n  "ociVersion": "1.0.2",\n  "process": {"args": ["sh"],}\n}\n');
      assertRefused(o(['create', '--bundle', broken, 'badcfg3']), log, /config .*broken\/config\.json is not valid JSON: .*line 3 column \d+/);
      clean('badcfg3');

      const noRootPath = makeBusyboxBundle(join(t.path, 'noroot'), { edit: (c) => { delete c.root; } });
      assertRefused(o(['create', '--bundle', noRootPath, 'badcfg4']), log, /"root\.path" is missing/);
      clean('badcfg4');

      const missingRootfs = makeBusyboxBundle(join(t.path, 'norootfs'), { edit: (c) => { c.root = { path: 'not-there' }; } });
      assertRefused(o(['run', '--bundle', missingRootfs, 'badcfg5']), log, /rootfs .*not-there .*does not exist/);
      clean('badcfg5');

      // The delegate itself refuses (no such executable in the rootfs): its error reaches the engine,
      // and hyrun removes what it made.
      const noExe = makeBusyboxBundle(join(t.path, 'noexe'), { args: ['/no/such/binary'] });
      const r = o(['run', '--bundle', noExe, 'badexe6']);
      assert.notEqual(r.status, 0);
      assert.match(lastLogLine(log).msg, /no\/such\/binary|no such file/i);
      clean('badexe6');
    } finally {
      for (const id of ['badcfg1', 'badcfg2', 'badcfg3', 'badcfg4', 'badcfg5', 'badexe6']) o(['delete', '--force', id]);
      t.cleanup();
    }
  });

  test(`${d.name}: unknown and duplicate ids, bad signals and flags`, { skip, timeout: 120_000 }, () => {
    const t = tempDir('hyrun-bad-');
    const log = join(t.path, 'log.json');
    const root = join(t.path, 'root');
    const o = oci(root, d.path!, ['--log', log, '--log-format', 'json']);
    try {
      for (const args of [['state', 'nope'], ['start', 'nope'], ['kill', 'nope', 'KILL'], ['delete', 'nope'], ['pause', 'nope'],
        ['resume', 'nope'], ['ps', 'nope'], ['exec', 'nope', 'true'], ['update', '--memory', '100000000', 'nope']]) {
        const r = o(args);
        assertRefused(r, log, /container "nope" does not exist$/);
        assert.equal(r.status, 1, args.join(' '));
      }

      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sleep', '1000'] });
      assert.equal(o(['create', '--bundle', bundle, 'dup'], { stdio: 'ignore' }).status, 0);
      assertRefused(o(['create', '--bundle', bundle, 'dup'], { stdio: ['ignore', 'pipe', 'pipe'] }), log, /container with id exists: dup/);
      assert.equal(stateOf(o, 'dup').status, 'created', 'the first container is untouched');
      assert.deepEqual(hyrunEntries(root), ['dup']);

      assertRefused(o(['kill', 'dup', 'SIGNOPE']), log, /invalid signal "SIGNOPE"/);
      assertRefused(o(['create', '--frobnicate', '--bundle', bundle, 'x']), log, /create: unknown flag --frobnicate/);
      assertRefused(o(['create', '--bundle', bundle, 'bad/id']), log, /invalid container id "bad\/id"/);
      assertRefused(o(['start']), log, /missing container id/);
      assertRefused(o(['frobnicate', 'x']), log, /unknown command "frobnicate"/);

      assert.equal(o(['delete', '--force', 'dup']).status, 0);
      assert.deepEqual(hyrunEntries(root), []);
      assert.deepEqual(delegateIds(root, d.path!), []);
    } finally {
      o(['delete', '--force', 'dup']);
      t.cleanup();
    }
  });
}

test('a missing delegate (HYRUN_DELEGATE=/nonexistent) is one clear line and leaves nothing', { skip: !haveBusybox() && 'busybox-static is not installed', timeout: 60_000 }, () => {
  const t = tempDir('hyrun-bad-');
  const log = join(t.path, 'log.json');
  const root = join(t.path, 'root');
  try {
    const bundle = makeBusyboxBundle(join(t.path, 'bundle'));
    const r = hyrun(['--root', root, '--log', log, '--log-format', 'json', 'create', '--bundle', bundle, 'nodelegate'],
      { env: { ...process.env, HYRUN_DELEGATE: '/nonexistent' } });
    assertRefused(r, log, /delegate runtime \/nonexistent not found/);
    assert.deepEqual(hyrunEntries(root), []);
  } finally {
    t.cleanup();
  }
});

test('with --log-format text (the default) the refusal is a logrus-style line in the log', { timeout: 60_000 }, () => {
  const t = tempDir('hyrun-bad-');
  const log = join(t.path, 'log.txt');
  try {
    const r = hyrun(['--root', join(t.path, 'root'), '--log', log, 'state', 'ghost']);
    assert.equal(r.status, 1);
    // Captured by a program (as an engine does): the bare message, since the engine names the runtime.
    assert.equal(r.stderr, 'container "ghost" does not exist\n');
    assert.match(readFileSync(log, 'utf8'), /^time="[^"]+" level=error msg="container \\"ghost\\" does not exist"\n$/);
    // On a terminal, a person is told who speaks.
    const tty = driveTty([hyrunBin, '--root', join(t.path, 'root'), 'state', 'ghost'], '', '');
    assert.match(tty.output, /^hyrun: container "ghost" does not exist\r?\n/m);
    assert.equal(tty.status, 1);
  } finally {
    t.cleanup();
  }
});

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed' : false;
  test(`${d.name}: two creates racing for one id: exactly one wins, the other changes nothing`, { skip, timeout: 120_000 }, async () => {
    const t = tempDir('hyrun-bad-');
    const root = join(t.path, 'root');
    const o = oci(root, d.path!);
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sleep', '1000'] });
      // stderr goes to a file and we wait for 'exit', not 'close': the winner's container inherits
      // the stdio and keeps it open until it is deleted.
      const start = (n: number) => new Promise<{ code: number | null; err: string }>((res) => {
        const errFile = join(t.path, `err${n}`);
        const fd = openSync(errFile, 'w');
        const c = spawn(hyrunBin, ['--root', root, '--delegate', d.path!, 'create', '--bundle', bundle, 'race'], { stdio: ['ignore', 'ignore', fd] });
        closeSync(fd);
        c.on('exit', (code) => res({ code, err: readFileSync(errFile, 'utf8') }));
      });
      const results = await Promise.all([start(1), start(2)]);
      const ok = results.filter((r) => r.code === 0);
      assert.equal(ok.length, 1, JSON.stringify(results));
      assert.match(results.find((r) => r.code !== 0)!.err, /container with id exists: race/);
      assert.equal(stateOf(o, 'race').status, 'created');
      assert.deepEqual(hyrunEntries(root), ['race']);
      assert.equal(o(['delete', '--force', 'race']).status, 0);
      assert.deepEqual(delegateIds(root, d.path!), []);
    } finally {
      o(['delete', '--force', 'race']);
      t.cleanup();
    }
  });
}
