// Issue 7 in real containers: the /proc/self/mem attack and its spellings, refused under crun and
// runc (through hyrun's OCI CLI) and through Podman, as root and as uid 1000 with a read-only root;
// and a container's `/` behaving as a root for the guest: absolute symlinks of the image (files,
// directories, chains; into /proc or the runtime directory: refused), `..` at `/`, a volume with a
// planted absolute link. The guest is test/guests/c/sec_special.c.
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrunBin, run, tempDir, type Result } from '../helpers.js';
import type { OciSpec } from '../../src/oci/spec.js';
import { DELEGATES } from './fixtures/oci.js';
import { native } from '../../src/wasi/native.js';
import { cleanStderr, PodmanEnv } from './engines/podman.js';
import { cannotRun, explain, sleepSync } from './engines/tools.js';

const scratch = tempDir('hyrun-secctr-');
chmodSync(scratch.path, 0o755);
const env = { ...process.env, HYRUN_CACHE_DIR: join(scratch.path, 'cache') };
const stateRoot = join(scratch.path, 'state');
const volume = join(scratch.path, 'volume');
const HOST_SECRET = join(scratch.path, 'host-secret.txt');
let seq = 0;
after(() => scratch.cleanup());

/** The image's files: the guest, and the kinds of absolute links real images carry. */
function stageImage(rootfs: string): void {
  const file = (p: string, text: string) => {
    mkdirSync(join(rootfs, p, '..'), { recursive: true });
    writeFileSync(join(rootfs, p), text);
  };
  const link = (p: string, target: string) => {
    mkdirSync(join(rootfs, p, '..'), { recursive: true });
    symlinkSync(target, join(rootfs, p));
  };
  mkdirSync(rootfs, { recursive: true });
  copyFileSync(guest('sec_special'), join(rootfs, 'sec.wasm'));
  file('usr/share/zoneinfo/UTC', 'TZif2 UTC zone\n');
  link('etc/localtime', '/usr/share/zoneinfo/UTC');
  file('usr/share/ca-certificates/mozilla/Test_Root_CA.crt', '-----BEGIN CERTIFICATE----- test\n');
  link('etc/ssl/certs/Test_Root_CA.pem', '/usr/share/ca-certificates/mozilla/Test_Root_CA.crt');
  file('usr/bin/vim.tiny', 'vim tiny\n');
  link('etc/alternatives/editor', '/usr/bin/vim.tiny');
  link('usr/bin/editor', '/etc/alternatives/editor'); // a chain of absolute links
  file('usr/lib/app/data.txt', 'lib data\n');
  file('usr/lib/app/world.txt', 'anyone may write\n');
  chmodSync(join(rootfs, 'usr/lib/app/world.txt'), 0o666);
  link('lib-link', '/usr/lib'); // to a directory
  link('deep/up/link', '/../../../usr/lib/app/data.txt'); // `..` at `/` stays at `/`
  mkdirSync(join(rootfs, 'data'), { recursive: true });
  link('mem-link', '/proc/self/mem');
  link('pid1-mem-link', '/proc/1/mem');
  link('rt-link', '/.hyrun');
  link('rt-exec', '/.hyrun/executor.cjs');
  writeFileSync(HOST_SECRET, 'host secret\n');
}

function stageVolume(): void {
  mkdirSync(volume, { recursive: true });
  chmodSync(volume, 0o777);
  // Planted from outside: absolute links whose targets mean something on the host.
  symlinkSync('/proc/1/mem', join(volume, 'planted-mem'));
  symlinkSync(HOST_SECRET, join(volume, 'planted-host'));
  symlinkSync('/etc/localtime', join(volume, 'planted-inside'));
  writeFileSync(join(volume, 'root-only.txt'), 'root only\n', { mode: 0o644 });
  chmodSync(join(volume, 'root-only.txt'), 0o644);
}

const ATTACK = ['attack', '/proc/self/mem', '/proc/self/task/PID/syscall', '/proc/self/stat'];
const CATS = ['/etc/localtime', '/etc/ssl/certs/Test_Root_CA.pem', '/usr/bin/editor', '/lib-link/app/data.txt',
  '/deep/up/link', '/data/../../usr/lib/app/data.txt', '/vol/planted-inside', '/proc/cpuinfo'];
const REFUSED = ['/proc/self/mem', '/proc/1/mem', '/proc/thread-self/../mem', '/proc/self/task/1/mem', '/mem-link', '/pid1-mem-link',
  '/xproc/1/mem', '/xproc/self/mem', '/vol/planted-mem', '/vol/guest-link', '/proc/kcore', '/proc/sysrq-trigger',
  '/proc/self/environ', '/proc/1/environ', '/proc/self/mountinfo', '/proc/1/root', '/proc/self/fd/3', '/proc/1/fd/1', '/sys/kernel', '/dev/memdev'];
const HIDDEN = ['/rt-link', '/rt-exec', '/.hyrun', '/.hyrun/executor.cjs'];
const guestArgs = (): string[] => ['/sec.wasm', ...ATTACK, 'symlink', '../proc/self/mem', '/vol/guest-link', 'times', '/vol/times-probe',
  'ls', '/proc', 'ls', '/sys', 'write', '/proc/sys/kernel/hostname', 'write', '/dev/null', 'write', '/dev/stdout', 'write', '/dev/fd/1',
  'write', '/usr/lib/app/world.txt', 'write', '/vol/root-only.txt',
  'access', '/proc/self/mem', 'access', '/missing', 'access', '/.hyrun', 'access', '/usr/lib/app/data.txt', 'access', '/proc/cpuinfo',
  ...CATS.flatMap((p) => ['cat', p]), 'try', ...REFUSED, ...HIDDEN, '/vol/planted-host', '/dev/null', '/dev/zero'];

/** Checks one run's output; the same for every runtime and engine. */
function checkGuest(r: Result, where: string, how: { readOnlyRoot: boolean; uid1000: boolean }): void {
  assert.equal(r.status, 0, `${where}: ${explain(r)}`);
  const out = r.stdout;
  assert.doesNotMatch(out, /PWNED/, where);
  for (const step of ['stat-file', 'syscall-file', 'mem']) assert.match(out, new RegExp(`^attack ${step} 2$`, 'm'), `${where}: ${step}`);
  assert.doesNotMatch(out, /attack wrote/, where);
  assert.match(out, /^symlink \/vol\/guest-link 0$/m, where);
  assert.match(out, /^ls \/proc: cpuinfo loadavg meminfo uptime version$/m, where);
  assert.match(out, /^ls \/sys:$/m, where);
  assert.match(out, /^write \/proc\/sys\/kernel\/hostname 2$/m, where);
  assert.match(out, /^write \/dev\/null 0$/m, where);
  // /dev/stdout and /dev/fd/1 (links into /proc/self/fd) open the guest's own stdout.
  assert.match(out, /^write \/dev\/stdout 0$/m, where);
  assert.match(out, /^write \/dev\/fd\/1 0$/m, where);
  // The host's answer to the operation itself: EROFS (69) on a read-only root, EACCES (2) for a file
  // the container's user may not write.
  assert.match(out, new RegExp(`^write /usr/lib/app/world.txt ${how.readOnlyRoot ? 69 : 0}$`, 'm'), where);
  assert.match(out, new RegExp(`^write /vol/root-only.txt ${how.uid1000 ? 2 : 0}$`, 'm'), where);
  // wasi-libc's access(): existence and refusal as the host says; the rest from the preopen's rights.
  assert.match(out, /^access \/proc\/self\/mem r=2 w=2 x=2$/m, where);
  assert.match(out, /^access \/missing r=44 w=44 x=44$/m, where);
  assert.match(out, /^access \/\.hyrun r=44 w=44 x=44$/m, where);
  assert.match(out, /^access \/usr\/lib\/app\/data.txt r=0 w=0 x=0$/m, where);
  assert.match(out, /^access \/proc\/cpuinfo r=0 w=0 x=0$/m, where);
  assert.match(out, /^\/etc\/localtime: TZif2 UTC zone$/m, where);
  assert.match(out, /^\/etc\/ssl\/certs\/Test_Root_CA.pem: -----BEGIN CERTIFICATE----- test$/m, where);
  assert.match(out, /^\/usr\/bin\/editor: vim tiny$/m, where);
  assert.match(out, /^\/lib-link\/app\/data.txt: lib data$/m, where);
  assert.match(out, /^\/deep\/up\/link: lib data$/m, where);
  assert.match(out, /^\/data\/..\/..\/usr\/lib\/app\/data.txt: lib data$/m, where);
  assert.match(out, /^\/vol\/planted-inside: TZif2 UTC zone$/m, where);
  assert.match(out, /^\/proc\/cpuinfo: processor\s*: 0$/m, where);
  const lines = new Map(out.split('\n').map((l) => [l.split(' ')[0], l] as const));
  for (const p of REFUSED) {
    const line = lines.get(p) ?? '';
    // Opening is refused with ACCES, in both modes; stat is refused too, except of a device node.
    assert.match(line, p === '/dev/memdev' ? /^\S+ ro=2 rw=2 stat=0$/ : /^\S+ ro=2 rw=2 stat=2$/, `${where}: ${p}: ${line}`);
  }
  for (const p of HIDDEN) assert.equal(lines.get(p), `${p} ro=44 rw=44 stat=44`, `${where}: ${p}`);
  // The host's file is not what an absolute link in a volume names: the container has no such path.
  assert.equal(lines.get('/vol/planted-host'), '/vol/planted-host ro=44 rw=44 stat=44', where);
  assert.equal(lines.get('/dev/null'), '/dev/null ro=0 rw=0 stat=0', where);
  assert.equal(lines.get('/dev/zero'), '/dev/zero ro=0 rw=0 stat=0', where);
  // The addon travels in the runtime directory: times are set to the nanosecond inside containers too.
  if (native() !== null) assert.match(out, /^times \/vol\/times-probe 0 987654321 123456789$/m, `${where}: addon in the container`);
  assert.match(out, /^survived$/m, where);
  assert.equal(readFileSync(HOST_SECRET, 'utf8'), 'host secret\n');
}

// /dev/mem's numbers on a node of our own (this VM has no /dev/mem), for Podman's --device.
const MEMDEV = join(scratch.path, 'memdev');
before(() => {
  stageVolume();
  const r = run('mknod', ['-m', '666', MEMDEV, 'c', '1', '1']);
  assert.equal(r.status, 0, r.stderr);
});

for (const { name, path: delegate } of DELEGATES) {
  describe(`Wasm container under ${name}: /proc/self/mem and a container root`, { skip: delegate === undefined ? `${name} not installed` : false }, () => {
    for (const variant of ['root', 'uid 1000, read-only root'] as const) {
      test(`the attack and every spelling are refused; absolute links resolve inside (${variant})`, () => {
        const dir = join(scratch.path, `bundle-${++seq}`);
        const rootfs = join(dir, 'rootfs');
        stageImage(rootfs);
        const spec = run(delegate!, ['spec'], { cwd: dir });
        assert.equal(spec.status, 0, spec.stderr);
        const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as OciSpec;
        config.process!.terminal = false;
        config.process!.args = guestArgs();
        config.annotations = { 'module.wasm.image/variant': 'compat' };
        config.mounts = [...(config.mounts ?? []),
          { destination: '/xproc', type: 'proc', source: 'proc' },
          { destination: '/vol', type: 'bind', source: volume, options: ['rbind', 'rw'] }];
        // A device the container's list grants: the WASI sandbox refuses it all the same (it is /dev/mem's number).
        const linux = config.linux as Record<string, unknown>;
        linux.devices = [...((linux.devices as unknown[]) ?? []), { path: '/dev/memdev', type: 'c', major: 1, minor: 1, fileMode: 0o666, uid: 0, gid: 0 }];
        if (variant !== 'root') {
          config.process!.user = { uid: 1000, gid: 1000 };
          (config.root as { readonly?: boolean }).readonly = true;
        }
        writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, '\t'));
        const id = `sec-${name}-${process.pid}-${seq}`;
        const r = run(hyrunBin, ['--root', stateRoot, '--delegate', delegate!, 'run', '--bundle', dir, id], { env, timeout: 120_000 });
        run(hyrunBin, ['--root', stateRoot, '--delegate', delegate!, 'delete', '--force', id], { env });
        run('rm', ['-f', join(volume, 'guest-link'), join(volume, 'times-probe')]);
        // `<runtime> spec` makes a read-only root already.
        checkGuest(r, `${name} ${variant}`, { readOnlyRoot: config.root?.readonly === true, uid1000: variant !== 'root' });
      });
    }
  });
}

describe('podman --runtime hyrun: /proc/self/mem and a container root', { skip: cannotRun(['podman', 'buildah', 'conmon', 'crun']), timeout: 600_000 }, () => {
  let podman: PodmanEnv;
  const tag = `localhost/hyrun-test/sec-special:${process.pid}`;
  before(() => {
    podman = new PodmanEnv();
    const context = join(podman.dir, 'sec-context');
    stageImage(join(context, 'rootfs'));
    writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/sec.wasm"]\n');
    podman.mustBuildah(['build', '--quiet', '--annotation', 'module.wasm.image/variant=compat', '--platform', 'wasi/wasm', '-t', tag, context]);
  });
  after(() => podman?.cleanup());

  test('podman top shows the module and its arguments, not the executor command line', () => {
    const name = `hyrun-sec-top-${process.pid}`;
    const started = podman.podman(['run', '-d', '--name', name, tag, '/sec.wasm', 'sleep', '60']);
    try {
      assert.equal(started.status, 0, explain(started));
      // The executor sets its title as it starts: ask until it has (or the limit says it never did).
      let top = podman.podman(['top', name, 'args']);
      for (let i = 0; i < 100 && !/^\/sec\.wasm sleep 60\s*$/m.test(top.stdout); i++) {
        sleepSync(100);
        top = podman.podman(['top', name, 'args']);
      }
      assert.equal(top.status, 0, explain(top));
      assert.match(top.stdout, /^\/sec\.wasm sleep 60\s*$/m, top.stdout);
      assert.doesNotMatch(top.stdout, /\.hyrun|executor|ld-linux/, top.stdout);
    } finally {
      podman.podman(['rm', '--force', '--time', '0', name]);
    }
  });

  test('an error of hyrun reaches Podman once, after the runtime path, also without JSON logs', () => {
    // Podman reads the runtime's stderr when the runtime's name is not in runtime_supports_json.
    const plain = join(podman.dir, 'hyrun-nojson');
    symlinkSync(hyrunBin, plain);
    const context = join(podman.dir, 'elf-context');
    mkdirSync(context);
    copyFileSync('/bin/busybox', join(context, 'elf'));
    writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY elf /\nCMD ["/elf"]\n');
    podman.mustBuildah(['build', '--quiet', '--annotation', 'module.wasm.image/variant=compat', '-t', `${tag}-elf`, context]);
    for (const runtime of [plain, hyrunBin]) {
      const r = podman.podman(['--runtime', runtime, 'run', '--rm', `${tag}-elf`]);
      assert.notEqual(r.status, 0);
      const err = cleanStderr(r.stderr);
      assert.match(err, new RegExp(`OCI runtime error: ${runtime.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: /elf is not a Wasm module: it is an ELF executable`), err);
      assert.doesNotMatch(err, /: hyrun: /, err);
    }
  });

  for (const flags of [[], ['--user', '1000', '--read-only']]) {
    test(`podman run ${flags.join(' ') || '(root)'}: the attack is refused, absolute links resolve inside`, () => {
      // Podman 4.3 has no `--mount type=proc`: the host's own procfs, bound in, is the other procfs here
      // (its /xproc/1/mem is the host's init: all the more reason to refuse it).
      const r = podman.podman(['run', '--rm', ...flags, '--device', `${MEMDEV}:/dev/memdev`, '-v', '/proc:/xproc',
        '-v', `${volume}:/vol`, tag, ...guestArgs()]);
      run('rm', ['-f', join(volume, 'guest-link'), join(volume, 'times-probe')]);
      checkGuest({ ...r, stderr: cleanStderr(r.stderr) }, `podman ${flags.join(' ')}`, { readOnlyRoot: flags.length > 0, uid1000: flags.length > 0 });
    });
  }
});
