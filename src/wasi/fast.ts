// Lookups through the addon's openat2 (native.ts): one syscall resolves a whole path from a held
// directory descriptor, where resolve.ts walks it component by component. It is only a shortcut:
// it answers just the cases in which resolve.ts would reach the very same inode with no special
// rule in play, and returns null for everything else (any error included), which then goes through
// resolve.ts for the authoritative answer and errno.
//
// Why the answers agree, and why the kernel keeps them inside the sandbox even while another
// process renames things: from the guest's `/` itself, RESOLVE_IN_ROOT makes `..` and absolute
// symlinks stop at that directory, exactly the container-root rules; from any other descriptor,
// RESOLVE_BENEATH refuses every step (`..`, an absolute symlink) that would leave it, and resolve.ts
// then gives NOTCAPABLE or restarts at the root; RESOLVE_NO_XDEV refuses to cross a mount,
// so the target is on the directory's own filesystem, a 'data' one (never procfs or sysfs) and no
// hidden path is passed (each is a mount point, checked at setup: preopen.ts); RESOLVE_NO_MAGICLINKS
// refuses /proc-style links. Devices are left to resolve.ts, which applies the device rule.
import * as fs from 'node:fs';
import { FILETYPE } from './constants.js';
import { DirectoryDescriptor } from './directory.js';
import type { GuestMemory } from './memory.js';
import { AT_SYMLINK_NOFOLLOW, native, openat2Usable, RESOLVE, ST, statBuffer } from './native.js';
import { MAX_PATH_BYTES } from './resolve.js';

const BENEATH = RESOLVE.BENEATH | RESOLVE.NO_XDEV | RESOLVE.NO_MAGICLINKS;
const IN_ROOT = RESOLVE.IN_ROOT | RESOLVE.NO_XDEV | RESOLVE.NO_MAGICLINKS;
/** The confinement for lookups from `dir`: the guest's `/` is a root, any other descriptor a capability. */
const modeFor = (dir: DirectoryDescriptor): number =>
  dir.root.isGuestRoot && dir.inoNumber === dir.root.ino && dir.devNumber === dir.root.dev ? IN_ROOT : BENEATH;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
/** st_mode's type -> preview1 filetype; devices are absent (resolve.ts applies the device rule). */
const FILETYPE_OF = new Map<number, number>([
  [S_IFREG, FILETYPE.REGULAR_FILE], [0o040000, FILETYPE.DIRECTORY], [S_IFLNK, FILETYPE.SYMBOLIC_LINK],
  [0o140000, FILETYPE.SOCKET_STREAM], [0o010000, FILETYPE.UNKNOWN /* fifo, as filetypeOf */],
]);

const st = statBuffer();
const stView = new DataView(st.buffer);
const filestatBytes = st.subarray(0, 64);
const modeOf = (): number => stView.getUint32(ST.mode, true) & S_IFMT;

/** Whether `dir` and `path` qualify at all: the addon is there, the root allows it, the path is plain. */
function eligible(dir: DirectoryDescriptor, path: string): boolean {
  return dir.root.fastLookups && dir.zone === 'data' && path.length > 0 && path.length < MAX_PATH_BYTES &&
    path.charCodeAt(0) !== 47 && !path.includes('\0') && openat2Usable();
}

/** A name fstatat may take as it is: one component, not `.` or `..`. */
const plainName = (c: string): boolean => c.length > 0 && c !== '.' && c !== '..' && !c.includes('/');

/**
 * The directory descriptor the guest holds open at `parent` (components below `dir`), if any: a
 * path the guest names through its preopen while it walks a directory it has open (opendir, readdir,
 * stat each entry) can be looked up from that descriptor with one fstatat. Looking it up there is
 * what the guest could do itself with the descriptor.
 */
function heldDirectory(dir: DirectoryDescriptor, parent: string[]): DirectoryDescriptor | undefined {
  const depth = dir.rel.length + parent.length;
  for (const anchor of dir.root.openDirectories()) {
    if (anchor.rel.length !== depth || !(anchor instanceof DirectoryDescriptor) || anchor.zone !== 'data') continue;
    let same = true;
    for (let i = 0; i < dir.rel.length && same; i++) same = anchor.rel[i] === dir.rel[i];
    for (let i = 0; i < parent.length && same; i++) same = anchor.rel[dir.rel.length + i] === parent[i];
    if (same) return anchor;
  }
  return undefined;
}

/** The last answer of heldDirectory, valid while no directory descriptor opens, closes or moves. */
const memo = { base: null as DirectoryDescriptor | null, parent: '', version: -1, held: undefined as DirectoryDescriptor | undefined };

/** Whether every `/`-separated component of `text` is a plain name (no `.`, `..`, empty). */
function plainComponents(text: string): boolean {
  let start = 0;
  for (;;) {
    const end = text.indexOf('/', start);
    const c = end < 0 ? text.slice(start) : text.slice(start, end);
    if (!plainName(c)) return false;
    if (end < 0) return true;
    start = end + 1;
  }
}

function heldFor(dir: DirectoryDescriptor, parent: string): DirectoryDescriptor | undefined {
  if (memo.base === dir && memo.parent === parent && memo.version === dir.root.directoriesVersion) return memo.held;
  const held = plainComponents(parent) ? heldDirectory(dir, parent.split('/')) : undefined;
  memo.base = dir;
  memo.parent = parent;
  memo.version = dir.root.directoriesVersion;
  memo.held = held;
  return held;
}

/**
 * path_filestat_get's answer written straight into guest memory at `buf`, or false to ask
 * resolve.ts. One syscall (fstatat of one name in a directory the guest holds) when it can, else
 * openat2 + fstat + close.
 */
export function fastFilestatInto(dir: DirectoryDescriptor, path: string, follow: boolean, mem: GuestMemory, buf: number): boolean {
  const n = native();
  if (n === null || !eligible(dir, path)) return false;
  let done = false;
  const slash = path.lastIndexOf('/');
  const name = path.slice(slash + 1);
  if (plainName(name)) {
    const held = slash < 0 ? dir : heldFor(dir, path.slice(0, slash));
    // A hidden name, or one where a mount starts (the kernel would cross it), is resolve.ts's to answer.
    if (held !== undefined && !(dir.root.hasHidden && dir.root.hiddenName(held.devNumber, held.inoNumber, name, () => held.rel)) &&
      n.fstatat(held.hostFd, name, AT_SYMLINK_NOFOLLOW, st) === 0 && stView.getUint32(ST.dev, true) + stView.getUint32(ST.dev + 4, true) * 2 ** 32 === held.devNumber &&
      !(follow && modeOf() === S_IFLNK)) done = true;
  }
  if (!done && n.statat2(dir.hostFd, path, follow ? 0 : fs.constants.O_NOFOLLOW, modeFor(dir), st) !== 0) return false;
  const filetype = FILETYPE_OF.get(modeOf());
  if (filetype === undefined) return false; // a character or block device
  st[16] = filetype;
  st.fill(0, 17, 24);
  mem.writeAt(buf, filestatBytes);
  return true;
}

/**
 * Opens an existing directory `path` under `dir` with no symlink anywhere on the way
 * (RESOLVE_NO_SYMLINKS), so the text is exactly what the kernel resolved (the addon refuses a path
 * that does not fit whole, never cutting it) and its root-relative components follow from it.
 * Returns the host fd and those components, or null to ask resolve.ts.
 */
export function fastOpenDirectory(dir: DirectoryDescriptor, path: string): { fd: number; rel: string[] } | null {
  const n = native();
  if (n === null || !eligible(dir, path)) return null;
  const fd = n.openat2(dir.hostFd, path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW, 0, modeFor(dir) | RESOLVE.NO_SYMLINKS);
  if (fd < 0) return null;
  const rel = dir.rel.slice();
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') rel.pop(); // BENEATH refused a `..` above `dir`; IN_ROOT kept it at the root, as pop() on [] does
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
  const mode = modeFor(dir);
  if (n.statat2(dir.hostFd, path, nofollow, mode, st) !== 0 || modeOf() !== S_IFREG) return null;
  const dev = stView.getBigUint64(ST.dev, true);
  const ino = stView.getBigUint64(ST.ino, true);
  const fd = n.openat2(dir.hostFd, path, flags | nofollow | fs.constants.O_NOCTTY, 0, mode);
  if (fd < 0) return null;
  const stat = fs.fstatSync(fd, { bigint: true });
  if (stat.dev !== dev || stat.ino !== ino || !stat.isFile()) {
    fs.closeSync(fd);
    return null;
  }
  return { fd, stat };
}
