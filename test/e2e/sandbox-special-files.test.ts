// Kernel filesystems and devices (issue 7 §1, src/wasi/special-files.ts), on the host: the
// /proc/self/mem attack (test/guests/c/sec_special.c) and every spelling of it must be refused with
// ACCES whatever the preopen and wherever procfs is mounted, the executor must survive, and the
// informational procfs files and harmless devices must keep working.
// The mounts (procfs, sysfs, bind mounts) need root, which tests and CI have here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, symlinkSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrun, tempDir } from '../helpers.js';
import { runGuestInProcess } from '../wasi-harness.js';
import { openat2Usable } from '../../src/wasi/native.js';

const ACCES = '2';
const tmp = tempDir('hyrun-special-');
const box = join(tmp.path, 'box');
const mounted: string[] = [];
const sh = (cmd: string, args: string[]): void => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
};
const mount = (args: string[], at: string): void => {
  sh('mount', [...args, at]);
  mounted.push(at);
};

before(() => {
  mkdirSync(join(box, 'p'), { recursive: true });
  mkdirSync(join(box, 'ps'));
  mkdirSync(join(box, 's'));
  mkdirSync(join(box, 'dev'));
  mkdirSync(join(box, 'data'));
  writeFileSync(join(box, 'data/file.txt'), 'data\n');
  writeFileSync(join(box, 'kfile'), '');
  // procfs mounted inside the preopen, a bind mount of one process's directory, sysfs, and one
  // procfs file bound over a plain file: the names say nothing, the filesystem says everything.
  mount(['-t', 'proc', 'proc'], join(box, 'p'));
  mount(['--bind', `/proc/${process.pid}`], join(box, 'ps')); // (/proc/self would be mount's own, gone at once)
  mount(['-t', 'sysfs', 'sysfs'], join(box, 's'));
  mount(['--bind', `/proc/${process.pid}/environ`], join(box, 'kfile'));
  // Device nodes: harmless ones by their numbers, and dangerous ones.
  sh('mknod', ['-m', '666', join(box, 'dev/null'), 'c', '1', '3']);
  sh('mknod', ['-m', '666', join(box, 'dev/urandom'), 'c', '1', '9']);
  sh('mknod', ['-m', '666', join(box, 'dev/innocent-name'), 'c', '1', '1']); // /dev/mem
  sh('mknod', ['-m', '666', join(box, 'dev/kmsg'), 'c', '1', '11']);
  sh('mknod', ['-m', '666', join(box, 'dev/loop-disk'), 'b', '7', '0']);
  symlinkSync('../p/self/mem', join(box, 'data/mem-rel-link'));
  symlinkSync('/p/self/mem', join(box, 'data/mem-abs-link'));
  symlinkSync('/p', join(box, 'data/proc-abs-link'));
});
after(() => {
  for (const at of mounted.reverse()) spawnSync('umount', ['-l', at]);
  tmp.cleanup();
});

/** "PATH ro=E rw=E stat=E" lines -> { PATH: "E E E" }. */
function tries(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) ro=(\d+) rw=(\d+) stat=(\d+)$/.exec(line);
    if (m) out[m[1]!] = `${m[2]} ${m[3]} ${m[4]}`;
  }
  return out;
}

const MEM_SPELLINGS = [
  '/p/self/mem', '/p/1/mem', '/p/thread-self/../mem', '/p/self/task/../mem', '/p/self/fd/3', '/p/1/fd/1', '/p/self/fd/1/', '/p/self/root/etc/passwd',
  '/p/self/cwd', '/p/self/exe', '/p/self/environ', '/p/self/mountinfo', '/p/self/map_files', '/p/kcore', '/p/sysrq-trigger',
  '/ps/mem', '/ps/environ', '/ps/root', '/s/kernel', '/s/fs/cgroup', '/kfile', '/data/mem-rel-link', '/data/mem-abs-link',
  '/data/proc-abs-link/self/mem', '/dev/innocent-name', '/dev/kmsg', '/dev/loop-disk',
];

// sandbox-walk.test.ts runs this file again with HYRUN_NO_OPENAT2=1 (resolve.ts alone).
const mode = openat2Usable() ? 'openat2' : 'walk';
{
  test(`every spelling of /proc/PID/mem, sysfs and dangerous devices is ACCES under a guest root (${mode} lookups)`, async () => {
    {
      const r = await runGuestInProcess(guest('sec_special'), {
        args: ['sec_special', 'symlink', '../p/self/mem', '/data/guest-link', 'ls', '/p', 'ls', '/s', 'ls', '/ps',
          'cat', '/p/cpuinfo', 'cat', '/p/version', 'write', '/p/cpuinfo', 'write', '/p/sys/vm/drop_caches',
          'write', '/dev/null', 'write', '/p/self/fd/1', 'write', '/p/thread-self/fd/2', 'try', ...MEM_SPELLINGS, '/data/guest-link', '/p/cpuinfo', '/p/meminfo', '/p/uptime',
          '/p/loadavg', '/dev/null', '/dev/urandom', '/data/file.txt'],
        preopens: [{ hostPath: box, guestPath: '/' }],
      });
      assert.equal(r.exitCode, 0, r.stderr);
      // The fast mode really took the addon's path (no hidden paths here to stop it).
      assert.deepEqual(r.fastLookups, [mode === 'openat2']);
      const got = tries(r.stdout);
      for (const p of [...MEM_SPELLINGS, '/data/guest-link']) assert.equal(got[p]?.split(' ')[1], ACCES, `${p} opened for writing: ${got[p]}`);
      for (const p of MEM_SPELLINGS.filter((x) => !x.startsWith('/dev/'))) assert.equal(got[p], `${ACCES} ${ACCES} ${ACCES}`, p);
      // Devices: stat is allowed (it is only metadata), opening is not.
      for (const p of ['/dev/innocent-name', '/dev/kmsg', '/dev/loop-disk']) assert.equal(got[p], `${ACCES} ${ACCES} 0`, p);
      for (const p of ['/p/cpuinfo', '/p/meminfo', '/p/uptime', '/p/loadavg']) assert.equal(got[p], `0 ${ACCES} 0`, p);
      for (const p of ['/dev/null', '/dev/urandom', '/data/file.txt']) assert.equal(got[p], '0 0 0', p);
      assert.match(r.stdout, /^symlink \/data\/guest-link 0$/m);
      assert.match(r.stdout, /^ls \/p: cpuinfo loadavg meminfo uptime version$/m);
      assert.match(r.stdout, /^ls \/s:$/m);
      assert.match(r.stdout, /^ls \/ps:$/m); // a procfs directory that is not a procfs root: nothing in it
      assert.match(r.stdout, /^\/p\/cpuinfo: processor\s*: 0$/m);
      assert.match(r.stdout, /^\/p\/version: Linux version /m);
      assert.match(r.stdout, /^write \/p\/cpuinfo 2$/m);
      assert.match(r.stdout, /^write \/p\/sys\/vm\/drop_caches 2$/m);
      assert.match(r.stdout, /^write \/dev\/null 0$/m);
      // The guest's own streams by their procfs names (where /dev/stdout and /dev/fd/N lead): its own
      // stdout and stderr, not the executor's descriptors (fd 3 and other pids' fds stay ACCES above).
      assert.match(r.stdout, /^write \/p\/self\/fd\/1 0$/m);
      assert.match(r.stdout, /^write \/p\/thread-self\/fd\/2 0$/m);
      assert.match(r.stderr, /^1$/m);
      assert.match(r.stdout, /^survived$/m);
    }
  });
}

test('a procfs or sysfs preopened under a capability name gets the same rules (--dir /proc::/x, /sys::/y)', async () => {
  const r = await runGuestInProcess(guest('sec_special'), {
    args: ['sec_special', 'ls', '/x', 'ls', '/y', 'try', '/x/self/mem', '/x/1/mem', '/x/cpuinfo', '/y/kernel', '/x/sys/kernel/hostname'],
    preopens: [{ hostPath: '/proc', guestPath: '/x' }, { hostPath: '/sys', guestPath: '/y' }],
  });
  assert.equal(r.exitCode, 0, r.stderr);
  const got = tries(r.stdout);
  assert.equal(got['/x/self/mem'], '2 2 2');
  assert.equal(got['/x/1/mem'], '2 2 2');
  assert.equal(got['/y/kernel'], '2 2 2');
  assert.equal(got['/x/sys/kernel/hostname'], '2 2 2');
  assert.equal(got['/x/cpuinfo'], '0 2 0');
  assert.match(r.stdout, /^ls \/x: cpuinfo loadavg meminfo uptime version$/m);
  assert.match(r.stdout, /^ls \/y:$/m);
});

/** The attack through hyrun run, as the reporter ran it: the old executor printed PWNED and exited 99. */
for (const [label, dirs, mem, syscall, stat] of [
  ['--dir /proc::/proc', ['--dir', '/proc::/proc'], '/proc/self/mem', '/proc/self/task/PID/syscall', '/proc/self/stat'],
  ['--dir /::/', ['--dir', '/::/'], '/proc/self/mem', '/proc/self/task/PID/syscall', '/proc/self/stat'],
  ['--dir /proc/self::/me', ['--dir', '/proc/self::/me'], '/me/mem', '/me/task/PID/syscall', '/me/stat'],
] as const) {
  test(`hyrun run ${label}: the /proc/self/mem attack is refused and the executor survives`, () => {
    const r = hyrun(['run', ...dirs, guest('sec_special'), 'attack', mem, syscall, stat, 'try', mem, mem.replace('self', '1')]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /PWNED/);
    assert.match(r.stdout, /^attack stat-file 2$/m);
    assert.match(r.stdout, /^attack syscall-file 2$/m);
    assert.match(r.stdout, /^attack mem 2$/m);
    assert.doesNotMatch(r.stdout, /attack wrote/);
    assert.match(r.stdout, /^survived$/m);
    const got = tries(r.stdout);
    assert.equal(got[mem], '2 2 2');
  });
}

test('hyrun run --dir /dev::/dev: harmless devices open, the rest are ACCES', () => {
  const present = ['/dev/mem', '/dev/kmsg', '/dev/port'].filter((p) => existsSync(p));
  const r = hyrun(['run', '--dir', '/dev::/dev', guest('sec_special'), 'write', '/dev/null', 'try', '/dev/null', '/dev/zero', '/dev/full', '/dev/urandom', '/dev/random', ...present]);
  assert.equal(r.status, 0, r.stderr);
  const got = tries(r.stdout);
  for (const p of ['/dev/null', '/dev/zero', '/dev/full', '/dev/urandom', '/dev/random']) assert.equal(got[p], '0 0 0', p);
  for (const p of present) assert.equal(got[p], '2 2 0', p);
  assert.match(r.stdout, /^write \/dev\/null 0$/m);
});

test('the host files are untouched by the attempts', () => {
  assert.equal(readFileSync(join(box, 'data/file.txt'), 'utf8'), 'data\n');
});
