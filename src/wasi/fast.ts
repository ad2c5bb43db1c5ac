// Lookups through the addon's openat2 (native.ts): one syscall resolves a whole path from a directory
// descriptor, where resolve.ts lstat's every component. It is only a shortcut: it answers just the
// cases in which resolve.ts would reach the very same inode with no special rule in play, and
// returns null for everything else (any error included), which then goes through resolve.ts for
// the authoritative answer and errno.
//
// Why the answers agree: RESOLVE_BENEATH keeps every step (`..` and symlinks, which the kernel must
// not follow to an absolute target) inside the directory; RESOLVE_NO_XDEV refuses to cross a mount,
// so the target is on the directory's own filesystem, a 'data' one (never procfs or sysfs) and no
// hidden path is passed (each is a mount point, checked at setup: preopen.ts); RESOLVE_NO_MAGICLINKS
// refuses /proc-style links. Devices are left to resolve.ts, which applies the device rule.
import * as fs from 'node:fs';
import type { DirectoryDescriptor } from './directory.js';
import type { Filestat } from './descriptor.js';
import { native, RESOLVE, ST } from './native.js';
import { MAX_PATH_BYTES } from './resolve.js';
import { FILETYPE } from './constants.js';

const BENEATH = RESOLVE.BENEATH | RESOLVE.NO_XDEV | RESOLVE.NO_MAGICLINKS;
const O_PATH = 0o10000000;
const S_IFMT = 0o170000n;
const FILETYPE_OF: Record<string, number> = {
  [String(0o100000n)]: FILETYPE.REGULAR_FILE, [String(0o040000n)]: FILETYPE.DIRECTORY, [String(0o120000n)]: FILETYPE.SYMBOLIC_LINK,
  [String(0o140000n)]: FILETYPE.SOCKET_STREAM, [String(0o010000n)]: FILETYPE.UNKNOWN,
};

const stBuf = new BigUint64Array(ST.length);

/** Whether `dir` and `path` qualify at all: the addon is there, the root allows it, the path is plain. */
function eligible(dir: DirectoryDescriptor, path: string): boolean {
  return dir.root.fastLookups && dir.zone === 'data' && path.length > 0 && path.length <= MAX_PATH_BYTES &&
    path.charCodeAt(0) !== 47 && !path.includes('\0');
}

/** The filestat of `path` under `dir`, or null to ask resolve.ts. Devices always go to resolve.ts. */
export function fastFilestat(dir: DirectoryDescriptor, path: string, follow: boolean): Filestat | null {
  const n = native();
  if (n === null || !eligible(dir, path)) return null;
  if (n.statat2(dir.hostFd, path, follow ? 0 : fs.constants.O_NOFOLLOW, BENEATH, stBuf) !== 0) return null;
  const filetype = FILETYPE_OF[String(stBuf[ST.mode]! & S_IFMT)];
  if (filetype === undefined) return null; // a character or block device
  return {
    dev: stBuf[ST.dev]!, ino: stBuf[ST.ino]!, filetype, nlink: stBuf[ST.nlink]!, size: stBuf[ST.size]!,
    atim: stBuf[ST.atim]!, mtim: stBuf[ST.mtim]!, ctim: stBuf[ST.ctim]!,
  };
}

/**
 * Opens an existing directory `path` under `dir` with no symlink anywhere on the way
 * (RESOLVE_NO_SYMLINKS), so its root-relative components follow from the text alone. Returns the
 * host fd and those components, or null to ask resolve.ts.
 */
export function fastOpenDirectory(dir: DirectoryDescriptor, path: string): { fd: number; rel: string[] } | null {
  const n = native();
  if (n === null || !eligible(dir, path)) return null;
  const fd = n.openat2(dir.hostFd, path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW, 0, BENEATH | RESOLVE.NO_SYMLINKS);
  if (fd < 0) return null;
  const rel = dir.rel.slice();
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') rel.pop(); // BENEATH already refused a `..` above `dir`
    else rel.push(c);
  }
  return { fd, rel };
}

/**
 * Opens an existing regular file `path` under `dir` with `flags` (no O_CREAT): first an O_PATH look
 * (opening a fifo or device could block or act), then the open itself, which must land on the same
 * inode. Returns the fd and its fstat, or null to ask resolve.ts.
 */
export function fastOpenFile(dir: DirectoryDescriptor, path: string, follow: boolean, flags: number): { fd: number; stat: fs.BigIntStats } | null {
  const n = native();
  if (n === null || !eligible(dir, path)) return null;
  const nofollow = follow ? 0 : fs.constants.O_NOFOLLOW;
  if (n.statat2(dir.hostFd, path, nofollow, BENEATH, stBuf) !== 0 || (stBuf[ST.mode]! & S_IFMT) !== 0o100000n) return null;
  const dev = stBuf[ST.dev]!;
  const ino = stBuf[ST.ino]!;
  const fd = n.openat2(dir.hostFd, path, flags | nofollow, 0, BENEATH);
  if (fd < 0) return null;
  const stat = fs.fstatSync(fd, { bigint: true });
  if (stat.dev !== dev || stat.ino !== ino || !stat.isFile()) {
    fs.closeSync(fd);
    return null;
  }
  return { fd, stat };
}
