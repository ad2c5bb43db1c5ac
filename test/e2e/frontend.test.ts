// bin/hyrun, the POSIX sh front end: which calls it hands straight to the delegate and which go to
// the TypeScript CLI. The proof of "without node": HYRUN_NODE names a node that does not exist (the
// front end never takes node from PATH, and a PATH without node is kept too): a call the front end
// serves itself works; a call it must hand over fails with its "HYRUN_NODE … is not an executable
// file" line (status 125) and leaves nothing behind. Real crun and runc, as the engines call them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, existsSync, openSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { guest, hyrunBin, run, tempDir, type Result } from '../helpers.js';
import { haveBusybox, makeBusyboxBundle } from './fixtures/rootfs.js';
import { DELEGATES, delegateIds, hyrunEntries, lastLogLine } from './fixtures/oci.js';

const NO_NODE = /^hyrun: HYRUN_NODE=\/nonexistent\/node is not an executable file/m;
/** The environment of a call that must not reach node. */
const noNode = (env: Record<string, string>): Record<string, string> => ({ ...env, HYRUN_NODE: '/nonexistent/node' });

/** A PATH holding only what the front end itself may run (sh, grep, mkdir, rm, readlink), ps and the delegates. */
function toolsWithoutNode(dir: string): string {
  mkdirSync(dir, { recursive: true });
  // ps: runc's `ps` runs it.
  for (const tool of ['/bin/sh', '/usr/bin/grep', '/usr/bin/mkdir', '/usr/bin/rm', '/usr/bin/readlink', '/usr/bin/ps']) {
    symlinkSync(tool, join(dir, tool.split('/').pop()!));
  }
  for (const d of DELEGATES) if (d.path) symlinkSync(d.path, join(dir, d.name));
  return dir;
}

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed (scripts/setup.sh --test)' : false;

  test(`${d.name}: a Linux container's whole lifecycle runs without node`, { skip, timeout: 120_000 }, () => {
    const t = tempDir('hyrun-fe-');
    const root = join(t.path, 'root');
    const tools = toolsWithoutNode(join(t.path, 'tools'));
    const log = join(t.path, 'log.json');
    const h = (args: string[], withNode = false): Result =>
      run(hyrunBin, ['--root', root, '--delegate', d.path!, '--log', log, '--log-format', 'json', ...args], { env: withNode ? { PATH: tools } : noNode({ PATH: tools }), stdio: ['ignore', 'pipe', 'pipe'] });
    const id = `fe-life-${d.name}`;
    try {
      mkdirSync(root, { mode: 0o700 });
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sleep', '1000'] });
      let r = run(hyrunBin, ['--root', root, '--delegate', d.path!, 'create', '--bundle', bundle, '--pid-file', join(t.path, 'pid'), id],
        { env: noNode({ PATH: tools }), stdio: 'ignore' });
      assert.equal(r.status, 0, 'create');
      // The front end's record: the route alone (the CLI would also have written hyrun.json).
      assert.equal(readFileSync(join(root, id, 'route'), 'utf8'), `linux ${d.name} ${d.path}\n${bundle}\n`);
      assert.equal(existsSync(join(root, id, 'hyrun.json')), false);
      const pid = Number(readFileSync(join(t.path, 'pid'), 'utf8'));

      r = h(['start', id]);
      assert.equal(r.status, 0, r.stderr);
      r = h(['state', id]);
      assert.equal(r.status, 0, r.stderr);
      const state = JSON.parse(r.stdout) as { status: string; pid: number; bundle: string };
      assert.deepEqual([state.status, state.pid, state.bundle], ['running', pid, bundle]);
      r = h(['ps', '--format', 'json', id]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok((JSON.parse(r.stdout) as number[]).includes(pid), r.stdout);

      const proc = join(t.path, 'proc.json');
      writeFileSync(proc, JSON.stringify({ args: ['echo', 'from exec'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } }));
      r = h(['exec', '--process', proc, id]);
      assert.deepEqual([r.status, r.stdout], [0, 'from exec\n'], r.stderr);

      // Pause and resume: crun says paused; runc's state of a paused container says so too.
      assert.equal(h(['pause', id]).status, 0);
      assert.equal(JSON.parse(h(['state', id]).stdout).status, 'paused');
      assert.equal(h(['resume', id]).status, 0);

      r = h(['kill', id, 'KILL']);
      assert.equal(r.status, 0, r.stderr);
      for (let i = 0; i < 100 && JSON.parse(h(['state', id]).stdout).status !== 'stopped'; i++) run('sleep', ['0.05']);
      assert.equal(JSON.parse(h(['state', id]).stdout).status, 'stopped');

      // A kill that fails is the CLI's to word ("container not running", as engines expect): without
      // node it is handed over and fails for that reason; with node, the engines' wording.
      r = h(['kill', id, 'TERM']);
      assert.equal(r.status, 125);
      assert.match(r.stderr, NO_NODE);
      r = h(['kill', id, 'TERM'], true);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /container not running/);
      const last = lastLogLine(log);
      assert.deepEqual([last.level, last.msg], ['error', 'container not running']);

      r = h(['delete', id]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(hyrunEntries(root), []);
      assert.deepEqual(delegateIds(root, d.path!), []);
    } finally {
      run(hyrunBin, ['--root', root, 'delete', '--force', id]);
      t.cleanup();
    }
  });

  test(`${d.name}: calls that need a decision go to the CLI untouched, and leave nothing behind`, { skip, timeout: 120_000 }, () => {
    const t = tempDir('hyrun-fe-');
    const root = join(t.path, 'root');
    const tools = toolsWithoutNode(join(t.path, 'tools'));
    const binDir = join(t.path, 'bin');
    mkdirSync(binDir);
    // hyrun-wasm: a symlink, as installed (bin/hyrun-wasm -> hyrun).
    symlinkSync(hyrunBin, join(binDir, 'hyrun-wasm'));
    const handedOver = (args: string[], bin = hyrunBin): void => {
      const r = run(bin, ['--root', root, '--delegate', d.path!, ...args], { env: noNode({ PATH: tools }), stdio: ['ignore', 'pipe', 'pipe'] });
      assert.equal(r.status, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, NO_NODE, args.join(' '));
    };
    const linuxId = `fe-linux-${d.name}`;
    try {
      mkdirSync(root, { mode: 0o700 });
      const make = (name: string, o: Parameters<typeof makeBusyboxBundle>[1]): string => makeBusyboxBundle(join(t.path, name), { args: ['sleep', '1000'], ...o });
      handedOver(['create', '--bundle', make('wasm', { annotations: { 'module.wasm.image/variant': 'compat' } }), 'fe-w1']);
      handedOver(['create', '--bundle', make('smart', { annotations: { 'run.oci.handler': 'wasm-smart' } }), 'fe-w2']);
      handedOver(['create', '--bundle', make('v12', { ociVersion: '1.2.0' }), 'fe-v12']);
      // A backslash could spell "wasm" in a JSON escape (\u0077asm): the front end cannot tell.
      handedOver(['create', '--bundle', make('escaped', { env: ['X=a\\u0077asm'] }), 'fe-esc']);
      const plain = make('plain', {});
      handedOver(['create', '--bundle', plain, 'fe-wasmname'], join(binDir, 'hyrun-wasm'));
      handedOver(['create', '--no-such-flag', '--bundle', plain, 'fe-flag']);
      handedOver(['run', '--bundle', plain, 'fe-run']);
      handedOver(['run', '/x/hello.wasm']);
      handedOver(['state', 'fe-unknown']);
      handedOver(['list']);
      assert.deepEqual(hyrunEntries(root), [], 'nothing was created');

      // A Linux container (created by the front end): --debug, exec's command-line form and
      // update go to the CLI; so does a Wasm container's state.
      assert.equal(run(hyrunBin, ['--root', root, '--delegate', d.path!, 'create', '--bundle', plain, linuxId], { env: noNode({ PATH: tools }), stdio: 'ignore' }).status, 0);
      handedOver(['--debug', 'state', linuxId]);
      handedOver(['exec', linuxId, 'true']);
      handedOver(['update', '--memory', '100000000', linuxId]);
      handedOver(['kill', linuxId, 'SIGNOPE']);
      // A Wasm container's record (route "wasm"): start/kill/pause/resume/ps are the delegate's,
      // state/delete/exec the CLI's. The route is edited here to stand for one without node.
      const route = join(root, linuxId, 'route');
      writeFileSync(route, readFileSync(route, 'utf8').replace(/^linux /, 'wasm '));
      handedOver(['state', linuxId]);
      handedOver(['delete', '--force', linuxId]);

      // A real Wasm container, created by the CLI: crun (no Wasm handler of its own) was given the
      // user's bundle and annotations, so its state is the engine's view and needs no node; runc's
      // goes to the CLI (its bundle is hyrun's private one).
      const wasmBundle = make('wasm-real', { args: ['/hello.wasm'], annotations: { 'module.wasm.image/variant': 'compat', 'io.example/keep': 'yes' } });
      copyFileSync(guest('eng_hello'), join(wasmBundle, 'rootfs/hello.wasm'));
      const wasmId = `fe-wasm-${d.name}`;
      // The container's process keeps create's stdio open: a file, not a pipe, or create never "ends".
      const errFile = join(t.path, 'create.err');
      const errFd = openSync(errFile, 'w');
      const created = run(hyrunBin, ['--root', root, '--delegate', d.path!, 'create', '--bundle', wasmBundle, wasmId], { stdio: ['ignore', errFd, errFd] });
      closeSync(errFd);
      assert.equal(created.status, 0, readFileSync(errFile, 'utf8'));
      try {
        if (d.name === 'crun') {
          const st = run(hyrunBin, ['--root', root, '--delegate', d.path!, 'state', wasmId], { env: noNode({ PATH: tools }), stdio: ['ignore', 'pipe', 'pipe'] });
          assert.equal(st.status, 0, st.stderr);
          const view = JSON.parse(st.stdout) as { id: string; status: string; bundle: string; annotations: Record<string, string> };
          assert.equal(view.id, wasmId);
          assert.equal(view.status, 'created');
          assert.equal(view.bundle, wasmBundle);
          assert.deepEqual(view.annotations, { 'module.wasm.image/variant': 'compat', 'io.example/keep': 'yes' });
          // The same answer the CLI gives.
          const cli = run(hyrunBin, ['--root', root, '--delegate', d.path!, '--debug', 'state', wasmId], { stdio: ['ignore', 'pipe', 'pipe'] });
          assert.deepEqual(JSON.parse(cli.stdout), view);
        } else {
          handedOver(['state', wasmId]);
        }
      } finally {
        run(hyrunBin, ['--root', root, 'delete', '--force', wasmId]);
      }
      const r = run(hyrunBin, ['--root', root, 'ps', linuxId], { env: noNode({ PATH: tools }), stdio: ['ignore', 'pipe', 'pipe'] });
      assert.equal(r.status, 0, r.stderr);
    } finally {
      run(hyrunBin, ['--root', root, 'delete', '--force', linuxId]);
      // The route was edited to say "wasm" without the CLI's record, so hyrun's delete may refuse it:
      // the delegate deletes its container itself, or its init would outlive the test's directory.
      run(d.path!, ['--root', join(root, `@${basename(d.path!)}`), 'delete', '--force', linuxId]);
      t.cleanup();
    }
  });

  test(`${d.name}: global flags in the engines' forms reach the delegate; a failed create leaves nothing`, { skip, timeout: 120_000 }, () => {
    const t = tempDir('hyrun-fe-');
    const root = join(t.path, 'root');
    const tools = toolsWithoutNode(join(t.path, 'tools'));
    const log = join(t.path, 'log.json');
    const id = `fe-flags-${d.name}`;
    const h = (args: string[]): Result => run(hyrunBin, args, { env: noNode({ PATH: tools, HYRUN_DELEGATE: d.path! }), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      mkdirSync(root, { mode: 0o700 });
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), { args: ['sleep', '1000'] });
      assert.equal(run(hyrunBin, [`--root=${root}`, '--cgroup-manager=cgroupfs', 'create', `--bundle=${bundle}`, id], { env: noNode({ PATH: tools, HYRUN_DELEGATE: d.path! }), stdio: 'ignore' }).status, 0);
      for (const globals of [['--root', root], [`--root=${root}`], ['--root', root, '--log-format', 'json'], ['--root', root, '--log', log, '--log-format=json'],
        ['--root', root, '--cgroup-manager', 'cgroupfs'], ['--root', root, '--systemd-cgroup=false'], ['--criu', 'x', '--root', root]]) {
        const r = h([...globals, 'state', id]);
        assert.equal(r.status, 0, `${globals.join(' ')}: ${r.stderr}`);
        assert.equal(JSON.parse(r.stdout).status, 'created', globals.join(' '));
      }
      // A refusal of the delegate's own goes to the engine's log as a JSON error line.
      assert.equal(h(['--root', root, '--log', log, '--log-format', 'json', 'start', id]).status, 0);
      const again = h(['--root', root, '--log', log, '--log-format', 'json', 'start', id]);
      assert.notEqual(again.status, 0);
      assert.equal(lastLogLine(log).level, 'error');
      assert.equal(h(['--root', root, 'kill', id, '9']).status, 0);

      // The delegate refuses the create (no such executable): its error, and nothing left.
      const broken = makeBusyboxBundle(join(t.path, 'broken'), { args: ['/no/such/binary'] });
      const r = h(['--root', root, '--log', log, '--log-format', 'json', 'create', '--bundle', broken, 'fe-broken']);
      assert.notEqual(r.status, 0);
      assert.match(lastLogLine(log).msg, /no\/such\/binary|no such file/i);
      assert.equal(existsSync(join(root, 'fe-broken')), false);
      assert.equal(delegateIds(root, d.path!).includes('fe-broken'), false);
    } finally {
      run(hyrunBin, ['--root', root, 'delete', '--force', id]);
      run(hyrunBin, ['--root', root, 'delete', '--force', 'fe-broken']);
      t.cleanup();
    }
  });
}

test('bin/hyrun reached through a symlinked directory, or through a symlink to it, finds its CLI', () => {
  const t = tempDir('hyrun-fe-');
  try {
    const linkedDir = join(t.path, 'linked-bin');
    symlinkSync(join(hyrunBin, '..'), linkedDir);
    const linkedFile = join(t.path, 'hyrun');
    symlinkSync(hyrunBin, linkedFile);
    for (const bin of [join(linkedDir, 'hyrun'), linkedFile]) {
      const r = run(bin, ['--version'], { cwd: t.path, stdio: ['ignore', 'pipe', 'pipe'] });
      assert.equal(r.status, 0, `${bin}: ${r.stderr}`);
      assert.match(r.stdout, /^hyrun version \d+\.\d+\.\d+/, bin);
    }
  } finally {
    t.cleanup();
  }
});
