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
import { native } from './native.js';

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

  /** f_type of the filesystem holding `hostPath`, whose lstat gave `dev` (checked again, so a swap between the calls is caught). */
  fsTypeAt(hostPath: string, dev: number): number {
    const known = this.fsTypes.get(dev);
    if (known !== undefined) return known;
    const type = Number(fs.statfsSync(hostPath).type);
    const again = fs.lstatSync(hostPath, { throwIfNoEntry: false });
    if (again === undefined || again.dev !== dev) throw Object.assign(new Error('filesystem changed while classifying it'), { code: 'EAGAIN' });
    this.fsTypes.set(dev, type);
    return type;
  }

  /** f_type of an open descriptor's filesystem: fstatfs through the addon (no race), else by its path's dev. */
  fsTypeOfFd(fd: number, dev: number, hostPath: string): number {
    const n = native();
    if (n !== null) {
      const type = n.fstatfs(fd);
      if (type >= 0) {
        this.fsTypes.set(dev, type);
        return type;
      }
    }
    return this.fsTypeAt(hostPath, dev);
  }

  isKernelFs(type: number): boolean { return KERNEL_FS_TYPES.has(type); }

  /**
   * The zone of an inode entered from a 'data' directory on device `parentDev` ('closed' for a
   * non-directory means: a kernel file, refused). The same device means the same filesystem, so no
   * statfs is needed on the common path.
   */
  zoneOf(hostPath: string, st: { dev: number | bigint; ino: number | bigint }, parentDev: number): Zone {
    const dev = Number(st.dev);
    if (dev === parentDev) return 'data';
    const type = this.fsTypeAt(hostPath, dev);
    if (!this.isKernelFs(type)) return 'data';
    return type === PROC_SUPER_MAGIC && Number(st.ino) === PROC_ROOT_INO ? 'procRoot' : 'closed';
  }

  /** Zone of a directory opened as a descriptor (a preopen), from its fd. */
  zoneOfOpenDir(fd: number, st: fs.BigIntStats, hostPath: string): Zone {
    const type = this.fsTypeOfFd(fd, Number(st.dev), hostPath);
    if (!this.isKernelFs(type)) return 'data';
    return type === PROC_SUPER_MAGIC && st.ino === BigInt(PROC_ROOT_INO) ? 'procRoot' : 'closed';
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
