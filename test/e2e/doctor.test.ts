// `hyrun doctor` on this machine: a real container through the real delegate, the kernel, an
// install under a temporary prefix, and engine configs in temporary files (containerd's patterns
// parsed with Go's path.Match rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse, patch } from '@decimalturn/toml-patch';
import { hyrun, tempDir, type Result } from '../helpers.js';

interface Report { ok: boolean; checks: { check: string; status: string; detail: string; fix?: string }[] }
const skip = process.getuid?.() !== 0 ? 'doctor creates a container: needs root' : undefined;
const explain = (r: Result): string => `status ${r.status}\n${r.stdout}\n${r.stderr}`;

function setup(): { dir: string; config: string; prefix: string; env: NodeJS.ProcessEnv; cleanup: () => void; doctor: (...a: string[]) => { r: Result; report: Report } } {
  const t = tempDir('hyrun-doctor-test-');
  const config = join(t.path, 'config.toml');
  writeFileSync(config, spawnSync('containerd', ['config', 'default'], { encoding: 'utf8' }).stdout);
  const prefix = join(t.path, 'prefix');
  const env = { ...process.env, HYRUN_CACHE_DIR: join(t.path, 'cache') };
  const doctor = (...a: string[]) => {
    const r = hyrun(['doctor', '--format', 'json', '--prefix', prefix, '--containerd-config', config, '--crio-config', join(t.path, 'crio/crio.conf'), '--podman-config', join(t.path, 'containers/containers.conf'), ...a], { env });
    return { r, report: JSON.parse(r.stdout) as Report };
  };
  return { dir: t.path, config, prefix, env, cleanup: t.cleanup, doctor };
}

const byName = (report: Report, name: string) => report.checks.find((c) => c.check === name);

test('doctor: a healthy node with hyrun installed for containerd: exit 0, every check ok, the patterns pass the Wasm keys', { skip, timeout: 120_000 }, () => {
  const s = setup();
  try {
    const install = hyrun(['install', 'containerd', '--config', s.config, '--prefix', s.prefix]);
    assert.equal(install.status, 0, explain(install));
    const { r, report } = s.doctor();
    assert.equal(r.status, 0, explain(r));
    assert.equal(report.ok, true);
    assert.equal(byName(report, 'delegate')?.status, 'ok', JSON.stringify(report));
    assert.match(byName(report, 'delegate')!.detail, /created and ran a container/);
    assert.equal(byName(report, 'install')?.status, 'ok');
    const containerd = byName(report, 'containerd');
    assert.equal(containerd?.status, 'ok', JSON.stringify(containerd));
    assert.match(containerd!.detail, /pod annotations passed: module\.wasm\.image\/variant, run\.oci\.handler/);
    // Text form: one line per check (plus a fix line for each warning).
    const text = hyrun(['doctor', '--prefix', s.prefix, '--containerd-config', s.config], { env: s.env });
    assert.match(text.stdout, /^OK {3}delegate {5}/m);
  } finally {
    s.cleanup();
  }
});

test("doctor: the guides' pattern module.wasm.image/variant.* is a failure with a fix; exit 1", { skip, timeout: 120_000 }, () => {
  const s = setup();
  try {
    const text = readFileSync(s.config, 'utf8');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const doc = parse(text) as any;
    doc.plugins['io.containerd.grpc.v1.cri'].containerd.runtimes.hyrun = {
      runtime_type: 'io.containerd.runc.v2', pod_annotations: ['module.wasm.image/variant.*'], options: { BinaryName: '/bin/true' },
    };
    writeFileSync(s.config, patch(text, doc));
    const { r, report } = s.doctor();
    assert.equal(r.status, 1, explain(r));
    const c = byName(report, 'containerd')!;
    assert.equal(c.status, 'fail');
    assert.match(c.detail, /do not pass module\.wasm\.image\/variant .*path\.Match/);
    assert.match(c.fix!, /hyrun install containerd/);
    assert.equal(byName(report, 'install')?.status, 'warn', 'not installed under the prefix');
  } finally {
    s.cleanup();
  }
});

test('doctor: a delegate that cannot create containers blocks: exit 1, the cgroup fix named', { skip, timeout: 120_000 }, () => {
  const s = setup();
  try {
    // A stand-in for crun on a hybrid-cgroup host (its own words), to see doctor's verdict and fix.
    const fake = join(s.dir, 'crun');
    writeFileSync(fake, '#!/bin/sh\ncase "$*" in *" run "*) echo "cannot set up cgroups: hybrid cgroup hierarchy is not supported" >&2; exit 1;; *--version*) echo "crun version 1.8.1";; esac\nexec /usr/bin/crun "$@"\n');
    chmodSync(fake, 0o755);
    const r = hyrun(['doctor', '--format', 'json', '--prefix', s.prefix, '--containerd-config', s.config], { env: { ...s.env, HYRUN_DELEGATE: fake } });
    assert.equal(r.status, 1, explain(r));
    const d = byName(JSON.parse(r.stdout) as Report, 'delegate')!;
    assert.equal(d.status, 'fail');
    assert.match(d.detail, /cannot create a container: cannot set up cgroups/);
    assert.match(d.fix!, /prepare-host\.sh|cgroup/);
    const missing = hyrun(['doctor', '--format', 'json', '--prefix', s.prefix], { env: { ...s.env, HYRUN_DELEGATE: join(s.dir, 'nope') } });
    assert.equal(missing.status, 1);
    assert.match(byName(JSON.parse(missing.stdout) as Report, 'delegate')!.detail, /not found or not executable/);
  } finally {
    s.cleanup();
  }
});

test('doctor: bad options are one line, exit 2', () => {
  const r = hyrun(['doctor', '--format', 'yaml']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'hyrun: doctor: --format yaml: use text or json\n');
});
