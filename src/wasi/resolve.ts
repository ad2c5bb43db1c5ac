// Sandboxed path resolution: the security core of the WASI filesystem.
//
// Every guest path is resolved here, component by component, on host paths this module builds
// itself from the preopen's host directory. The rules, which every path_* function inherits:
//
//  - absolute guest paths are refused with NOTCAPABLE (a capability system has no "/": paths are
//    relative to a directory descriptor);
//  - `..` is applied to the list of directories already walked (each verified with lstat to be a
//    real directory, not a symlink), so it can never climb above the directory descriptor the path
//    is relative to (the preopen, or a directory opened below it): doing so is NOTCAPABLE;
//  - symlinks are never followed by the host kernel on the guest's behalf: each component is
//    lstat'ed and a symlink is expanded here (readlink, then its text is resolved under the same
//    rules), at most MAX_SYMLINK_EXPANSIONS times per lookup (then LOOP). An absolute target is
//    NOTCAPABLE, the same answer as an absolute path;
//  - except under a preopen the guest calls `/` (a container's root, `--dir HOST::/`), which is
//    the guest's whole world and behaves as a root does for the kernel: an absolute symlink target
//    restarts at that root, `..` at the root stays there, and `..` may climb above a directory
//    descriptor (the guest holds the root anyway). Resolution still never leaves the preopen;
//  - kernel filesystems and devices follow special-files.ts: a path into procfs, sysfs & co. stops
//    with ACCES unless it names one of procfs's informational files, whatever the spelling;
//  - a NUL byte in a path is INVAL (the host would silently truncate the string there);
//  - a trailing `/` requires a directory (and forces a final symlink to be followed, as POSIX does);
//    a trailing `/.` names the directory itself;
//  - hidden guest paths (WasiOptions.hiddenPaths) look absent: looking one up, or anything below
//    it, is NOENT; naming one as the object to create is ACCES (it "is not there", yet the guest may
//    not create it — the name is reserved by the runtime);
//  - a preopen whose guest path lies below another preopen's (`/data` below `/`) is *mounted* in
//    that root: the root's path `data` leads to the inner preopen's host directory, whichever
//    descriptor the guest starts from, so `/data/x`, `/./data/x`, a symlink `/link -> /data` and the
//    `/data` preopen itself all reach the same file under the same rules. Each mount (and the root
//    itself) may be read-only: every change at or below it is ROFS (assertMutable), and the mount
//    points themselves cannot be removed or renamed (BUSY).
//
// Known limitation (TOCTOU): Node has no openat()/O_PATH, so after resolving, the final operation is
// done on a host path string. Another process that swaps an intermediate directory for a symlink
// between our lstat and the operation could redirect it. Mitigations: the final component is always
// opened with O_NOFOLLOW (O_DIRECTORY|O_NOFOLLOW for directories) and the opened fd is checked with
// fstat against the dev/ino we lstat'ed (see openVerified). The guest itself cannot win this race in
// a way that escapes: it is single-threaded per instance and every path it creates is resolved here.
import * as fs from 'node:fs';
import { posix } from 'node:path';
import { ERRNO } from './constants.js';
import { WasiError } from './errors.js';
import { FsPolicy, INFO_FILES, type Zone } from './special-files.js';

/** Symlink expansions allowed in one lookup before LOOP (Linux uses 40 as well). */
export const MAX_SYMLINK_EXPANSIONS = 40;

/** A preopened directory tree: where it is on the host, what the guest calls it, what is hidden in it. */
export class SandboxRoot {
  /** Host path of the preopen's directory, without a trailing slash (except for `/` itself). */
  readonly hostPath: string;
  /** Normalised absolute guest path of the root (`/`, `/data`, …). */
  readonly guestPath: string;
  /** Hidden paths that fall under this root, as root-relative `a/b` strings. */
  private readonly hiddenRel: Set<string>;

  /** The guest calls this preopen `/`: absolute symlinks and `..` behave as at a real root. */
  readonly isGuestRoot: boolean;
  /** The root directory's device and zone (a preopen may itself be a procfs or sysfs); preopen.ts sets it again from the open fd. */
  level: Level;
  /** Lookups may take the addon's openat2 path (see fast.ts): set by setupPreopens once it has checked. */
  fastLookups = false;
  /** Preopens mounted below this root, longest `rel` first (see mount()). */
  private readonly mounts: Mount[] = [];

  constructor(hostPath: string, guestPath: string, hiddenPaths: readonly string[] = [], readonly policy: FsPolicy = new FsPolicy(),
    /** Every change under this root is refused with ROFS (mounts below it say for themselves). */
    readonly readOnly = false) {
    this.hostPath = hostPath.length > 1 ? hostPath.replace(/\/+$/, '') : hostPath;
    this.guestPath = posix.normalize('/' + guestPath).replace(/(.)\/+$/, '$1');
    this.isGuestRoot = this.guestPath === '/';
    const st = fs.statSync(this.hostPath);
    this.level = { dev: st.dev, zone: policy.zoneOf(this.hostPath, st, -1) };
    this.hiddenRel = new Set();
    for (const hidden of hiddenPaths) {
      const h = posix.normalize('/' + hidden).replace(/(.)\/+$/, '$1');
      const prefix = this.guestPath === '/' ? '/' : this.guestPath + '/';
      if (h.startsWith(prefix) && h.length > prefix.length) this.hiddenRel.add(h.slice(prefix.length));
    }
  }

  /** The host path of root-relative components (already validated: no `.`, `..`, `/`, NUL). */
  hostOf(rel: readonly string[]): string {
    if (rel.length === 0) return this.hostPath;
    if (this.mounts.length > 0) {
      const m = this.mountOf(rel);
      if (m !== null) return rel.length === m.rel.length ? m.hostPath : joinHost(m.hostPath, rel.slice(m.rel.length));
    }
    return joinHost(this.hostPath, rel);
  }

  /**
   * Makes root-relative path `rel` lead to host directory `hostPath` (a canonical path), as a
   * bind mount would: a preopen whose guest path lies below this root's. Lookups through this root
   * no longer take the addon's shortcut (openat2 would see the directory underneath).
   */
  mount(rel: readonly string[], hostPath: string, readOnly: boolean): void {
    this.mounts.push({ rel: rel.slice(), hostPath: hostPath.length > 1 ? hostPath.replace(/\/+$/, '') : hostPath, readOnly });
    this.mounts.sort((a, b) => b.rel.length - a.rel.length);
    this.fastLookups = false;
  }

  get hasMounts(): boolean { return this.mounts.length > 0; }

  /** The innermost mount at or above `rel`, or null when `rel` is on the root's own directory. */
  private mountOf(rel: readonly string[]): Mount | null {
    for (const m of this.mounts) if (m.rel.length <= rel.length && m.rel.every((c, i) => rel[i] === c)) return m;
    return null;
  }

  /** Whether changes at `rel` are refused: the innermost read-only mount (or root) holding it says. */
  readOnlyAt(rel: readonly string[]): boolean {
    if (this.mounts.length === 0) return this.readOnly;
    return this.mountOf(rel)?.readOnly ?? this.readOnly;
  }

  /** Whether a writable mount lies strictly below `rel`. */
  writableBelow(rel: readonly string[]): boolean {
    for (const m of this.mounts) if (!m.readOnly && m.rel.length > rel.length && rel.every((c, i) => m.rel[i] === c)) return true;
    return false;
  }

  /** Whether `rel` is a mount point or lies above one (it cannot be removed or renamed). */
  holdsMount(rel: readonly string[]): boolean {
    for (const m of this.mounts) if (m.rel.length >= rel.length && rel.every((c, i) => m.rel[i] === c)) return true;
    return false;
  }

  /** Whether the guest must not see root-relative path `rel` (anything below a hidden path is hidden too,
   *  but resolution stops at the hidden component, so checking the exact path is enough). */
  isHidden(rel: readonly string[]): boolean {
    return this.hiddenRel.size > 0 && this.hiddenRel.has(rel.join('/'));
  }

  /** Names hidden directly inside root-relative directory `rel` (fd_readdir leaves them out), or null. */
  hiddenNamesIn(rel: readonly string[]): Set<string> | null {
    if (this.hiddenRel.size === 0) return null;
    const prefix = rel.length === 0 ? '' : rel.join('/') + '/';
    let names: Set<string> | null = null;
    for (const h of this.hiddenRel) {
      if (h.startsWith(prefix) && !h.includes('/', prefix.length)) (names ??= new Set()).add(h.slice(prefix.length));
    }
    return names;
  }

  /** The hidden paths, root-relative. */
  hidden(): readonly string[] { return [...this.hiddenRel]; }

  /** Whether a hidden path lies strictly below `rel` (moving `rel` would carry it out of hiding). */
  hidesBelow(rel: readonly string[]): boolean {
    if (this.hiddenRel.size === 0) return false;
    const prefix = rel.length === 0 ? '' : rel.join('/') + '/';
    for (const h of this.hiddenRel) if (h.startsWith(prefix)) return true;
    return false;
  }

  /** Open directory descriptors under this root, so a rename by the guest can carry them along. */
  private readonly anchors = new Set<DirectoryAnchor>();
  openDirectories(): Iterable<DirectoryAnchor> { return this.anchors; }
  /** Changes whenever a directory descriptor opens, closes or moves (fast.ts keys a memo on it). */
  directoriesVersion = 0;
  get hasHidden(): boolean { return this.hiddenRel.size > 0; }
  track(anchor: DirectoryAnchor): void {
    this.anchors.add(anchor);
    this.directoriesVersion++;
  }
  untrack(anchor: DirectoryAnchor): void {
    this.anchors.delete(anchor);
    this.directoriesVersion++;
  }

  /** The guest renamed directory `from` to `to`: descriptors at or below it now live under `to`. */
  moved(from: readonly string[], to: readonly string[]): void {
    this.directoriesVersion++;
    for (const a of this.anchors) {
      if (a.rel.length >= from.length && from.every((c, i) => a.rel[i] === c)) a.rel = [...to, ...a.rel.slice(from.length)];
    }
  }
}

/** A preopen mounted inside another's root (SandboxRoot.mount). */
interface Mount { rel: string[]; hostPath: string; readOnly: boolean }

const joinHost = (base: string, rel: readonly string[]): string => (base === '/' ? '/' + rel.join('/') : base + '/' + rel.join('/'));

/**
 * An open directory descriptor below a root: where it is (root-relative, kept current across the
 * guest's own renames) and which inode it was opened on.
 */
export interface DirectoryAnchor {
  rel: string[];
  readonly dev: bigint;
  readonly ino: bigint;
  /** What may be reached below it (special-files.ts). */
  readonly zone: Zone;
}

/** A directory on the walk: its device (to notice a mount crossing) and its zone. */
export interface Level { dev: number; zone: Zone }

/**
 * The host path of an open directory, re-verified: every component from the root is lstat'ed
 * again (a real directory, not a symlink) and the last must still be the inode the descriptor was
 * opened on. Without this, a guest could rename an open directory away, put a symlink to the
 * outside under its old name, and have later lookups through the descriptor follow it.
 * A directory moved or replaced by someone else is NOENT through its descriptor.
 */
export function anchoredHostPath(root: SandboxRoot, anchor: DirectoryAnchor): string {
  const rel = anchor.rel;
  for (let i = 1; i < rel.length; i++) {
    const st = fs.lstatSync(root.hostOf(rel.slice(0, i)), { throwIfNoEntry: false });
    if (st === undefined || !st.isDirectory()) fail(ERRNO.NOENT, 'directory descriptor no longer reachable');
  }
  const host = root.hostOf(rel);
  if (rel.length > 0) {
    const st = lstat(host);
    if (st === null || !st.isDirectory() || st.dev !== anchor.dev || st.ino !== anchor.ino) fail(ERRNO.NOENT, 'directory descriptor moved or replaced');
  }
  return host;
}

export interface ResolveOptions {
  /** Follow a symlink in the last component (LOOKUPFLAGS.SYMLINK_FOLLOW). Intermediate ones always are. */
  follow: boolean;
  /** The caller means to create the last component: a hidden name there is ACCES instead of NOENT. */
  create?: boolean;
  /**
   * The caller (path_open) can open the guest's own standard streams: a path that reaches a procfs
   * root's `self/fd/N` or `thread-self/fd/N` for N = 0, 1, 2 (where /dev/stdin, /dev/stdout,
   * /dev/stderr and /dev/fd/N lead) resolves to `stdio: N` instead of being refused.
   */
  stdio?: boolean;
}

/** Where a guest path leads, inside one root. */
export interface Resolved {
  root: SandboxRoot;
  /** Root-relative components of the directory that contains the target. */
  parent: string[];
  /** The last component, or null when the path names a directory itself (`.`, `a/..`, `a/.`). */
  name: string | null;
  /** Root-relative components of the target itself. */
  rel: string[];
  /** Host path of the target. */
  hostPath: string;
  /** Zone of the directory holding the target (for a directory named by `.`/`..`: its own). */
  parentZone: Zone;
  /** Zone of the target itself: 'data' for ordinary files and directories. */
  zone: Zone;
  /** lstat of the target (bigint), or null when it does not exist (only the last component may be missing). */
  stat: fs.BigIntStats | null;
  /** The path ended in `/`: the target must be (or, when created, will be) a directory. */
  mustBeDir: boolean;
  /** Set (with options.stdio) when the path names the guest's standard stream N; nothing else here then means anything. */
  stdio?: number;
}

const fail = (errno: number, why: string): never => {
  throw new WasiError(errno, why);
};

// Other host errors (ENAMETOOLONG, EACCES…) propagate and become the matching errno at the boundary.
const lstat = (host: string): fs.BigIntStats | null => fs.lstatSync(host, { bigint: true, throwIfNoEntry: false }) ?? null;

/** Longest guest path accepted (UTF-16 units), as Linux's PATH_MAX: bounds the work a hostile path can cost. */
export const MAX_PATH_BYTES = 4096;

/**
 * Resolves guest `path` relative to the directory descriptor `base` (null: the root itself) of `root`.
 * Throws WasiError for every refusal; never returns a host path outside `root.hostPath`.
 */
export function resolve(root: SandboxRoot, base: DirectoryAnchor | null, path: string, options: ResolveOptions): Resolved {
  if (path.length === 0) fail(ERRNO.NOENT, 'empty path');
  if (path.includes('\0')) fail(ERRNO.INVAL, 'NUL byte in path');
  if (path.charCodeAt(0) === 47 /* '/' */) fail(ERRNO.NOTCAPABLE, 'absolute path');
  if (path.length > MAX_PATH_BYTES) fail(ERRNO.NAMETOOLONG, 'path too long');

  // Relative to the root itself nothing needs checking; below it, the descriptor's own path must
  // still lead to its directory (see anchoredHostPath).
  if (base !== null && base.rel.length > 0) anchoredHostPath(root, base);
  const dir: string[] = base === null ? [] : base.rel.slice();
  // levels[i] describes the directory dir[0..i): known for the root and for `base`; the ones in
  // between are looked up only if `..` climbs there (under a guest root).
  const levels: (Level | undefined)[] = new Array(dir.length + 1);
  levels[0] = root.level;
  if (base !== null && base.rel.length > 0) levels[dir.length] = { dev: Number(base.dev), zone: base.zone };
  // A directory descriptor is a capability for its own subtree only (as in cap-std/wasmtime): `..`
  // may not climb above `base`, even though the preopen's root lies further up. Under a guest root
  // the guest holds that root already, so only the root itself bounds `..`.
  const floor = root.isGuestRoot ? 0 : dir.length;
  const levelOf = (depth: number): Level => levels[depth] ?? (levels[depth] = levelBelow(root, dir, depth, levelOf(depth - 1)));
  // Components still to walk, in reverse so pop() yields the next one; symlink texts are pushed here.
  const todo = path.split('/').reverse();
  // How many entries of `todo` are real components (not the empty strings separators leave), so
  // "is this the last component?" is O(1).
  let pendingReal = 0;
  for (const c of todo) if (c !== '') pendingReal++;
  let expansions = 0;
  /** Replaces the symlink at `host` by its text in the components still to walk. */
  const expand = (host: string): void => {
    if (++expansions > MAX_SYMLINK_EXPANSIONS) fail(ERRNO.LOOP, 'too many symlinks');
    const target = fs.readlinkSync(host, 'utf8');
    if (target.length === 0) fail(ERRNO.NOENT, 'empty symlink');
    if (target.charCodeAt(0) === 47) {
      if (!root.isGuestRoot) fail(ERRNO.NOTCAPABLE, 'absolute symlink target');
      // As the kernel does inside a container: an absolute target starts again at the root.
      dir.length = 0;
      levels.length = 1;
    }
    // What followed the link in the path (including a trailing slash) stays after its text.
    const parts = target.split('/');
    for (let i = parts.length - 1; i >= 0; i--) {
      todo.push(parts[i]);
      if (parts[i] !== '') pendingReal++;
    }
  };

  while (todo.length > 0) {
    const c = todo.pop()!;
    if (c === '') continue;
    pendingReal--;
    const last = pendingReal === 0;
    const trailingSlash = last && todo.length > 0;
    if (c === '.' || c === '..') {
      if (c === '..') {
        if (dir.length <= floor) {
          if (!(root.isGuestRoot && dir.length === 0)) fail(ERRNO.NOTCAPABLE, '.. above the directory descriptor');
          // `..` at `/` is `/` (POSIX).
        } else {
          dir.pop();
          levels.length = dir.length + 1;
        }
      }
      if (last) break; // the path names the directory `dir` itself
      continue;
    }
    const parent = levelOf(dir.length);
    const rel = [...dir, c];
    if (parent.zone !== 'data') {
      const stdio = options.stdio === true && parent.zone === 'procRoot' ? stdioLink(c, todo, pendingReal) : null;
      if (stdio !== null) return { root, parent: dir, name: c, rel, hostPath: '', parentZone: parent.zone, zone: 'closed', stat: null, mustBeDir: false, stdio };
      return procInfoFile(root, dir, c, rel, parent, last, trailingSlash);
    }
    if (root.isHidden(rel)) fail(last && options.create ? ERRNO.ACCES : ERRNO.NOENT, 'hidden path');
    const host = root.hostOf(rel);
    // Intermediate components only need their type: a plain (number) lstat is cheaper than bigint.
    const st = last ? lstat(host) : (fs.lstatSync(host, { throwIfNoEntry: false }) ?? null);
    if (st === null) {
      if (!last) fail(ERRNO.NOENT, 'missing intermediate directory');
      return { root, parent: dir, name: c, rel, hostPath: host, parentZone: parent.zone, zone: 'data', stat: null, mustBeDir: trailingSlash };
    }
    if (!last) {
      if (st.isSymbolicLink()) {
        expand(host);
        continue;
      }
      if (!st.isDirectory()) fail(ERRNO.NOTDIR, 'intermediate component is not a directory');
      const zone = root.policy.zoneOf(host, st, parent.dev);
      dir.push(c);
      levels.push({ dev: Number(st.dev), zone });
      continue;
    }
    if (st.isSymbolicLink() && (options.follow || trailingSlash)) {
      expand(host);
      continue;
    }
    if (trailingSlash && !st.isDirectory()) fail(ERRNO.NOTDIR, 'trailing slash on a non-directory');
    const zone = st.isSymbolicLink() ? 'data' : root.policy.zoneOf(host, st, parent.dev);
    // A file of a kernel filesystem bound into a data directory (a bind mount of /proc/PID/mem, say).
    if (zone !== 'data' && !st.isDirectory()) fail(ERRNO.ACCES, 'a kernel interface file');
    return { root, parent: dir, name: c, rel, hostPath: host, parentZone: parent.zone, zone, stat: st as fs.BigIntStats, mustBeDir: trailingSlash };
  }

  // The path named a directory by `.`/`..` (or a chain of them): it exists, it is `dir`.
  const host = root.hostOf(dir);
  const st = lstat(host);
  if (st === null) fail(ERRNO.NOENT, 'directory vanished');
  const own = levelOf(dir.length).zone;
  return { root, parent: dir.slice(0, -1), name: null, rel: dir, hostPath: host, parentZone: own, zone: own, stat: st, mustBeDir: true };
}

/**
 * N when component `c` of a procfs root and the components still to walk are exactly `self/fd/N` or
 * `thread-self/fd/N` with N = 0, 1 or 2 and no trailing slash (`todo` is reversed), else null.
 */
function stdioLink(c: string, todo: readonly string[], pendingReal: number): number | null {
  if ((c !== 'self' && c !== 'thread-self') || pendingReal !== 2) return null;
  const rest = todo.filter((t) => t !== '');
  const n = todo[0];
  if (rest[1] !== 'fd' || rest[0] !== n || (n !== '0' && n !== '1' && n !== '2')) return null;
  return Number(n);
}

/**
 * A component below a kernel filesystem's directory: only procfs's informational files, as the
 * last component, regular files on that same procfs. Everything else there is refused (ACCES):
 * `self`, `1`, `thread-self`, `sys`, `kcore`, `sysrq-trigger`, any sysfs entry.
 */
function procInfoFile(root: SandboxRoot, dir: string[], c: string, rel: string[], parent: Level, last: boolean, trailingSlash: boolean): Resolved {
  if (parent.zone !== 'procRoot' || !last || trailingSlash || !INFO_FILES.has(c)) fail(ERRNO.ACCES, 'inside a kernel filesystem');
  const host = root.hostOf(rel);
  const st = lstat(host);
  if (st === null) return fail(ERRNO.NOENT, 'no such informational file');
  if (!st.isFile() || Number(st.dev) !== parent.dev) fail(ERRNO.ACCES, 'not the procfs file expected');
  return { root, parent: dir, name: c, rel, hostPath: host, parentZone: parent.zone, zone: 'closed', stat: st, mustBeDir: false };
}

/** The level of dir[0..depth), below `above` (a `..` climbed above the descriptor it started from). */
function levelBelow(root: SandboxRoot, dir: readonly string[], depth: number, above: Level): Level {
  const host = root.hostOf(dir.slice(0, depth));
  const st = fs.lstatSync(host, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory()) return fail(ERRNO.NOENT, 'directory no longer reachable');
  return { dev: st.dev, zone: above.zone === 'data' ? root.policy.zoneOf(host, st, above.dev) : 'closed' };
}

/**
 * The target may be changed (written, created, removed, renamed, re-timed): refused (ACCES) for
 * anything on or under a kernel filesystem, its mount points included, and (ROFS) for anything
 * in a read-only preopen or mount.
 */
export function assertMutable(r: Resolved): void {
  if (r.parentZone !== 'data' || r.zone !== 'data') fail(ERRNO.ACCES, 'kernel filesystems are read-only to guests');
  if (r.root.readOnlyAt(r.rel)) fail(ERRNO.ROFS, 'read-only directory');
}

/** The target may be removed or renamed: not a mount point (or a directory holding one). */
export function assertNotMountPoint(r: Resolved): void {
  if (r.root.holdsMount(r.rel)) fail(ERRNO.BUSY, 'a preopened directory is mounted there');
}

/** Whether two stats describe the same inode. */
export const sameInode = (a: fs.BigIntStats, b: fs.BigIntStats): boolean => a.dev === b.dev && a.ino === b.ino;

/**
 * Opens a resolved target without letting the kernel follow a symlink in its last component
 * (O_NOFOLLOW is added), and checks the opened inode is the one resolution saw, when it saw one.
 * Returns the host fd and its fstat.
 */
export function openVerified(target: Resolved, flags: number, mode = 0o666): { fd: number; stat: fs.BigIntStats } {
  const fd = fs.openSync(target.hostPath, flags | fs.constants.O_NOFOLLOW, mode);
  try {
    const stat = fs.fstatSync(fd, { bigint: true });
    if (target.stat !== null && !sameInode(stat, target.stat)) fail(ERRNO.NOTCAPABLE, 'path changed during resolution');
    return { fd, stat };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}
