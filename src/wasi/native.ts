// The Node-API addon (native/hyrun_native.c): syscalls node lacks. It only executes; every decision
// is made by its callers here in src/wasi. The sandbox needs it: a guest's path is resolved on held
// directory descriptors (openat, readlinkat, the *at mutations), never on a path string the kernel
// would resolve anew, which node's fs cannot do. Without it (not built, another node ABI,
// HYRUN_NO_NATIVE=1) a guest with any preopen is refused (sandboxMode). openat2 is used where the
// kernel has it (>= 5.6, not refused by seccomp), for one-call lookups; otherwise every lookup walks
// component by component (HYRUN_NO_OPENAT2=1 forces that, for tests).
import { closeSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's file name, next to the bundles in dist/ and in the runtime directory. */
export const NATIVE_FILE = 'hyrun-native.node';

/** Linux open(2) and *at flags the WASI host passes to the addon (node's fs.constants lacks O_PATH). */
export const O_PATH = 0o10000000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;

/** openat2's resolve flags (linux/openat2.h). */
export const RESOLVE = { NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10 } as const;

/** utimens: a time that means "now" / "leave as it is". */
export const UTIME_NOW = -1n;
export const UTIME_OMIT = -2n;

/**
 * The buffer the stat calls fill: 9 little-endian u64 at these byte offsets. The first 64 bytes are
 * laid out as preview1's filestat, except `mode` where the filestat has its filetype byte.
 */
export const ST = { dev: 0, ino: 8, mode: 16, nlink: 24, size: 32, atim: 40, mtim: 48, ctim: 56, rdev: 64, bytes: 72 } as const;
/** A stat buffer for the addon (8-aligned). */
export const statBuffer = (): Uint8Array => new Uint8Array(new ArrayBuffer(ST.bytes));

export interface Native {
  /** -> fd, or -errno. */
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  /** O_PATH-opens `path` under the resolve rules and fstats it into `out` (layout ST): 0 or -errno. */
  statat2(dirfd: number, path: string, flags: number, resolve: number, out: Uint8Array): number;
  /** fstatat(2), no resolve rules: for a single component only. */
  fstatat(dirfd: number, name: string, flags: number, out: Uint8Array): number;
  fstat(fd: number, out: Uint8Array): number;
  /** -> the filesystem's magic (f_type), or -errno. */
  fstatfs(fd: number): number;
  /** path null: futimens(fd); else utimensat(fd, path) (fd -100: AT_FDCWD). Times in ns, or UTIME_NOW/UTIME_OMIT. */
  utimens(fd: number, path: string | null, atimNs: bigint, mtimNs: bigint, nofollow: boolean): number;
  /** Rewrites the whole /proc/PID/cmdline area with `cmdline` and sets the thread name: bytes kept, or -errno. */
  setTitle(cmdline: string, comm: string): number;
  /** linux_dirent64 records into `buf`: bytes, 0 at the end, or -errno. */
  getdents(fd: number, buf: Buffer): number;
  /** `signal` ends the process at once with 128 + signal, from a C handler (no JS runs): 0 or -errno. Absent in older builds. */
  exitOnSignal?(signal: number): number;
  /** openat(2) of one component; fstat of the new fd into `out` (layout ST): fd, or -errno. */
  openat(dirfd: number, name: string, flags: number, mode: number, out: Uint8Array): number;
  close(fd: number): number;
  /** 1 when fd is a terminal, else 0 (absent from addons built before it). */
  isatty?(fd: number): number;
  /** readlinkat(2) into `buf`: bytes, or -errno. */
  readlinkat(dirfd: number, name: string, buf: Buffer): number;
  mkdirat(dirfd: number, name: string, mode: number): number;
  /** flags: AT_REMOVEDIR (0x200) for a directory. */
  unlinkat(dirfd: number, name: string, flags: number): number;
  renameat(oldDirfd: number, oldName: string, newDirfd: number, newName: string): number;
  /** Never follows a symlink source. */
  linkat(oldDirfd: number, oldName: string, newDirfd: number, newName: string): number;
  symlinkat(text: string, dirfd: number, name: string): number;
}

let cached: Native | null | undefined;
/** Why the addon is not in use, for `hyrun --version` and docs; null when it is. */
let whyAbsent: string | null = null;
/** Whether openat2 works here (set when the addon loads). */
let hasOpenat2 = false;

/** The addon, or null when it cannot be used here. Loaded once per thread. */
export function native(): Native | null {
  if (cached !== undefined) return cached;
  cached = load();
  return cached;
}

export function nativeStatus(): string {
  return native() === null ? `absent (${whyAbsent})` : 'loaded';
}

/** openat2 may be used for one-call lookups (the addon is loaded and the kernel accepts it). */
export function openat2Usable(): boolean {
  return native() !== null && hasOpenat2;
}

/**
 * How guest paths are resolved, for `hyrun --version` and `hyrun doctor`: race-free on held
 * descriptors with the addon (openat2 where the kernel has it), else preopens are refused.
 */
export function sandboxMode(): string {
  if (native() === null) return `refused for guests with preopens (addon ${nativeStatus()})`;
  return hasOpenat2 ? 'race-free (openat2 + held descriptors)' : `race-free (held descriptors, component by component; ${whyNoOpenat2})`;
}
let whyNoOpenat2 = '';

/** The one line a guest with preopens gets when the addon is missing. */
export function addonRequiredMessage(): string {
  return `the Wasm sandbox needs hyrun's addon (${NATIVE_FILE}) for --dir, volumes and container roots, and it is ${nativeStatus()}: ` +
    'rebuild with `npm run build` (needs a C compiler and node\'s headers) or reinstall hyrun';
}

function load(): Native | null {
  if (process.env.HYRUN_NO_NATIVE === '1') {
    whyAbsent = 'HYRUN_NO_NATIVE=1';
    return null;
  }
  if (process.platform !== 'linux') {
    whyAbsent = 'not Linux';
    return null;
  }
  // Next to this bundle (dist/*.cjs, /.hyrun/*.cjs), or two levels up from dist/src/wasi/native.js.
  const here = dirname(fileURLToPath(import.meta.url));
  const file = [join(here, NATIVE_FILE), join(here, '..', '..', NATIVE_FILE)].find((f) => existsSync(f));
  if (file === undefined) {
    whyAbsent = `${NATIVE_FILE} not built`;
    return null;
  }
  try {
    const addon = createRequire(import.meta.url)(file) as Native;
    if (typeof addon.openat !== 'function') {
      whyAbsent = `${file} is from an older build (no openat)`;
      return null;
    }
    // A kernel without openat2 (< 5.6) or a seccomp profile that refuses it: ENOSYS / EPERM. The
    // walk on held descriptors needs only openat.
    if (process.env.HYRUN_NO_OPENAT2 === '1') whyNoOpenat2 = 'HYRUN_NO_OPENAT2=1';
    else {
      const probe = addon.openat2(-100, '/', O_PATH, 0, RESOLVE.NO_MAGICLINKS);
      if (probe >= 0) {
        closeSync(probe);
        hasOpenat2 = true;
      } else whyNoOpenat2 = `openat2 refused (errno ${-probe})`;
    }
    return addon;
  } catch (error) {
    whyAbsent = `cannot load ${file}: ${(error as Error).message.split('\n')[0]}`;
    return null;
  }
}
