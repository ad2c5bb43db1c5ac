// The runc-compatible lifecycle through hyrun with REAL crun and REAL runc as delegates (each test
// runs against both, forced with --delegate): create/start/state/kill/delete, pid files, ps, exec,
// pause/resume, list, and that the engine only ever sees the user's bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { hyrunBin, tempDir } from '../helpers.js';
import { haveBusybox, makeBusyboxBundle } from './fixtures/rootfs.js';
import { DELEGATES, delegateIds, hyrunEntries, oci, readIf, stateOf, waitFor } from './fixtures/oci.js';

const LOOP = 'echo started; trap "echo got-usr1" USR1; trap "echo got-hup" HUP; while true; do sleep 0.1; done';

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed (scripts/setup.sh --test)' : false;

  test(`${d.name}: create, start, state, kill (names and numbers), ps, exec, pause/resume, delete`, { skip, timeout: 180_000 }, async () => {
    const t = tempDir('hyrun-oci-');
    const o = oci(join(t.path, 'root'), d.path!);
    const id = 'life';
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sh', '-c', LOOP] });
      const configBefore = readFileSync(join(bundle, 'config.json'));
      const out = join(t.path, 'out.txt');
      const pidFile = join(t.path, 'init.pid');
      const fd = openSync(out, 'w');
      let r;
      try {
        r = o(['create', '--bundle', bundle, '--pid-file', pidFile, id], { stdio: ['ignore', fd, fd] });
      } finally {
        closeSync(fd);
      }
      assert.equal(r.status, 0, `create: ${readIf(out)}`);
      let s = stateOf(o, id);
      assert.equal(s.status, 'created');
      assert.equal(s.id, id);
      assert.equal(s.bundle, bundle, 'state shows the user bundle');
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      assert.equal(s.pid, pid, 'pid file = state.pid');
      assert.deepEqual(hyrunEntries(o.root), [id]);
      assert.deepEqual(delegateIds(o.root, d.path!), [id]);

      r = o(['start', id]);
      assert.equal(r.status, 0, r.stderr);
      await waitFor('the container to print "started"', () => readIf(out).includes('started'));
      assert.equal(stateOf(o, id).status, 'running');

      // Signals by name (with and without SIG) and by number.
      for (const [sig, expect, n] of [['USR1', 'got-usr1', 1], ['SIGUSR1', 'got-usr1', 2], ['10', 'got-usr1', 3], ['1', 'got-hup', 1]] as const) {
        r = o(['kill', id, sig]);
        assert.equal(r.status, 0, `kill ${sig}: ${r.stderr}`);
        await waitFor(`${expect} x${n} after kill ${sig}`, () => readIf(out).split(expect).length - 1 >= n);
      }

      r = o(['ps', '--format', 'json', id]);
      assert.equal(r.status, 0, r.stderr);
      const pids = JSON.parse(r.stdout) as number[];
      assert.ok(Array.isArray(pids) && pids.includes(pid), `ps json ${r.stdout} includes ${pid}`);

      // Foreground exec: output and exit code come back.
      r = o(['exec', id, 'sh', '-c', 'echo exec-out; echo exec-err >&2; exit 5']);
      assert.equal(r.status, 5, r.stderr);
      assert.equal(r.stdout.trim(), 'exec-out');
      assert.match(r.stderr, /exec-err/);
      r = o(['exec', '--env', 'GREETING=hi there', '--cwd', '/tmp', id, 'sh', '-c', 'echo "$GREETING in $(pwd)"']);
      assert.equal(r.stdout.trim(), 'hi there in /tmp', r.stderr);

      // --process FILE, as the shim and conmon call it.
      const procFile = join(t.path, 'process.json');
      const proc = JSON.parse(configBefore.toString()).process;
      writeFileSync(procFile, JSON.stringify({ ...proc, args: ['sh', '-c', 'echo from-process-file; exit 3'] }));
      r = o(['exec', '--process', procFile, id]);
      assert.equal(r.status, 3, r.stderr);
      assert.equal(r.stdout.trim(), 'from-process-file');

      // --detach with a pid file returns at once, leaving the process running in the container.
      const execPid = join(t.path, 'exec.pid');
      r = o(['exec', '--detach', '--pid-file', execPid, id, 'sleep', '1000'], { stdio: 'ignore' });
      assert.equal(r.status, 0);
      const ep = Number(readFileSync(execPid, 'utf8').trim());
      assert.ok(ep > 0 && existsSync(`/proc/${ep}`), `exec pid ${ep} is alive`);
      assert.match(readFileSync(`/proc/${ep}/cmdline`, 'utf8'), /sleep/);

      r = o(['pause', id]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(stateOf(o, id).status, 'paused');
      r = o(['resume', id]);
      assert.equal(r.status, 0, r.stderr);
      // runc 1.1 (cgroup v1 freezer) was seen, under load, to report "paused" for a moment after a
      // successful resume: wait for the thaw rather than sample once.
      await waitFor('status running after resume', () => stateOf(o, id).status === 'running');

      // list: the user's bundle, json and quiet.
      r = o(['list', '--format', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const listed = JSON.parse(r.stdout) as { id: string; bundle: string; status: string }[];
      assert.deepEqual(listed.map((e) => [e.id, e.bundle, e.status]), [[id, bundle, 'running']]);
      assert.equal(o(['list', '--quiet']).stdout, `${id}\n`);

      // delete without --force refuses a running container and keeps everything.
      r = o(['delete', id]);
      assert.notEqual(r.status, 0);
      assert.deepEqual(hyrunEntries(o.root), [id]);

      r = o(['kill', id, 'KILL']);
      assert.equal(r.status, 0, r.stderr);
      await waitFor('the container to stop', () => stateOf(o, id).status === 'stopped');
      // Signalling a stopped container: runc's words for both delegates (engines match on them).
      r = o(['kill', id, 'TERM']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /container not running/);
      r = o(['delete', id]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(hyrunEntries(o.root), []);
      assert.deepEqual(delegateIds(o.root, d.path!), []);
      assert.match(o(['state', id]).stderr, new RegExp(`container "${id}" does not exist`));
      assert.deepEqual(readFileSync(join(bundle, 'config.json')), configBefore, 'the user bundle is never modified');
    } finally {
      o(['delete', '--force', id]);
      t.cleanup();
    }
  });

  test(`${d.name}: run in the foreground passes output and the exit code, then leaves nothing`, { skip, timeout: 120_000 }, () => {
    const t = tempDir('hyrun-oci-');
    const o = oci(join(t.path, 'root'), d.path!);
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sh', '-c', 'echo to-out; echo to-err >&2; exit 7'] });
      const r = o(['run', '--bundle', bundle, 'fg']);
      assert.equal(r.status, 7, r.stderr);
      assert.equal(r.stdout.trim(), 'to-out');
      assert.match(r.stderr, /to-err/);
      assert.deepEqual(hyrunEntries(o.root), []);
      assert.deepEqual(delegateIds(o.root, d.path!), []);
      // --bundle defaults to the current directory.
      const r2 = o(['run', 'fg2'], { cwd: bundle });
      assert.equal(r2.status, 7, r2.stderr);
    } finally {
      o(['delete', '--force', 'fg']);
      o(['delete', '--force', 'fg2']);
      t.cleanup();
    }
  });

  test(`${d.name}: run --detach, then delete --force on the running container`, { skip, timeout: 120_000 }, async () => {
    const t = tempDir('hyrun-oci-');
    const o = oci(join(t.path, 'root'), d.path!);
    const id = 'detached';
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sleep', '1000'] });
      const pidFile = join(t.path, 'pid');
      const r = o(['run', '--detach', '--pid-file', pidFile, '--bundle', bundle, id], { stdio: 'ignore' });
      assert.equal(r.status, 0);
      const s = stateOf(o, id);
      assert.equal(s.status, 'running');
      assert.equal(s.pid, Number(readFileSync(pidFile, 'utf8')));
      const del = o(['delete', '--force', id]);
      assert.equal(del.status, 0, del.stderr);
      assert.deepEqual(hyrunEntries(o.root), []);
      assert.deepEqual(delegateIds(o.root, d.path!), []);
      await waitFor('the container process to go', () => !existsSync(`/proc/${s.pid}/cmdline`) || readFileSync(`/proc/${s.pid}/cmdline`, 'utf8') === '');
      // As runc: --force on something that is not there is fine (engines retry deletes).
      assert.equal(o(['delete', '--force', id]).status, 0);
    } finally {
      o(['delete', '--force', id]);
      t.cleanup();
    }
  });

  test(`${d.name}: --preserve-fds hands extra fds to the container`, { skip, timeout: 120_000 }, () => {
    const t = tempDir('hyrun-oci-');
    const o = oci(join(t.path, 'root'), d.path!);
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sh', '-c', 'echo via-fd3 >&3'] });
      const extra = join(t.path, 'fd3.txt');
      const fd = openSync(extra, 'w');
      let r;
      try {
        r = o(['run', '--preserve-fds', '1', '--bundle', bundle, 'fds'], { stdio: ['ignore', 'pipe', 'pipe', fd] });
      } finally {
        closeSync(fd);
      }
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(extra, 'utf8').trim(), 'via-fd3');
    } finally {
      o(['delete', '--force', 'fds']);
      t.cleanup();
    }
  });

  // crun 1.8.1 accepts at most 1.1.0: both a patch level above it and a newer minor must run.
  for (const version of ['1.1.1', '1.2.0']) test(`${d.name}: config with ociVersion ${version} runs, the user's config untouched`, { skip, timeout: 120_000 }, () => {
    const t = tempDir('hyrun-oci-');
    const o = oci(join(t.path, 'root'), d.path!);
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { ociVersion: version, args: ['sh', '-c', 'exit 4'] });
      const before = readFileSync(join(bundle, 'config.json'));
      const r = o(['run', '--bundle', bundle, `v${version.replace(/\./g, '')}`]);
      assert.equal(r.status, 4, r.stderr);
      assert.deepEqual(readFileSync(join(bundle, 'config.json')), before);
      assert.deepEqual(hyrunEntries(o.root), []);
    } finally {
      o(['delete', '--force', `v${version.replace(/\./g, '')}`]);
      t.cleanup();
    }
  });

  test(`${d.name}: features and spec`, { skip, timeout: 60_000 }, () => {
    const t = tempDir('hyrun-oci-');
    const o = oci(join(t.path, 'root'), d.path!);
    try {
      const r = o(['features']);
      assert.equal(r.status, 0, r.stderr);
      const f = JSON.parse(r.stdout);
      assert.equal(typeof f.ociVersionMin, 'string');
      assert.equal(typeof f.ociVersionMax, 'string');
      assert.equal(f.annotations['run.oci.hyrun.wasm'], 'true');
      for (const k of ['module.wasm.image/variant', 'run.oci.handler', 'io.kubernetes.cri.container-type', 'io.kubernetes.cri-o.ContainerType']) {
        assert.ok(f.potentiallyUnsafeConfigAnnotations.includes(k), k);
      }
      const s = o(['spec', '--bundle', t.path]);
      assert.equal(s.status, 0, s.stderr);
      const spec = JSON.parse(readFileSync(join(t.path, 'config.json'), 'utf8'));
      assert.equal(typeof spec.ociVersion, 'string');
      assert.ok(Array.isArray(spec.process.args));
    } finally {
      t.cleanup();
    }
  });
}

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed' : false;

  test(`${d.name}: a foreground run gets hyrun's SIGTERM and its exit code comes back`, { skip, timeout: 120_000 }, async () => {
    const t = tempDir('hyrun-oci-');
    const root = join(t.path, 'root');
    const o = oci(root, d.path!);
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), {
        args: ['sh', '-c', 'trap "echo got-term; exit 42" TERM; echo ready; while true; do sleep 0.1; done'],
      });
      const child = spawn(hyrunBin, ['--root', root, '--delegate', d.path!, 'run', '--bundle', bundle, 'sig'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
      child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
      const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      try {
        await waitFor('the container to be ready', () => out.includes('ready'));
        child.kill('SIGTERM');
        assert.equal(await exited, 42, out);
        assert.match(out, /got-term/);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      assert.deepEqual(hyrunEntries(root), []);
    } finally {
      o(['delete', '--force', 'sig']);
      t.cleanup();
    }
  });

  test(`${d.name}: update --resources - (stdin), kill --all, and a wiped delegate root`, { skip, timeout: 120_000 }, async () => {
    const t = tempDir('hyrun-oci-');
    const root = join(t.path, 'root');
    const o = oci(root, d.path!);
    const id = 'upd';
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'] });
      assert.equal(o(['run', '--detach', '--bundle', bundle, id], { stdio: 'ignore' }).status, 0);
      const pid = Number(stateOf(o, id).pid);
      const pidsCgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /^\d+:([^:]*,)?pids(,[^:]*)?:/.test(l));
      let r = o(['update', '--resources', '-', id], { input: JSON.stringify({ pids: { limit: 77 } }) });
      assert.equal(r.status, 0, r.stderr);
      if (pidsCgroup) {
        const path = pidsCgroup.split(':').slice(2).join(':');
        assert.equal(readFileSync(join('/sys/fs/cgroup/pids', path, 'pids.max'), 'utf8').trim(), '77');
      }
      r = o(['update', '--resources', join(t.path, 'missing.json'), id]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /resources file .*missing\.json does not exist/);

      r = o(['kill', '--all', id, 'KILL']);
      assert.equal(r.status, 0, r.stderr);
      await waitFor('the container to stop', () => stateOf(o, id).status === 'stopped');

      // The delegate forgot the container (its root wiped): engines get "does not exist", and delete
      // still removes hyrun's side.
      assert.equal(o(['delete', id]).status, 0);
      assert.equal(o(['run', '--detach', '--bundle', bundle, id], { stdio: 'ignore' }).status, 0);
      o(['kill', id, 'KILL']);
      await waitFor('the container to stop', () => stateOf(o, id).status === 'stopped');
      spawnSync(d.path!, ['--root', join(root, '@' + d.path!.split('/').pop()), 'delete', '--force', id]);
      assert.match(o(['state', id]).stderr, /container "upd" does not exist/);
      assert.equal(o(['delete', id]).status, 0);
      assert.deepEqual(hyrunEntries(root), []);
    } finally {
      o(['delete', '--force', id]);
      t.cleanup();
    }
  });
}

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed' : false;
  test(`${d.name}: run --keep keeps the stopped container (runc) or is refused up front (crun)`, { skip, timeout: 120_000 }, () => {
    const t = tempDir('hyrun-oci-');
    const root = join(t.path, 'root');
    const o = oci(root, d.path!);
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sh', '-c', 'exit 6'] });
      const r = o(['run', '--keep', '--bundle', bundle, 'kept']);
      if (d.name === 'crun') {
        assert.equal(r.status, 1);
        assert.match(r.stderr, /run --keep is not supported with crun/);
        assert.deepEqual(hyrunEntries(root), []);
        return;
      }
      assert.equal(r.status, 6, r.stderr);
      const s = stateOf(o, 'kept');
      assert.equal(s.status, 'stopped');
      assert.equal(s.bundle, bundle);
      assert.equal(o(['delete', 'kept']).status, 0);
      assert.deepEqual(hyrunEntries(root), []);
      assert.deepEqual(delegateIds(root, d.path!), []);
    } finally {
      o(['delete', '--force', 'kept']);
      t.cleanup();
    }
  });
}
