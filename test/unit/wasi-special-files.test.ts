// special-files.ts on its own: device numbers, the device rule, filesystem classification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';
import { devMajor, devMinor, FsPolicy, KERNEL_FS_TYPES, PROC_SUPER_MAGIC } from '../../src/wasi/special-files.js';

const makedev = (major: number, minor: number): bigint =>
  (BigInt(minor) & 0xffn) | ((BigInt(major) & 0xfffn) << 8n) | ((BigInt(minor) & ~0xffn) << 12n) | ((BigInt(major) & ~0xfffn) << 32n);
const chr = (major: number, minor: number) => ({ isCharacterDevice: () => true, isBlockDevice: () => false, rdev: makedev(major, minor) });
const blk = (major: number, minor: number) => ({ isCharacterDevice: () => false, isBlockDevice: () => true, rdev: makedev(major, minor) });

test('device numbers decode as glibc encodes them, small and large', () => {
  for (const [ma, mi] of [[1, 3], [5, 0], [136, 7], [259, 1], [4095, 255], [4096, 70000]] as const) {
    assert.equal(devMajor(makedev(ma, mi)), ma);
    assert.equal(devMinor(makedev(ma, mi)), mi);
  }
});

test('only the harmless character devices and the guest\'s own stdio devices may be opened', () => {
  const policy = new FsPolicy([]);
  for (const [ma, mi] of [[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0]]) assert.ok(policy.deviceAllowed(chr(ma, mi)), `${ma}:${mi}`);
  for (const [ma, mi] of [[1, 1], [1, 2], [1, 4], [1, 11], [5, 1], [5, 2], [10, 200], [136, 0], [4, 0]]) assert.ok(!policy.deviceAllowed(chr(ma, mi)), `${ma}:${mi}`);
  assert.ok(!policy.deviceAllowed(blk(1, 3)), 'a block device, whatever its numbers');
  assert.ok(!policy.deviceAllowed(blk(8, 0)));
  assert.ok(policy.deviceAllowed({ isCharacterDevice: () => false, isBlockDevice: () => false, rdev: 0n }), 'not a device at all');
});

test('procfs and sysfs are kernel filesystems; a tmpfs or ext4 is not', () => {
  const policy = new FsPolicy([]);
  assert.equal(KERNEL_FS_TYPES.get(PROC_SUPER_MAGIC), 'proc');
  assert.ok(policy.isKernelFs(0x62656572)); // sysfs
  assert.ok(!policy.isKernelFs(0x01021994)); // tmpfs
  assert.ok(!policy.isKernelFs(0xef53)); // ext4
  // The real mounts of this machine, asked through statfs.
  const zone = (path: string): string => {
    const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const st = fstatSync(fd);
      return policy.zoneOfHeld(fd, st.dev, st.ino);
    } finally {
      closeSync(fd);
    }
  };
  assert.equal(zone('/proc'), 'procRoot');
  assert.equal(zone('/sys'), 'closed');
  assert.equal(zone('/proc/self'), 'closed');
  assert.equal(zone('/tmp'), 'data');
});
