// What a guest may reach beyond ordinary files, decided by the filesystem an inode lives on (statfs's
// f_type) and by device numbers, never by the path's spelling: procfs or sysfs can be mounted or
// bound anywhere (a volume, `--dir /proc::/x`), and a device node can sit in any directory.
//
//  - Kernel interface filesystems (procfs, sysfs, cgroupfs, debugfs, …) are closed: their mount
//    points are visible as directories, and below them nothing is reachable, except a few
//    informational files at the root of a procfs (INFO_FILES), read-only. /proc/<pid>/mem, fd/*,
//    root, cwd, exe, environ, map_files, mountinfo, kcore, sysrq-trigger: all refused, for every
//    pid, `self` and `thread-self`, through any path, since `self` itself is not on the list.
//  - Character devices: only the harmless ones (DEVICES) and the guest's own stdio; block devices
//    never. Whatever the container's device list says.
// Refusals are ACCES: the object exists, the guest may not have it.
import * as fs from 'node:fs';
import { errnoCode } from './errors.js';
import { native, O_NOFOLLOW, O_PATH, ST, statBuffer } from './native.js';

/** f_type of the filesystems whose files are kernel interfaces rather than data. */
export const KERNEL_FS_TYPES: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'], [0x74726163, 'tracefs'], [0x73636673, 'securityfs'], [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'], [0xde5e81e4, 'efivarfs'], [0xf97cff8c, 'selinuxfs'], [0x43415d53, 'smackfs'],
  [0x62656570, 'configfs'], [0x42494e4d, 'binfmt_misc'], [0x65735543, 'fusectl'], [0x6e736673, 'nsfs'],
  [0x19800202, 'mqueue'],
]);
export const PROC_SUPER_MAGIC = 0x9fa0;
/** A procfs's root directory is inode 1 (PROC_ROOT_INO); a bind mount of a subdirectory is not. */
const PROC_ROOT_INO = 1;

/**
 * Files at the root of a procfs that real programs read to size themselves (nproc, memory, uptime,
 * load, kernel version) and that say nothing about any process: readable, never writable.
 */
export const INFO_FILES: ReadonlySet<string> = new Set(['cpuinfo', 'meminfo', 'uptime', 'loadavg', 'version']);

/** Character devices any guest may open: [major, minor, usual name]. */
export const DEVICES: readonly (readonly [number, number, string])[] = [
  [1, 3, 'null'], [1, 5, 'zero'], [1, 7, 'full'], [1, 8, 'random'], [1, 9, 'urandom'], [5, 0, 'tty'],
];

/** glibc's gnu_dev_major/minor for the kernel's 64-bit dev_t encoding. */
export const devMajor = (rdev: bigint): number => Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n));
export const devMinor = (rdev: bigint): number => Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));

/**
 * Where a directory stands:
 *  - 'data': an ordinary filesystem; its entries are the guest's to use;
 *  - 'procRoot': the root of a procfs; only INFO_FILES are reachable below it;
 *  - 'closed': any other directory on a kernel filesystem; nothing below it is reachable.
 */
export type Zone = 'data' | 'procRoot' | 'closed';

/** The filesystem checks for one WASI instance (its stdio devices are allowed too). */
export class FsPolicy {
  /** dev -> f_type; filesystems are classified once, on first sight. */
  private readonly fsTypes = new Map<number, number>();
  /** The guest's stdio devices, looked up on the first device open (not on every start). */
  private stdioDevices: Set<bigint> | null = null;

  constructor(private readonly stdioFds: readonly number[] = []) {}

  private stdio(): Set<bigint> {
    if (this.stdioDevices !== null) return this.stdioDevices;
    this.stdioDevices = new Set();
    for (const fd of this.stdioFds) {
      try {
        const st = fs.fstatSync(fd, { bigint: true });
        if (st.isCharacterDevice()) this.stdioDevices.add(st.rdev);
      } catch {
        // not open: nothing to allow
      }
    }
    return this.stdioDevices;
  }

  /** f_type of a held descriptor's filesystem (fstatfs: no path, nothing to race), cached by device. */
  fsTypeOfFd(fd: number, dev: number): number {
    const known = this.fsTypes.get(dev);
    if (known !== undefined) return known;
    const n = native();
    if (n === null) throw Object.assign(new Error('no addon to classify a filesystem'), { code: 'ENOSYS' });
    const type = n.fstatfs(fd);
    if (type < 0) throw Object.assign(new Error('fstatfs failed'), { code: errnoCode(-type) });
    this.fsTypes.set(dev, type);
    return type;
  }

  isKernelFs(type: number): boolean { return KERNEL_FS_TYPES.has(type); }

  /** The zone of a held directory (dev, ino): its filesystem decides, procfs's root being the one open door. */
  zoneOfHeld(fd: number, dev: number, ino: number): Zone {
    const type = this.fsTypeOfFd(fd, dev);
    if (!this.isKernelFs(type)) return 'data';
    return type === PROC_SUPER_MAGIC && ino === PROC_ROOT_INO ? 'procRoot' : 'closed';
  }

  /**
   * The zone of `name` in held directory `dirFd`, an inode (dev, ino) on another device than the
   * directory: known from the device when it was seen before, else from an O_PATH descriptor of it
   * (checked to be that inode) and fstatfs.
   */
  zoneAt(dirFd: number, name: string, dev: number, ino: number): Zone {
    const known = this.fsTypes.get(dev);
    if (known !== undefined) return !this.isKernelFs(known) ? 'data' : known === PROC_SUPER_MAGIC && ino === PROC_ROOT_INO ? 'procRoot' : 'closed';
    const n = native();
    if (n === null) throw Object.assign(new Error('no addon to classify a filesystem'), { code: 'ENOSYS' });
    const out = statBuffer();
    const fd = n.openat(dirFd, name, O_PATH | O_NOFOLLOW, 0, out);
    if (fd < 0) throw Object.assign(new Error('openat failed'), { code: errnoCode(-fd) });
    try {
      const view = new DataView(out.buffer);
      const sameDev = view.getUint32(ST.dev, true) + view.getUint32(ST.dev + 4, true) * 2 ** 32 === dev;
      if (!sameDev) throw Object.assign(new Error('filesystem changed while classifying it'), { code: 'EAGAIN' });
      return this.zoneOfHeld(fd, dev, ino);
    } finally {
      n.close(fd);
    }
  }

  /** Whether a character or block device with this rdev may be opened. */
  deviceAllowed(st: { isCharacterDevice(): boolean; isBlockDevice(): boolean; rdev: number | bigint }): boolean {
    if (st.isBlockDevice()) return false;
    if (!st.isCharacterDevice()) return true;
    const rdev = BigInt(st.rdev);
    if (this.stdio().has(rdev)) return true;
    const major = devMajor(rdev);
    const minor = devMinor(rdev);
    return DEVICES.some(([ma, mi]) => ma === major && mi === minor);
  }
}
