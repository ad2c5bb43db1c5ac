// Sandboxed path resolution: the security core of the WASI filesystem.
//
// Every guest path is resolved on *held directory descriptors*, one component at a time: each step
// is openat(parent, name, O_PATH|O_DIRECTORY|O_NOFOLLOW) or fstatat(parent, name, NOFOLLOW) on the
// descriptor the previous step returned, and the operation itself is the matching *at call on the
// last directory's descriptor with a single name (unlinkat, renameat, openat(O_NOFOLLOW), …). No
// path string is ever handed to the kernel to resolve anew, so another process that swaps a
// directory for a symlink while the guest looks something up cannot redirect the lookup: the
// kernel never follows a link on the guest's behalf, and what was walked is what is held.
// (fast.ts answers the common cases with one openat2 under RESOLVE_BENEATH / RESOLVE_IN_ROOT,
// which the kernel confines the same way.)
//
// The rules, which every path_* function inherits:
//  - absolute guest paths are refused with NOTCAPABLE (a capability system has no "/": paths are
//    relative to a directory descriptor);
//  - `..` pops the walk's own stack of held directories (never the kernel's `..`), so it can
//    never climb above the descriptor the path started from: doing so is NOTCAPABLE, whether the
//    `..` is written in the path or comes from a relative symlink;
//  - symlinks are expanded here (readlinkat, then their text walks under the same rules), at most
//    MAX_SYMLINK_EXPANSIONS times per lookup (then LOOP). An absolute target is NOTCAPABLE;
//  - except under a preopen the guest calls `/` (a container's root, `--dir HOST::/`), which is
//    the guest's whole world and behaves as a root does for the kernel: an absolute symlink target
//    restarts at that root (from any descriptor below it), and `..` at the root stays there. A
//    descriptor below the root is still a capability for its own subtree only;
//  - kernel filesystems and devices follow special-files.ts, judged on the held descriptors (the
//    filesystem's magic by fstatfs, never the path's spelling): a path into procfs, sysfs & co.
//    stops with ACCES unless it names one of procfs's informational files;
//  - a NUL byte in a path is INVAL; a path of MAX_PATH_BYTES UTF-8 bytes or more is NAMETOOLONG
//    (measured in bytes, never cut);
//  - a trailing `/` requires a directory (and forces a final symlink to be followed, as POSIX does);
//    a trailing `/.` names the directory itself;
//  - hidden guest paths (WasiOptions.hiddenPaths) look absent: looking one up, or anything below
//    it, is NOENT; naming one as the object to create is ACCES (the name is reserved by the
//    runtime). They are recognised by the directory they sit in (its inode) and their name, and,
//    when they exist, by their own inode, so no other route (a symlink, a rename) reaches them;
//  - a preopen whose guest path lies below another preopen's (`/data` below `/`) is *mounted* in
//    that root, as a bind mount would be: the directory holding the mount point (by inode) plus
//    the name lead to the inner preopen's held descriptor, whichever descriptor the guest starts
//    from. Each mount (and the root itself) may be read-only: every change inside it is ROFS
//    (assertMutable), and mount points themselves cannot be removed or renamed (BUSY).
import { ERRNO } from './constants.js';
import { errnoCode, WasiError } from './errors.js';
import { AT_SYMLINK_NOFOLLOW, native, O_DIRECTORY, O_NOFOLLOW, O_PATH, ST, statBuffer, type Native } from './native.js';
import { FsPolicy, INFO_FILES, type Zone } from './special-files.js';

/** Symlink expansions allowed in one lookup before LOOP (Linux uses 40 as well). */
export const MAX_SYMLINK_EXPANSIONS = 40;
/** A guest path of this many UTF-8 bytes or more is NAMETOOLONG, as Linux's PATH_MAX (which counts the NUL). */
export const MAX_PATH_BYTES = 4096;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const ENOENT = 2;
const ENOTDIR = 20;
const ELOOP = 40;

const fail = (errno: number, why: string): never => {
  throw new WasiError(errno, why);
};

/** A host errno from the addon (negative) as the error node's fs would throw, so the boundary maps it. */
export function hostError(negErrno: number, what: string): Error {
  return Object.assign(new Error(`${what} failed`), { code: errnoCode(-negErrno) });
}

/** The addon, which every lookup needs (preopens are refused without it: setupPreopens). */
export function addon(): Native {
  const n = native();
  if (n === null) throw new WasiError(ERRNO.NOTCAPABLE, 'no addon: the sandbox cannot resolve paths');
  return n;
}

/** A u64 of a stat buffer as a number (inode numbers and devices fit in 2^53 on real filesystems). */
const u64 = (view: DataView, at: number): number => view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;

/** A host stat, from the addon's buffer: what node's BigIntStats offers that the WASI host uses. */
export class HostStat {
  constructor(readonly dev: bigint, readonly ino: bigint, readonly mode: number, readonly nlink: bigint, readonly size: bigint,
    readonly atimeNs: bigint, readonly mtimeNs: bigint, readonly ctimeNs: bigint, readonly rdev: bigint) {}

  static from(buf: Uint8Array): HostStat {
    const v = new DataView(buf.buffer, buf.byteOffset, ST.bytes);
    const g = (at: number): bigint => v.getBigUint64(at, true);
    return new HostStat(g(ST.dev), g(ST.ino), v.getUint32(ST.mode, true), g(ST.nlink), g(ST.size), g(ST.atim), g(ST.mtim), g(ST.ctim), g(ST.rdev));
  }

  private type(): number { return this.mode & S_IFMT; }
  isFile(): boolean { return this.type() === S_IFREG; }
  isDirectory(): boolean { return this.type() === S_IFDIR; }
  isSymbolicLink(): boolean { return this.type() === S_IFLNK; }
  isCharacterDevice(): boolean { return this.type() === 0o020000; }
  isBlockDevice(): boolean { return this.type() === 0o060000; }
  isFIFO(): boolean { return this.type() === 0o010000; }
  isSocket(): boolean { return this.type() === 0o140000; }
}

/** The stat buffer of this thread's lookups (resolution is synchronous, so it is never shared). */
const st = statBuffer();
const stView = new DataView(st.buffer);
const stMode = (): number => stView.getUint32(ST.mode, true) & S_IFMT;
const stDev = (): number => u64(stView, ST.dev);
const stIno = (): number => u64(stView, ST.ino);

/** fstat of a held descriptor. */
export function fstatHeld(fd: number): HostStat {
  const r = addon().fstat(fd, st);
  if (r < 0) throw hostError(r, 'fstat');
  return HostStat.from(st);
}

/** A preopen mounted inside another's root (SandboxRoot.mount). */
export interface Mount {
  /** The directory holding the mount point, by inode, and the mount point's name in it. */
  parentDev: number;
  parentIno: number;
  name: string;
  /** Root-relative components of the mount point. */
  rel: string[];
  /** The inner preopen's held descriptor and what it is. */
  fd: number;
  dev: number;
  ino: number;
  zone: Zone;
  readOnly: boolean;
}

/** A preopened directory tree: its held descriptor, what the guest calls it, what is hidden in it. */
export class SandboxRoot {
  /** Normalised absolute guest path of the root (`/`, `/data`, …). */
  readonly guestPath: string;
  /** The guest calls this preopen `/`: absolute symlinks and `..` behave as at a real root. */
  readonly isGuestRoot: boolean;
  readonly dev: number;
  readonly ino: number;
  /** The root directory's zone (a preopen may itself be a procfs or sysfs); set by preopen.ts. */
  zone: Zone = 'data';
  /** Lookups may take the addon's openat2 path (see fast.ts): set by setupPreopens once it has checked. */
  fastLookups = false;
  /** Hidden paths under this root, root-relative `a/b`. */
  private readonly hiddenRel = new Set<string>();
  /** Those whose directory did not exist at setup: matched by root-relative path, as walked. */
  private readonly hiddenUnanchored = new Set<string>();
  /** Hidden names by the inode of the directory holding them: `dev:ino` -> names. */
  private readonly hiddenIn = new Map<string, Set<string>>();
  /** Inodes of the hidden objects that exist (`dev:ino`), and their devices (a cheap first test). */
  private readonly hiddenIds = new Set<string>();
  private readonly hiddenDevs = new Set<number>();
  private readonly mounts: Mount[] = [];

  constructor(
    /** The preopen's own held descriptor (O_RDONLY|O_DIRECTORY). */
    readonly fd: number,
    /** Where it is on the host: for messages only, never for lookups. */
    readonly hostPath: string,
    guestPath: string, hiddenPaths: readonly string[] = [], readonly policy: FsPolicy = new FsPolicy(),
    /** Every change under this root is refused with ROFS (mounts below it say for themselves). */
    readonly readOnly = false) {
    this.guestPath = normalizeGuest(guestPath);
    this.isGuestRoot = this.guestPath === '/';
    const s = fstatHeld(fd);
    this.dev = Number(s.dev);
    this.ino = Number(s.ino);
    const prefix = this.guestPath === '/' ? '/' : this.guestPath + '/';
    for (const hidden of hiddenPaths) {
      const h = normalizeGuest(hidden);
      if (h.startsWith(prefix) && h.length > prefix.length) this.hideRel(h.slice(prefix.length).split('/'));
    }
  }

  /** Records hidden path `rel`: by name in the directory holding it and, when it exists, by its inode. */
  private hideRel(rel: string[]): void {
    this.hiddenRel.add(rel.join('/'));
    const parent = this.heldAt(rel.slice(0, -1));
    if (parent === null) {
      this.hiddenUnanchored.add(rel.join('/'));
      return;
    }
    try {
      const key = `${parent.dev}:${parent.ino}`;
      let names = this.hiddenIn.get(key);
      if (names === undefined) this.hiddenIn.set(key, (names = new Set()));
      names.add(rel[rel.length - 1]);
      if (addon().fstatat(parent.fd, rel[rel.length - 1], AT_SYMLINK_NOFOLLOW, st) === 0 && stMode() !== S_IFLNK) {
        this.hiddenIds.add(`${stDev()}:${stIno()}`);
        this.hiddenDevs.add(stDev());
      }
    } finally {
      if (parent.fd !== this.fd) addon().close(parent.fd);
    }
  }

  /**
   * The directory at root-relative `rel` (plain names, no symlink followed), opened O_PATH, or null
   * when it is not there as a directory. Used at setup only.
   */
  heldAt(rel: readonly string[]): { fd: number; dev: number; ino: number } | null {
    const n = addon();
    let fd = this.fd, owned = false;
    let dev = this.dev, ino = this.ino;
    for (const c of rel) {
      // Through mounts made before (shallower ones first), as a deeper mount point is reached.
      const m = this.mountAt(dev, ino, c);
      const next = m !== undefined ? n.openat(m.fd, '.', O_PATH | O_DIRECTORY, 0, st) : n.openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, st);
      if (owned) n.close(fd);
      if (next < 0) return null;
      fd = next;
      owned = true;
      dev = stDev();
      ino = stIno();
    }
    return { fd, dev, ino };
  }

  /** Makes `rel` lead to another preopen's held directory, as a bind mount would (setup only). */
  mount(rel: readonly string[], fd: number, zone: Zone, readOnly: boolean): boolean {
    const parent = this.heldAt(rel.slice(0, -1));
    if (parent === null) return false;
    if (parent.fd !== this.fd) addon().close(parent.fd);
    const s = fstatHeld(fd);
    this.mounts.push({ parentDev: parent.dev, parentIno: parent.ino, name: rel[rel.length - 1], rel: rel.slice(), fd, dev: Number(s.dev), ino: Number(s.ino), zone, readOnly });
    this.fastLookups = false;
    return true;
  }

  get hasMounts(): boolean { return this.mounts.length > 0; }

  /** The mount whose mount point is `name` in the directory (dev, ino), if any. */
  mountAt(dev: number, ino: number, name: string): Mount | undefined {
    for (const m of this.mounts) if (m.parentIno === ino && m.parentDev === dev && m.name === name) return m;
    return undefined;
  }

  /** Whether a writable mount lies strictly below root-relative `rel`. */
  writableBelow(rel: readonly string[]): boolean {
    for (const m of this.mounts) if (!m.readOnly && m.rel.length > rel.length && rel.every((c, i) => m.rel[i] === c)) return true;
    return false;
  }

  /** Whether `rel` lies above a mount point (it cannot be removed or renamed). */
  holdsMount(rel: readonly string[]): boolean {
    for (const m of this.mounts) if (m.rel.length > rel.length && rel.every((c, i) => m.rel[i] === c)) return true;
    return false;
  }

  /** Whether `name` in directory (dev, ino), whose root-relative place `relOf` gives, is hidden. */
  hiddenName(dev: number, ino: number, name: string, relOf: () => readonly string[]): boolean {
    if (this.hiddenIn.get(`${dev}:${ino}`)?.has(name) === true) return true;
    if (this.hiddenUnanchored.size === 0) return false;
    const rel = relOf();
    return this.hiddenUnanchored.has(rel.length === 0 ? name : `${rel.join('/')}/${name}`);
  }

  /** Whether the inode (dev, ino) is a hidden object, whatever route led to it. */
  hiddenInode(dev: number, ino: number): boolean {
    return this.hiddenDevs.has(dev) && this.hiddenIds.has(`${dev}:${ino}`);
  }

  /** Names hidden directly inside directory (dev, ino) at root-relative `rel` (fd_readdir leaves them out), or null. */
  hiddenNamesIn(dev: number, ino: number, rel: readonly string[]): Set<string> | null {
    if (this.hiddenRel.size === 0) return null;
    const names = new Set(this.hiddenIn.get(`${dev}:${ino}`) ?? []);
    const prefix = rel.length === 0 ? '' : rel.join('/') + '/';
    for (const h of this.hiddenRel) if (h.startsWith(prefix) && !h.includes('/', prefix.length)) names.add(h.slice(prefix.length));
    return names.size === 0 ? null : names;
  }

  /** The hidden paths, root-relative. */
  hidden(): readonly string[] { return [...this.hiddenRel]; }
  get hasHidden(): boolean { return this.hiddenRel.size > 0; }

  /** Whether a hidden path lies strictly below `rel` (moving `rel` would carry it away under a new name). */
  hidesBelow(rel: readonly string[]): boolean {
    if (this.hiddenRel.size === 0) return false;
    const prefix = rel.length === 0 ? '' : rel.join('/') + '/';
    for (const h of this.hiddenRel) if (h.startsWith(prefix)) return true;
    return false;
  }

  /** Open directory descriptors under this root, so a rename by the guest can carry their `rel` along. */
  private readonly anchors = new Set<DirectoryAnchor>();
  openDirectories(): Iterable<DirectoryAnchor> { return this.anchors; }
  /** Changes whenever a directory descriptor opens, closes or moves (fast.ts keys a memo on it). */
  directoriesVersion = 0;
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

const normalizeGuest = (p: string): string => {
  const parts: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  return '/' + parts.join('/');
};

/**
 * An open directory descriptor below a root: its held descriptor and inode (what lookups start
 * from), and where it is, root-relative (kept current across the guest's own renames; used for
 * mount and hidden-path bookkeeping, never to reach the directory).
 */
export interface DirectoryAnchor {
  rel: string[];
  readonly hostFd: number;
  readonly devNumber: number;
  readonly inoNumber: number;
  /** What may be reached below it (special-files.ts). */
  readonly zone: Zone;
  /** It lies in a read-only preopen or mount. */
  readonly readOnly: boolean;
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

/** A directory on the walk: held, and what it is. */
interface Frame {
  fd: number;
  /** Opened by this walk (closed when done), or borrowed (a descriptor's, a root's, a mount's). */
  owned: boolean;
  dev: number;
  ino: number;
  zone: Zone;
  readOnly: boolean;
  /** The component that led here (null for where the walk started). */
  name: string | null;
}

/** Where a guest path leads, inside one root: the held directory that contains it and its name there. */
export interface Resolved {
  root: SandboxRoot;
  /** The held directory containing the target (the target itself when `name` is null). */
  dirFd: number;
  /** The last component, or null when the path names a directory itself (`.`, `a/..`, `a/.`). */
  name: string | null;
  /** The mount whose mount point the path names (`dirFd`/`name` then hold the mount point, `mount.fd` the directory). */
  mount?: Mount;
  /** Root-relative components of the target, as walked (the directory holding it is `rel` minus the last). */
  rel: string[];
  /** Zone of the directory holding the target (for a directory named by `.`/`..`: its own). */
  parentZone: Zone;
  /** Zone of the target itself: 'data' for ordinary files and directories. */
  zone: Zone;
  /** The target lies in a read-only preopen or mount. */
  readOnly: boolean;
  /** lstat of the target, or null when it does not exist (only the last component may be missing). */
  stat: HostStat | null;
  /** The path ended in `/`: the target must be (or, when created, will be) a directory. */
  mustBeDir: boolean;
  /** Set (with options.stdio) when the path names the guest's standard stream N; nothing else here then means anything. */
  stdio?: number;
  /** Closes what the walk still holds for this result (dirFd when it opened it). Always call it. */
  release(): void;
}

const NOTHING_TO_RELEASE = (): void => {};

/** Checks a guest path's text: what is refused before any lookup. */
export function checkPathText(path: string): void {
  if (path.length === 0) fail(ERRNO.NOENT, 'empty path');
  if (path.includes('\0')) fail(ERRNO.INVAL, 'NUL byte in path');
  if (path.charCodeAt(0) === 47 /* '/' */) fail(ERRNO.NOTCAPABLE, 'absolute path');
  // UTF-16 length is a lower bound of the UTF-8 one, and at most a third of it.
  if (path.length >= MAX_PATH_BYTES || (path.length * 3 >= MAX_PATH_BYTES && Buffer.byteLength(path) >= MAX_PATH_BYTES)) fail(ERRNO.NAMETOOLONG, 'path too long');
}

/** The buffer readlinkat fills: a text that fills it whole is too long to be a path. */
const linkBuffer = Buffer.allocUnsafeSlow(MAX_PATH_BYTES);

/**
 * Resolves guest `path` relative to the directory descriptor `base` (null: the root itself) of `root`.
 * Throws WasiError for every refusal; what it returns lies inside the root. The caller must call
 * `release()` on the result.
 */
export function resolve(root: SandboxRoot, base: DirectoryAnchor | null, path: string, options: ResolveOptions): Resolved {
  checkPathText(path);
  const n = addon();
  const rootFrame = (): Frame => ({ fd: root.fd, owned: false, dev: root.dev, ino: root.ino, zone: root.zone, readOnly: root.readOnly, name: null });
  let stack: Frame[] = [base === null ? rootFrame() :
    { fd: base.hostFd, owned: false, dev: base.devNumber, ino: base.inoNumber, zone: base.zone, readOnly: base.readOnly, name: null }];
  // Root-relative place of stack[0] (informational: hidden names and mount bookkeeping).
  let relBase: readonly string[] = base === null ? [] : base.rel;
  // `..` at the bottom of the stack: at the guest's `/` it stays there, as at a real root; from any
  // other descriptor it would leave the capability.
  let clamp = root.isGuestRoot && stack[0].dev === root.dev && stack[0].ino === root.ino;
  const relOf = (extra: string | null): string[] => {
    const rel = relBase.slice();
    for (let i = 1; i < stack.length; i++) rel.push(stack[i].name!);
    if (extra !== null) rel.push(extra);
    return rel;
  };
  const closeFrom = (depth: number): void => {
    for (let i = stack.length - 1; i >= depth; i--) if (stack[i].owned) n.close(stack[i].fd);
    stack.length = depth;
  };
  /** Ends the walk with `top` kept for the result: every other owned descriptor is closed. */
  const keepTop = (): (() => void) => {
    const top = stack[stack.length - 1];
    for (let i = 0; i < stack.length - 1; i++) if (stack[i].owned) n.close(stack[i].fd);
    return top.owned ? () => { n.close(top.fd); } : NOTHING_TO_RELEASE;
  };

  // Components still to walk, in reverse so pop() yields the next one; symlink texts are pushed here.
  const todo = path.split('/').reverse();
  // How many entries of `todo` are real components (not the empty strings separators leave), so
  // "is this the last component?" is O(1).
  let pendingReal = 0;
  for (const c of todo) if (c !== '') pendingReal++;
  let expansions = 0;
  /** Replaces the symlink `name` in `dirFd` by its text in the components still to walk. */
  const expand = (dirFd: number, name: string): void => {
    if (++expansions > MAX_SYMLINK_EXPANSIONS) fail(ERRNO.LOOP, 'too many symlinks');
    const len = n.readlinkat(dirFd, name, linkBuffer);
    if (len < 0) throw hostError(len, 'readlinkat');
    if (len >= linkBuffer.length) fail(ERRNO.NAMETOOLONG, 'symlink text too long');
    const target = linkBuffer.toString('utf8', 0, len);
    if (target.length === 0) fail(ERRNO.NOENT, 'empty symlink');
    if (target.includes('\0')) fail(ERRNO.INVAL, 'NUL in symlink text');
    if (target.charCodeAt(0) === 47) {
      if (!root.isGuestRoot) fail(ERRNO.NOTCAPABLE, 'absolute symlink target');
      // As the kernel does inside a container: an absolute target starts again at the root.
      closeFrom(0);
      stack = [rootFrame()];
      relBase = [];
      clamp = true;
    }
    // What followed the link in the path (including a trailing slash) stays after its text.
    const parts = target.split('/');
    for (let i = parts.length - 1; i >= 0; i--) {
      todo.push(parts[i]);
      if (parts[i] !== '') pendingReal++;
    }
  };

  try {
    while (todo.length > 0) {
      const c = todo.pop()!;
      if (c === '') continue;
      pendingReal--;
      const last = pendingReal === 0;
      const trailingSlash = last && todo.length > 0;
      if (c === '.' || c === '..') {
        if (c === '..') {
          if (stack.length > 1) closeFrom(stack.length - 1);
          else if (!clamp) fail(ERRNO.NOTCAPABLE, '.. above the directory descriptor');
          // else: `..` at `/` is `/` (POSIX).
        }
        if (last) break; // the path names the directory at the top of the stack itself
        continue;
      }
      const top = stack[stack.length - 1];
      if (top.zone !== 'data') {
        const stdio = options.stdio === true && top.zone === 'procRoot' ? stdioLink(c, todo, pendingReal) : null;
        if (stdio !== null) {
          closeFrom(0);
          return { root, dirFd: -1, name: c, rel: [], parentZone: 'procRoot', zone: 'closed', readOnly: true, stat: null, mustBeDir: false, stdio, release: NOTHING_TO_RELEASE };
        }
        procInfoFile(n, top, c, last, trailingSlash);
        const stat = HostStat.from(st);
        return { root, dirFd: top.fd, name: c, rel: relOf(c), parentZone: top.zone, zone: 'closed', readOnly: true, stat, mustBeDir: false, release: keepTop() };
      }
      if (root.hasHidden && root.hiddenName(top.dev, top.ino, c, () => relOf(null))) {
        fail(last && options.create ? ERRNO.ACCES : ERRNO.NOENT, 'hidden path');
      }
      const mount = root.hasMounts ? root.mountAt(top.dev, top.ino, c) : undefined;
      if (mount !== undefined) {
        if (last) {
          const stat = fstatHeld(mount.fd);
          return { root, dirFd: top.fd, name: c, mount, rel: relOf(c), parentZone: top.zone, zone: mount.zone, readOnly: mount.readOnly, stat, mustBeDir: trailingSlash, release: keepTop() };
        }
        stack.push({ fd: mount.fd, owned: false, dev: mount.dev, ino: mount.ino, zone: mount.zone, readOnly: mount.readOnly, name: c });
        continue;
      }
      if (!last) {
        const fd = n.openat(top.fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, st);
        if (fd >= 0) {
          const dev = stDev(), ino = stIno();
          stack.push({ fd, owned: true, dev, ino, zone: 'data', readOnly: top.readOnly, name: c });
          if (root.hiddenInode(dev, ino)) fail(ERRNO.NOENT, 'hidden path');
          if (dev !== top.dev) stack[stack.length - 1].zone = root.policy.zoneOfHeld(fd, dev, ino);
          continue;
        }
        if (fd === -ENOENT) fail(ERRNO.NOENT, 'missing intermediate directory');
        if (fd !== -ENOTDIR && fd !== -ELOOP) throw hostError(fd, 'openat');
        // Not a directory: a symlink to expand, or something else.
        const r = n.fstatat(top.fd, c, AT_SYMLINK_NOFOLLOW, st);
        if (r < 0) throw hostError(r, 'fstatat');
        if (stMode() !== S_IFLNK) fail(ERRNO.NOTDIR, 'intermediate component is not a directory');
        expand(top.fd, c);
        continue;
      }
      const r = n.fstatat(top.fd, c, AT_SYMLINK_NOFOLLOW, st);
      if (r === -ENOENT) {
        return { root, dirFd: top.fd, name: c, rel: relOf(c), parentZone: top.zone, zone: 'data', readOnly: top.readOnly, stat: null, mustBeDir: trailingSlash, release: keepTop() };
      }
      if (r < 0) throw hostError(r, 'fstatat');
      const mode = stMode();
      if (mode === S_IFLNK && (options.follow || trailingSlash)) {
        expand(top.fd, c);
        continue;
      }
      if (trailingSlash && mode !== S_IFDIR) fail(ERRNO.NOTDIR, 'trailing slash on a non-directory');
      const dev = stDev(), ino = stIno();
      if (root.hiddenInode(dev, ino)) fail(options.create ? ERRNO.ACCES : ERRNO.NOENT, 'hidden path');
      const stat = HostStat.from(st);
      // Another filesystem bound here (a volume, a procfs, a single file such as /etc/hosts).
      const zone = mode === S_IFLNK || dev === top.dev ? 'data' : root.policy.zoneAt(top.fd, c, dev, ino);
      // A file of a kernel filesystem bound into a data directory (a bind mount of /proc/PID/mem, say).
      if (zone !== 'data' && mode !== S_IFDIR) fail(ERRNO.ACCES, 'a kernel interface file');
      return { root, dirFd: top.fd, name: c, rel: relOf(c), parentZone: top.zone, zone, readOnly: top.readOnly, stat, mustBeDir: trailingSlash, release: keepTop() };
    }

    // The path named a directory by `.`/`..` (or a chain of them): it exists, it is the top of the stack.
    const top = stack[stack.length - 1];
    const stat = fstatHeld(top.fd);
    return { root, dirFd: top.fd, name: null, rel: relOf(null), parentZone: top.zone, zone: top.zone, readOnly: top.readOnly, stat, mustBeDir: true, release: keepTop() };
  } catch (e) {
    closeFrom(0);
    throw e;
  }
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
 * `self`, `1`, `thread-self`, `sys`, `kcore`, `sysrq-trigger`, any sysfs entry. Leaves the file's
 * stat in the lookup buffer.
 */
function procInfoFile(n: Native, parent: Frame, c: string, last: boolean, trailingSlash: boolean): void {
  if (parent.zone !== 'procRoot' || !last || trailingSlash || !INFO_FILES.has(c)) fail(ERRNO.ACCES, 'inside a kernel filesystem');
  const r = n.fstatat(parent.fd, c, AT_SYMLINK_NOFOLLOW, st);
  if (r === -ENOENT) fail(ERRNO.NOENT, 'no such informational file');
  if (r < 0) throw hostError(r, 'fstatat');
  if (stMode() !== S_IFREG || stDev() !== parent.dev) fail(ERRNO.ACCES, 'not the procfs file expected');
}

/**
 * The target may be changed (written, created, removed, renamed, re-timed): refused (ACCES) for
 * anything on or under a kernel filesystem, its mount points included, and (ROFS) for anything
 * in a read-only preopen or mount.
 */
export function assertMutable(r: Resolved): void {
  if (r.parentZone !== 'data' || r.zone !== 'data') fail(ERRNO.ACCES, 'kernel filesystems are read-only to guests');
  if (r.readOnly) fail(ERRNO.ROFS, 'read-only directory');
}

/** The target may be removed or renamed: not a mount point (or a directory holding one). */
export function assertNotMountPoint(r: Resolved): void {
  if (r.mount !== undefined || r.root.holdsMount(r.rel)) fail(ERRNO.BUSY, 'a preopened directory is mounted there');
}

/** Whether two stats describe the same inode. */
export const sameInode = (a: { dev: bigint; ino: bigint }, b: { dev: bigint; ino: bigint }): boolean => a.dev === b.dev && a.ino === b.ino;

/**
 * Opens what a resolution found, by its single name in its held directory, never following a
 * symlink (O_NOFOLLOW): a mount point opens the mount's own directory, a directory named by `.`
 * reopens the held one. Returns the host fd and the fstat of what was really opened.
 */
export function openResolved(target: Resolved, flags: number, mode = 0o666): { fd: number; stat: HostStat } {
  const n = addon();
  const fd = target.mount !== undefined ? n.openat(target.mount.fd, '.', flags & ~O_NOFOLLOW, mode, st)
    : n.openat(target.dirFd, target.name ?? '.', target.name === null ? flags & ~O_NOFOLLOW : flags | O_NOFOLLOW, mode, st);
  if (fd < 0) throw hostError(fd, 'openat');
  return { fd, stat: HostStat.from(st) };
}
