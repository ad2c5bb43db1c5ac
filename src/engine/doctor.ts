// `hyrun doctor [--format json] [--prefix DIR] [--name NAME] [--containerd-config F] [--crio-config F] [--podman-config F]`
// One line per check with a fix for each failure; exit 1 when something blocks running containers
// (no working delegate, a kernel feature missing, an engine configured for hyrun in a way that
// cannot work). Engines that are not configured for hyrun are warnings: hyrun works without them.
import { nodeBinary, nodeSupport } from '../handlers/self-node.js';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCacheDir } from '../handlers/runtime-dir.js';
import { crunRefusesCgroups, resolveDelegate } from '../runtime/delegate.js';
import { native, sandboxMode } from '../wasi/native.js';
import { CONTAINERD_CONFIG, findContainerdRuntime } from './containerd.js';
import { CRIO_CONFIG, crioConfigs } from './crio.js';
import { EngineError } from './errors.js';
import { installedCopy, layout } from './prefix.js';
import { passedKeys, WASM_ANNOTATION_KEYS } from './path-match.js';
import { PODMAN_CONFIG, podmanConfigs } from './podman.js';
import { tableAt, type TomlTable } from './toml.js';

export type Status = 'ok' | 'warn' | 'fail';
export interface Check { check: string; status: Status; detail: string; fix?: string }

interface DoctorOptions { prefix: string; name: string; containerd: string; crio: string; podman: string; json: boolean }

const which = (name: string): string | undefined => {
  for (const d of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
};

/**
 * Creates and runs a real container through the delegate: /usr/bin/true from the host's /usr,
 * bind-mounted read-only into an empty root (bin, lib, lib64 as symlinks into it, as merged-/usr
 * distributions have them).
 */
function delegateCheck(): Check[] {
  const out: Check[] = [];
  let delegate;
  try {
    delegate = resolveDelegate(process.env.HYRUN_DELEGATE);
  } catch (error) {
    return [{ check: 'delegate', status: 'fail', detail: (error as Error).message, fix: 'apt-get install crun (or runc)' }];
  }
  const crun = which('crun');
  if (crun && delegate.kind !== 'crun' && crunRefusesCgroups()) {
    out.push({ check: 'crun', status: 'warn', detail: 'crun refuses this hybrid cgroup setup (cgroup v1 plus a cgroup2 mount holding controllers); hyrun uses runc instead',
      fix: 'give the controllers of /sys/fs/cgroup/unified/cgroup.controllers their own v1 hierarchy (see scripts/prepare-host.sh), or boot with systemd.unified_cgroup_hierarchy=1' });
  }
  const dir = mkdtempSync(join(tmpdir(), 'hyrun-doctor-'));
  try {
    const spec = spawnSync(delegate.path, ['spec', '--bundle', dir], { encoding: 'utf8', timeout: 20_000 });
    if (spec.status !== 0) throw new Error(`${delegate.path} spec failed: ${(spec.stderr || spec.stdout).trim()}`);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown> & { process: Record<string, unknown>; root: Record<string, unknown> };
    config.process.args = ['/bin/true'];
    config.process.terminal = false;
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'usr'), { recursive: true });
    for (const d of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${d}`, join(rootfs, d));
    config.root = { path: 'rootfs', readonly: true };
    config.process.args = ['/usr/bin/true'];
    config.mounts = [...(config.mounts as unknown[] ?? []), { destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'ro'] }];
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const id = `hyrun-doctor-${process.pid}`;
    const root = join(dir, 'state');
    mkdirSync(root);
    const r = spawnSync(delegate.path, ['--root', root, 'run', '--bundle', dir, id], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    spawnSync(delegate.path, ['--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 20_000 });
    if (r.status !== 0) {
      const why = (r.stderr || r.stdout || '').trim().split('\n').pop() ?? '';
      out.push({ check: 'delegate', status: 'fail', detail: `${delegate.version || delegate.path} cannot create a container: ${why}`,
        fix: /cgroup/i.test(why) ? 'fix the cgroup setup (see scripts/prepare-host.sh) or install runc and set HYRUN_DELEGATE=runc' : `run ${delegate.path} by hand with a simple bundle to see why` });
    } else {
      out.push({ check: 'delegate', status: 'ok', detail: `${delegate.version || delegate.path} (${delegate.path}) created and ran a container` });
    }
  } catch (error) {
    out.push({ check: 'delegate', status: 'fail', detail: (error as Error).message, fix: 'reinstall crun or runc' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function cgroupCheck(): Check {
  const fs = spawnSync('stat', ['-f', '-c', '%T', '/sys/fs/cgroup'], { encoding: 'utf8' }).stdout.trim();
  if (fs === 'cgroup2fs') return { check: 'cgroups', status: 'ok', detail: 'cgroup v2 (unified)' };
  if (fs === 'tmpfs') {
    const hybrid = existsSync('/sys/fs/cgroup/unified');
    return { check: 'cgroups', status: 'ok', detail: `cgroup v1${hybrid ? ' (hybrid: a cgroup2 mount at /sys/fs/cgroup/unified)' : ''}` };
  }
  return { check: 'cgroups', status: 'fail', detail: `/sys/fs/cgroup is ${fs || 'missing'}`, fix: 'mount cgroups (cgroup2 at /sys/fs/cgroup, or the v1 hierarchies)' };
}

function kernelChecks(): Check[] {
  const missing = ['mnt', 'pid', 'net', 'ipc', 'uts', 'user', 'cgroup'].filter((ns) => !existsSync(`/proc/self/ns/${ns}`));
  const status = readFileSync('/proc/self/status', 'utf8');
  const seccomp = /^Seccomp:/m.test(status);
  const node = Number(process.versions.node.split('.')[0]);
  return [
    missing.length === 0
      ? { check: 'namespaces', status: 'ok', detail: 'mnt pid net ipc uts user cgroup' }
      : { check: 'namespaces', status: 'fail', detail: `missing: ${missing.join(' ')}`, fix: 'use a kernel built with these namespaces' },
    seccomp
      ? { check: 'seccomp', status: 'ok', detail: 'available' }
      : { check: 'seccomp', status: 'fail', detail: 'the kernel has no seccomp', fix: 'use a kernel with CONFIG_SECCOMP' },
    node < 24
      ? { check: 'node', status: 'fail', detail: `node ${process.versions.node} at ${nodeBinary()} is too old`, fix: 'unset HYRUN_NODE (hyrun brings its own node), or point it at node 24 or newer' }
      : nodeSupport().startsWith('supported')
        ? { check: 'node', status: 'ok', detail: `node ${process.versions.node} (V8 ${process.versions.v8}) at ${nodeBinary()}, ${nodeSupport()}` }
        : { check: 'node', status: 'warn', detail: `node ${process.versions.node} at ${nodeBinary()}: ${nodeSupport()}`, fix: 'install a newer hyrun release (each brings a maintained node)' },
  ];
}

function installChecks(o: DoctorOptions): Check[] {
  const l = layout(o.prefix);
  const copy = installedCopy(o.prefix);
  const out: Check[] = [];
  if (!copy) out.push({ check: 'install', status: 'warn', detail: `hyrun is not installed under ${l.prefix}`, fix: `hyrun install containerd|crio|podman --prefix ${l.prefix}` });
  else if (!copy.complete) out.push({ check: 'install', status: 'fail', detail: `${l.current} points at ${copy.id}, which is incomplete`, fix: 'run hyrun install again from a built checkout' });
  else out.push({ check: 'install', status: 'ok', detail: `hyrun ${copy.id} at ${l.bin}` });
  const cache = defaultCacheDir();
  try {
    mkdirSync(cache, { recursive: true });
    accessSync(cache, constants.W_OK);
    out.push({ check: 'runtime dir', status: 'ok', detail: `${cache} (where Wasm containers' read-only runtime is built)` });
  } catch (error) {
    out.push({ check: 'runtime dir', status: 'fail', detail: `${cache} is not writable: ${(error as Error).message}`, fix: 'make it writable for root, or set HYRUN_CACHE_DIR' });
  }
  // Wasm containers always have a root to resolve paths in: without the addon every one is refused.
  if (native() !== null) out.push({ check: 'sandbox', status: 'ok', detail: `Wasm path lookups: ${sandboxMode()}` });
  else out.push({ check: 'sandbox', status: 'fail', detail: `Wasm path lookups: ${sandboxMode()}`, fix: 'rebuild hyrun (npm run build, with a C compiler and node\'s headers) or reinstall it' });
  return out;
}

const binaryCheck = (what: string, path: unknown): string | undefined =>
  typeof path !== 'string' ? `${what} is not set` : !existsSync(path) ? `${what} ${path} does not exist` : undefined;

function containerdCheck(o: DoctorOptions): Check | undefined {
  if (!existsSync(o.containerd) && !which('containerd')) return undefined;
  const check = 'containerd';
  if (!existsSync(o.containerd)) return { check, status: 'warn', detail: `containerd is installed but ${o.containerd} does not exist`, fix: `containerd config default > ${o.containerd}; hyrun install containerd` };
  try {
    const found = findContainerdRuntime(o.containerd, o.name);
    if (!found.runtime) return { check, status: 'warn', detail: `${o.containerd} (version ${found.version}) has no runtime "${o.name}"`, fix: 'hyrun install containerd --restart' };
    const options = (found.runtime.options ?? {}) as TomlTable;
    const bad = binaryCheck('options.BinaryName', options.BinaryName);
    if (bad) return { check, status: 'fail', detail: `runtime "${o.name}" in ${found.file}: ${bad}`, fix: 'hyrun install containerd (again)' };
    const patterns = (key: string): string[] => (Array.isArray(found.runtime![key]) ? (found.runtime![key] as unknown[]).filter((x): x is string => typeof x === 'string') : []);
    const pod = passedKeys(patterns('pod_annotations'), WASM_ANNOTATION_KEYS);
    const ctr = passedKeys(patterns('container_annotations'), WASM_ANNOTATION_KEYS);
    if (!pod.includes('module.wasm.image/variant')) {
      return { check, status: 'fail', detail: `runtime "${o.name}": pod_annotations ${JSON.stringify(patterns('pod_annotations'))} do not pass module.wasm.image/variant (containerd matches with Go's path.Match, where * does not cross "/")`,
        fix: 'hyrun install containerd (writes exact keys), or use the pattern "module.wasm.image/*"' };
    }
    return { check, status: 'ok', detail: `runtime "${o.name}" (${found.file}) runs ${String(options.BinaryName)}; pod annotations passed: ${pod.join(', ')}; container annotations passed: ${ctr.join(', ') || 'none'}` };
  } catch (error) {
    return { check, status: 'fail', detail: error instanceof EngineError ? error.message : String(error), fix: 'fix the config file' };
  }
}

function crioCheck(o: DoctorOptions): Check | undefined {
  if (!existsSync(o.crio) && !existsSync(join(o.crio, '..', 'crio.conf.d')) && !which('crio')) return undefined;
  const check = 'cri-o';
  if (!existsSync(o.crio) && !existsSync(join(dirname(o.crio), 'crio.conf.d'))) return { check, status: 'warn', detail: `CRI-O is installed but has no configuration at ${o.crio}`, fix: 'hyrun install crio --config PATH/crio.conf' };
  try {
    let runtime: TomlTable | undefined;
    let file = '';
    for (const [f, doc] of crioConfigs(o.crio)) {
      const r = tableAt(doc, ['crio', 'runtime', 'runtimes', o.name]);
      if (r) { runtime = { ...(runtime ?? {}), ...r }; file = f; }
    }
    if (!runtime) return { check, status: 'warn', detail: `no CRI-O runtime "${o.name}"`, fix: 'hyrun install crio --restart' };
    const bad = binaryCheck('runtime_path', runtime.runtime_path);
    if (bad) return { check, status: 'fail', detail: `runtime "${o.name}" in ${file}: ${bad}`, fix: 'hyrun install crio (again)' };
    const allowed = Array.isArray(runtime.allowed_annotations) ? runtime.allowed_annotations : [];
    if (!allowed.includes('module.wasm.image/variant')) {
      return { check, status: 'warn', detail: `runtime "${o.name}": module.wasm.image/variant is not in allowed_annotations, so CRI-O keeps it off containers; only wasi/wasm images (platform_runtime_paths) run as Wasm`, fix: 'hyrun install crio (again)' };
    }
    return { check, status: 'ok', detail: `runtime "${o.name}" (${file}) runs ${String(runtime.runtime_path)}; module.wasm.image/variant allowed` };
  } catch (error) {
    return { check, status: 'fail', detail: error instanceof EngineError ? error.message : String(error), fix: 'fix the config file' };
  }
}

function podmanCheck(o: DoctorOptions): Check | undefined {
  if (!which('podman')) return undefined;
  const check = 'podman';
  if (!existsSync(dirname(o.podman))) return { check, status: 'warn', detail: `Podman is installed but ${dirname(o.podman)} does not exist`, fix: 'hyrun install podman --config PATH/containers.conf' };
  try {
    let runtime: unknown;
    let json: unknown[] = [];
    for (const [, doc] of podmanConfigs(o.podman)) {
      runtime = tableAt(doc, ['engine', 'runtimes'])?.[o.name] ?? runtime;
      const j = tableAt(doc, ['engine'])?.runtime_supports_json;
      if (Array.isArray(j)) json = j;
    }
    if (!Array.isArray(runtime)) return { check, status: 'warn', detail: `Podman has no runtime "${o.name}"`, fix: 'hyrun install podman' };
    if (!runtime.some((p) => typeof p === 'string' && existsSync(p))) return { check, status: 'fail', detail: `runtime "${o.name}": none of ${JSON.stringify(runtime)} exists`, fix: 'hyrun install podman (again)' };
    if (!json.includes(o.name)) return { check, status: 'warn', detail: `runtime "${o.name}" is not in runtime_supports_json: Podman reads its errors as text`, fix: 'hyrun install podman (again)' };
    return { check, status: 'ok', detail: `runtime "${o.name}" = ${JSON.stringify(runtime)}` };
  } catch (error) {
    return { check, status: 'fail', detail: error instanceof EngineError ? error.message : String(error), fix: 'fix the config file' };
  }
}

export function runDoctor(argv: string[]): number {
  let values;
  try {
    values = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        format: { type: 'string' }, prefix: { type: 'string' }, name: { type: 'string' },
        'containerd-config': { type: 'string' }, 'crio-config': { type: 'string' }, 'podman-config': { type: 'string' },
      },
    }).values;
  } catch (error) {
    throw new EngineError(`doctor: ${(error as Error).message.split('\n')[0]}; usage: hyrun doctor [--format text|json] [--prefix DIR] [--name NAME] [--containerd-config F] [--crio-config F] [--podman-config F]`, 2);
  }
  if (values.format !== undefined && values.format !== 'json' && values.format !== 'text') throw new EngineError(`doctor: --format ${values.format}: use text or json`, 2);
  const o: DoctorOptions = {
    prefix: values.prefix ?? '/usr/local', name: values.name ?? 'hyrun', json: values.format === 'json',
    containerd: values['containerd-config'] ?? CONTAINERD_CONFIG, crio: values['crio-config'] ?? CRIO_CONFIG, podman: values['podman-config'] ?? PODMAN_CONFIG,
  };
  const checks: Check[] = [
    ...delegateCheck(), cgroupCheck(), ...kernelChecks(), ...installChecks(o),
    ...[containerdCheck(o), crioCheck(o), podmanCheck(o)].filter((c): c is Check => c !== undefined),
  ];
  const failed = checks.some((c) => c.status === 'fail');
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ ok: !failed, checks }, null, 2)}\n`);
  } else {
    const width = Math.max(...checks.map((c) => c.check.length));
    for (const c of checks) {
      process.stdout.write(`${c.status.toUpperCase().padEnd(4)} ${c.check.padEnd(width)}  ${c.detail}${c.fix ? `\n     ${' '.repeat(width)}  fix: ${c.fix}` : ''}\n`);
    }
  }
  return failed ? 1 : 0;
}
