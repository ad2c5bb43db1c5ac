// `hyrun install` against config files in temporary directories (no daemon: the CRI e2e tests prove
// the written configs with real containerd and CRI-O). Runs the built bin/hyrun as a user would.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from '@decimalturn/toml-patch';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const parse = (text: string): any => JSON.parse(JSON.stringify(parseToml(text)));
import { hyrun, tempDir, type Result } from '../helpers.js';
import { pathMatch, passedKeys, BadPatternError } from '../../src/engine/path-match.js';
import { unifiedDiff } from '../../src/engine/diff.js';

const explain = (r: Result): string => `status ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** Every file under `dir` with its content (symlinks as their target), for before/after comparisons. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, n.name);
      if (n.isDirectory()) { out[`${p}/`] = ''; walk(p); } else if (n.isSymbolicLink()) out[p] = `-> ${p}`; else out[p] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

const V2_DEFAULT = spawnSync('containerd', ['config', 'default'], { encoding: 'utf8' }).stdout;

const V3_MINIMAL = `# containerd 2.x, as an operator trimmed it
version = 3
root = "/var/lib/containerd" # keep this comment

[plugins."io.containerd.cri.v1.runtime".containerd]
  default_runtime_name = "runc"

  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"

    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
      SystemdCgroup = true
`;

function setup(text: string | undefined): { dir: string; config: string; prefix: string; cleanup: () => void; install: (...args: string[]) => Result } {
  const t = tempDir('hyrun-install-');
  const config = join(t.path, 'etc/config.toml');
  mkdirSync(join(t.path, 'etc'));
  if (text !== undefined) writeFileSync(config, text);
  const prefix = join(t.path, 'prefix');
  return {
    dir: t.path, config, prefix, cleanup: t.cleanup,
    install: (...args) => hyrun(['install', 'containerd', '--config', config, '--prefix', prefix, ...args]),
  };
}

describe("Go's path.Match, as containerd applies annotation patterns", () => {
  test('the trap: * never crosses "/"', () => {
    assert.equal(pathMatch('module.wasm.image/*', 'module.wasm.image/variant'), true);
    assert.equal(pathMatch('module.wasm.image/variant.*', 'module.wasm.image/variant'), false);
    assert.equal(pathMatch('*.wasm.*', 'module.wasm.image/variant'), false);
    assert.equal(pathMatch('*', 'module.wasm.image/variant'), false);
    assert.equal(pathMatch('*/*', 'module.wasm.image/variant'), true);
    assert.equal(pathMatch('run.oci.*', 'run.oci.handler'), true);
    assert.equal(pathMatch('io.hyrun.*', 'io.hyrun.tcp-listen'), true);
  });
  test('? [] ranges, negation and escapes; bad patterns', () => {
    assert.equal(pathMatch('a?c', 'abc'), true);
    assert.equal(pathMatch('a?c', 'a/c'), false);
    assert.equal(pathMatch('[a-c]x', 'bx'), true);
    assert.equal(pathMatch('[^a-c]x', 'bx'), false);
    assert.equal(pathMatch('[^a-c]x', 'dx'), true);
    assert.equal(pathMatch('a\\*b', 'a*b'), true);
    assert.equal(pathMatch('a\\*b', 'axb'), false);
    assert.throws(() => pathMatch('[abc', 'a'), BadPatternError);
    assert.throws(() => pathMatch('ab\\', 'ab'), BadPatternError);
    assert.deepEqual(passedKeys(['module.wasm.image/variant.*', '[bad'], ['module.wasm.image/variant']), []);
  });
});

test('unifiedDiff: hunks in diff -u shape', () => {
  const d = unifiedDiff('f', 'a\nb\nc\n', 'a\nB\nc\n');
  assert.equal(d, '--- f\n+++ f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
  assert.equal(unifiedDiff('f', 'same\n', 'same\n'), '');
  assert.match(unifiedDiff('f', undefined, 'new\n'), /^--- \/dev\/null\n\+\+\+ f\n@@ -0,0 \+1,1 @@\n\+new\n$/);
});

describe('hyrun install containerd', () => {
  test('version 2 (containerd 1.6/1.7): --dry-run shows the diff and writes nothing; install, again, uninstall byte for byte', () => {
    const s = setup(V2_DEFAULT);
    try {
      const before = snapshot(s.dir);
      const dry = s.install('--dry-run');
      assert.equal(dry.status, 0, explain(dry));
      assert.match(dry.stdout, /^\+\+\+ .*etc\/config\.toml$/m);
      assert.match(dry.stdout, /^\+ +hyrun = \{runtime_type = "io\.containerd\.runc\.v2"/m);
      assert.deepEqual(snapshot(s.dir), before, '--dry-run changed nothing');

      const r = s.install();
      assert.equal(r.status, 0, explain(r));
      // containerd 1.x replaces a whole plugin section from an import: version 2 gets the runtime in the main file.
      assert.equal(existsSync(join(s.dir, 'etc/conf.d')), false);
      const main = readFileSync(s.config, 'utf8');
      const doc = parse(main);
      const runtime = doc.plugins['io.containerd.grpc.v1.cri'].containerd.runtimes.hyrun;
      assert.equal(runtime.runtime_type, 'io.containerd.runc.v2');
      assert.equal(runtime.options.BinaryName, join(s.prefix, 'bin/hyrun'));
      assert.equal(runtime.options.SystemdCgroup, false);
      assert.deepEqual(passedKeys(runtime.pod_annotations, ['module.wasm.image/variant', 'run.oci.handler', 'io.kubernetes.cri.container-type']), ['module.wasm.image/variant', 'run.oci.handler']);
      assert.deepEqual(passedKeys(runtime.container_annotations, ['module.wasm.image/variant', 'run.oci.handler']), ['module.wasm.image/variant', 'run.oci.handler']);
      // Everything else is as it was: the same document apart from the one runtime, and every original line kept in order.
      delete doc.plugins['io.containerd.grpc.v1.cri'].containerd.runtimes.hyrun;
      assert.deepEqual(doc, parse(V2_DEFAULT));
      const added = main.split('\n').filter((l) => !V2_DEFAULT.split('\n').includes(l));
      assert.equal(added.length, 1, added.join('\n'));
      // The installed copy runs on its own.
      const v = spawnSync(join(s.prefix, 'bin/hyrun'), ['--version'], { encoding: 'utf8' });
      assert.equal(v.status, 0, v.stderr);
      assert.match(v.stdout, /^hyrun version /);
      assert.ok(existsSync(join(s.prefix, 'lib/hyrun/current/dist/executor.cjs')));

      const installed = snapshot(s.dir);
      const again = s.install();
      assert.equal(again.status, 0, explain(again));
      assert.match(again.stdout, /already installed .*nothing changed/);
      assert.deepEqual(snapshot(s.dir), installed, 'a second install changes nothing');

      const unDry = s.install('--uninstall', '--dry-run');
      assert.equal(unDry.status, 0, explain(unDry));
      assert.match(unDry.stdout, /^- +hyrun = \{runtime_type/m);
      assert.deepEqual(snapshot(s.dir), installed, '--uninstall --dry-run changed nothing');
      const un = s.install('--uninstall');
      assert.equal(un.status, 0, explain(un));
      assert.equal(readFileSync(s.config, 'utf8'), V2_DEFAULT, 'the main config is restored byte for byte');
      assert.deepEqual(snapshot(s.dir), before, 'everything install added is gone');
    } finally {
      s.cleanup();
    }
  });

  test('version 3 (containerd 2.x): the runtime under io.containerd.cri.v1.runtime; comments kept; the runc cgroup driver copied', () => {
    const s = setup(V3_MINIMAL);
    try {
      const r = s.install();
      assert.equal(r.status, 0, explain(r));
      const main = readFileSync(s.config, 'utf8');
      assert.ok(main.includes('# containerd 2.x, as an operator trimmed it') && main.includes('# keep this comment'), main);
      const dropIn = parse(readFileSync(join(s.dir, 'etc/conf.d/hyrun.toml'), 'utf8'));
      assert.equal(dropIn.version, 3);
      assert.deepEqual(parse(main).imports, [join(s.dir, 'etc/conf.d/hyrun.toml')]);
      const runtime = dropIn.plugins['io.containerd.cri.v1.runtime'].containerd.runtimes.hyrun;
      assert.equal(runtime.options.SystemdCgroup, true);
      assert.equal(dropIn.plugins['io.containerd.grpc.v1.cri'], undefined);
      const un = s.install('--uninstall');
      assert.equal(un.status, 0, explain(un));
      assert.equal(readFileSync(s.config, 'utf8'), V3_MINIMAL);
    } finally {
      s.cleanup();
    }
  });

  test('--uninstall after an operator edited the config since: only hyrun\'s runtime comes out, their edit stays', () => {
    const s = setup(V2_DEFAULT);
    try {
      assert.equal(s.install().status, 0);
      const edited = readFileSync(s.config, 'utf8').replace('oom_score = 0', 'oom_score = -500 # operator');
      writeFileSync(s.config, edited);
      const un = s.install('--uninstall');
      assert.equal(un.status, 0, explain(un));
      const now = readFileSync(s.config, 'utf8');
      assert.ok(now.includes('oom_score = -500 # operator'), now.slice(0, 300));
      assert.equal(parse(now).plugins['io.containerd.grpc.v1.cri'].containerd.runtimes.hyrun, undefined);
      assert.equal(now, V2_DEFAULT.replace('oom_score = 0', 'oom_score = -500 # operator'));
    } finally {
      s.cleanup();
    }
  });

  test('an imports glob that already covers conf.d/*.toml leaves the main config alone', () => {
    const text = `version = 3\nimports = ["conf.d/*.toml"]\n`;
    const s = setup(text);
    try {
      const r = s.install();
      assert.equal(r.status, 0, explain(r));
      assert.equal(readFileSync(s.config, 'utf8'), text);
      assert.ok(existsSync(join(s.dir, 'etc/conf.d/hyrun.toml')));
    } finally {
      s.cleanup();
    }
  });

  const badCases: [string, string | undefined, string[], RegExp][] = [
    ['a missing config', undefined, [], /config\.toml does not exist: write containerd's defaults first/],
    ['an unparsable config', 'version = 2\n[plugins\n', [], /is not valid TOML/],
    ['another version', 'version = 4\n', [], /has version = 4; hyrun configures containerd config version 2 .* and 3/],
    ['a version 1 config', '[plugins.cri]\n  sandbox_image = "x"\n', [], /no "version" key.*version 1/],
    ['a runtime name that exists', `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.wasm]\n  runtime_type = "io.containerd.runc.v2"\n`, ['--name', 'wasm'], /already defines a containerd runtime named "wasm"; choose another --name/],
    ['a bad --name', 'version = 2\n', ['--name', 'Hy_Run'], /--name "Hy_Run" must be a DNS label/],
    ['--uninstall with nothing installed', 'version = 2\n', ['--uninstall'], /nothing to uninstall/],
  ];
  for (const [what, text, args, message] of badCases) {
    test(`bad input: ${what} is one line, non-zero, nothing written`, () => {
      const s = setup(text);
      try {
        const before = snapshot(s.dir);
        const r = s.install(...args);
        assert.notEqual(r.status, 0, explain(r));
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.deepEqual(snapshot(s.dir), before);
      } finally {
        s.cleanup();
      }
    });
  }

  test('bad input: an unknown engine', () => {
    const r = hyrun(['install', 'docker']);
    assert.equal(r.status, 2, explain(r));
    assert.match(r.stderr, /^hyrun: install: unknown engine "docker"; hyrun configures containerd, crio or podman\n$/);
  });

  test('bad input: a read-only config directory: one line, nothing written (not even the prefix copy)', (t) => {
    if (process.getuid?.() !== 0) { t.skip('needs root for a read-only bind mount'); return; }
    const s = setup('version = 2\n');
    const etc = join(s.dir, 'etc');
    try {
      assert.equal(spawnSync('mount', ['--bind', etc, etc]).status, 0);
      assert.equal(spawnSync('mount', ['-o', 'remount,bind,ro', etc]).status, 0);
      const before = snapshot(s.dir);
      const r = s.install();
      assert.equal(r.status, 1, explain(r));
      assert.match(r.stderr, /cannot write .*read-only file system/);
      assert.deepEqual(snapshot(s.dir), before);
    } finally {
      spawnSync('umount', [etc]);
      s.cleanup();
    }
  });
});

test('--host-root: files under the mounted node root, paths in the config as the node sees them (the installer DaemonSet)', () => {
  const t = tempDir('hyrun-install-host-');
  try {
    mkdirSync(join(t.path, 'etc/containerd'), { recursive: true });
    writeFileSync(join(t.path, 'etc/containerd/config.toml'), V3_MINIMAL);
    const r = hyrun(['install', 'containerd', '--host-root', t.path]);
    assert.equal(r.status, 0, explain(r));
    const main = parse(readFileSync(join(t.path, 'etc/containerd/config.toml'), 'utf8'));
    assert.deepEqual(main.imports, ['/etc/containerd/conf.d/hyrun.toml']);
    const dropIn = parse(readFileSync(join(t.path, 'etc/containerd/conf.d/hyrun.toml'), 'utf8'));
    assert.equal(dropIn.plugins['io.containerd.cri.v1.runtime'].containerd.runtimes.hyrun.options.BinaryName, '/usr/local/bin/hyrun');
    assert.ok(existsSync(join(t.path, 'usr/local/lib/hyrun/current/dist/hyrun.cjs')));
    assert.equal(readlinkSync(join(t.path, 'usr/local/bin/hyrun')), '../lib/hyrun/current/bin/hyrun');
    const un = hyrun(['install', 'containerd', '--host-root', t.path, '--uninstall']);
    assert.equal(un.status, 0, explain(un));
    assert.equal(readFileSync(join(t.path, 'etc/containerd/config.toml'), 'utf8'), V3_MINIMAL);
    assert.equal(existsSync(join(t.path, 'usr')), false);
  } finally {
    t.cleanup();
  }
});

describe('hyrun install crio / podman', () => {
  test('crio: a crio.conf.d drop-in with runtime_path, oci, runtime_root and wasi/wasm -> hyrun-wasm; uninstall removes it', () => {
    const t = tempDir('hyrun-install-crio-');
    try {
      const config = join(t.path, 'crio.conf');
      writeFileSync(config, '# the operator\'s file\n[crio.runtime]\ndefault_runtime = "crun"\n');
      const before = snapshot(t.path);
      const prefix = join(t.path, 'prefix');
      const r = hyrun(['install', 'crio', '--config', config, '--prefix', prefix]);
      assert.equal(r.status, 0, explain(r));
      const doc = parse(readFileSync(join(t.path, 'crio.conf.d/99-hyrun.conf'), 'utf8'));
      assert.deepEqual(doc.crio.runtime.runtimes.hyrun, {
        runtime_path: join(prefix, 'bin/hyrun'), runtime_type: 'oci', runtime_root: '/run/hyrun-crio', allowed_annotations: ['module.wasm.image/variant'],
        platform_runtime_paths: { 'wasi/wasm': join(prefix, 'bin/hyrun-wasm') },
      });
      assert.equal(readFileSync(config, 'utf8'), '# the operator\'s file\n[crio.runtime]\ndefault_runtime = "crun"\n');
      const clash = hyrun(['install', 'crio', '--config', config, '--prefix', prefix, '--name', 'crun']);
      assert.equal(clash.status, 0, 'crun is not defined in these files: no clash');
      assert.equal(hyrun(['install', 'crio', '--config', config, '--prefix', prefix, '--name', 'crun', '--uninstall']).status, 0);
      const un = hyrun(['install', 'crio', '--config', config, '--prefix', prefix, '--uninstall']);
      assert.equal(un.status, 0, explain(un));
      assert.deepEqual(snapshot(t.path), before);
    } finally {
      t.cleanup();
    }
  });

  test('podman: runtimes hyrun and hyrun-wasm, both in runtime_supports_json; platform_to_oci_runtime only for Podman >= 4.6', () => {
    const t = tempDir('hyrun-install-podman-');
    try {
      const config = join(t.path, 'containers.conf');
      const prefix = join(t.path, 'prefix');
      const r = hyrun(['install', 'podman', '--config', config, '--prefix', prefix]);
      assert.equal(r.status, 0, explain(r));
      const doc = parse(readFileSync(join(t.path, 'containers.conf.d/99-hyrun.conf'), 'utf8'));
      assert.deepEqual(doc.engine.runtimes, { hyrun: [join(prefix, 'bin/hyrun')], 'hyrun-wasm': [join(prefix, 'bin/hyrun-wasm')] });
      assert.ok(doc.engine.runtime_supports_json.includes('hyrun') && doc.engine.runtime_supports_json.includes('hyrun-wasm'));
      assert.ok(doc.engine.runtime_supports_json.includes('crun'), 'the built-in list is kept');
      const version = /(\d+)\.(\d+)/.exec(spawnSync('podman', ['--version'], { encoding: 'utf8' }).stdout ?? '');
      const knows = version !== null && (Number(version[1]) > 4 || (Number(version[1]) === 4 && Number(version[2]) >= 6));
      assert.equal(doc.engine.platform_to_oci_runtime !== undefined, knows);
      if (!knows) assert.match(r.stdout, /does not know platform_to_oci_runtime/);
      assert.equal(hyrun(['install', 'podman', '--config', config, '--prefix', prefix, '--uninstall']).status, 0);
      assert.equal(existsSync(join(t.path, 'containers.conf.d/99-hyrun.conf')), false);
      assert.equal(existsSync(prefix), false);
    } finally {
      t.cleanup();
    }
  });
});

test('an upgrade replaces the installed copy atomically (current renamed over); the previous version stays, the config is unchanged', () => {
  const s = setup('version = 2\n');
  const src = tempDir('hyrun-install-src-');
  try {
    assert.equal(s.install().status, 0);
    const lib = join(s.prefix, 'lib/hyrun');
    const versions = (): string[] => readdirSync(lib).filter((n) => /^\d/.test(n)).sort();
    const [first] = versions();
    const configAfterFirst = snapshot(join(s.dir, 'etc'));
    // A newer build: the installed tree with one bundle changed, installing itself.
    cpSync(join(lib, first!), src.path, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(src.path, 'dist/hyrun.cjs'), `${readFileSync(join(src.path, 'dist/hyrun.cjs'), 'utf8')}\n// newer build\n`);
    const r = spawnSync(join(src.path, 'bin/hyrun'), ['install', 'containerd', '--config', s.config, '--prefix', s.prefix], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    const after = versions();
    assert.equal(after.length, 2, 'the previous version is kept for hyrun calls already running');
    const second = after.find((v) => v !== first)!;
    assert.equal(readlinkSync(join(lib, 'current')), second);
    assert.match(readFileSync(join(s.prefix, 'bin/hyrun'), 'utf8') + readFileSync(join(lib, 'current/dist/hyrun.cjs'), 'utf8'), /newer build/);
    assert.deepEqual(snapshot(join(s.dir, 'etc')), configAfterFirst, 'the engine config already points at the stable path');
    const v = spawnSync(join(s.prefix, 'bin/hyrun'), ['--version'], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
  } finally {
    src.cleanup();
    s.cleanup();
  }
});
