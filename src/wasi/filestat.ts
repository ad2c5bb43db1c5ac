// Host stat → preview1 filestat, and the timestamp rules shared by fd_/path_filestat_set_times.
import * as fs from 'node:fs';
import type { BigIntStats, Stats } from 'node:fs';
import { ERRNO, FILETYPE, FSTFLAGS } from './constants.js';
import type { Filestat } from './descriptor.js';
import { errnoCode, WasiError } from './errors.js';
import type { GuestMemory } from './memory.js';
import { native, UTIME_NOW, UTIME_OMIT } from './native.js';

/**
 * The preview1 filetype of a host inode. Preview1 has no FIFO type: like wasmtime we report
 * fifos as UNKNOWN.
 */
/** What the WASI host needs of a stat: node's, or the addon's (resolve.ts HostStat). */
export interface StatLike {
  dev: bigint; ino: bigint; nlink: bigint; size: bigint; atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint; rdev: bigint;
  isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean;
}

export function filetypeOf(st: StatLike | Stats): number {
  if (st.isFile()) return FILETYPE.REGULAR_FILE;
  if (st.isDirectory()) return FILETYPE.DIRECTORY;
  if (st.isSymbolicLink()) return FILETYPE.SYMBOLIC_LINK;
  if (st.isCharacterDevice()) return FILETYPE.CHARACTER_DEVICE;
  if (st.isBlockDevice()) return FILETYPE.BLOCK_DEVICE;
  if (st.isSocket()) return FILETYPE.SOCKET_STREAM;
  return FILETYPE.UNKNOWN;
}

export function toFilestat(st: StatLike): Filestat {
  return {
    dev: st.dev, ino: st.ino, filetype: filetypeOf(st), nlink: st.nlink, size: st.size,
    atim: st.atimeNs, mtim: st.mtimeNs, ctim: st.ctimeNs,
  };
}

/** Writes `__wasi_filestat_t` (64 bytes: dev@0 ino@8 filetype@16 nlink@24 size@32 atim@40 mtim@48 ctim@56). */
export function writeFilestat(mem: GuestMemory, ptr: number, f: Filestat): void {
  mem.slice(ptr, 64).fill(0); // padding after filetype must not leak stale guest bytes
  mem.setU64(ptr, f.dev);
  mem.setU64(ptr + 8, f.ino);
  mem.setU8(ptr + 16, f.filetype);
  mem.setU64(ptr + 24, f.nlink);
  mem.setU64(ptr + 32, f.size);
  mem.setU64(ptr + 40, f.atim);
  mem.setU64(ptr + 48, f.mtim);
  mem.setU64(ptr + 56, f.ctim);
}

const nsToSeconds = (ns: bigint): number => Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;

/**
 * Turns (atim, mtim, fstflags) into the two times Node's utimes family wants, in seconds.
 * ATIM with ATIM_NOW (or MTIM with MTIM_NOW) is contradictory: INVAL. A time not being set keeps
 * its current value, read from `current` (Node has no UTIME_OMIT).
 *
 * Precision: Node passes times as doubles, so a set time is exact to about a microsecond, not to
 * the nanosecond the guest gave. Used only without the addon (timesToSetNs is exact).
 */
/**
 * (atim, mtim, fstflags) as utimensat(2) takes them, in nanoseconds, with UTIME_NOW / UTIME_OMIT
 * (native.ts) for "now" and "unchanged": exact, and no stat needed.
 */
export function timesToSetNs(atim: bigint, mtim: bigint, fstflags: number): [bigint, bigint] {
  checkFstflags(fstflags);
  const a = fstflags & FSTFLAGS.ATIM ? atim : fstflags & FSTFLAGS.ATIM_NOW ? UTIME_NOW : UTIME_OMIT;
  const m = fstflags & FSTFLAGS.MTIM ? mtim : fstflags & FSTFLAGS.MTIM_NOW ? UTIME_NOW : UTIME_OMIT;
  // utimensat takes tv_sec as a signed 64-bit count: larger guest values cannot be represented.
  if (a > 0x7fffffffffffffffn || m > 0x7fffffffffffffffn) throw new WasiError(ERRNO.OVERFLOW);
  return [a, m];
}

function checkFstflags(fstflags: number): void {
  if ((fstflags & ~0xf) !== 0) throw new WasiError(ERRNO.INVAL, 'unknown fstflags');
  if ((fstflags & FSTFLAGS.ATIM) && (fstflags & FSTFLAGS.ATIM_NOW)) throw new WasiError(ERRNO.INVAL, 'ATIM with ATIM_NOW');
  if ((fstflags & FSTFLAGS.MTIM) && (fstflags & FSTFLAGS.MTIM_NOW)) throw new WasiError(ERRNO.INVAL, 'MTIM with MTIM_NOW');
}

export function timesToSet(atim: bigint, mtim: bigint, fstflags: number, current: () => BigIntStats): [number, number] {
  checkFstflags(fstflags);
  const now = Date.now() / 1000;
  let st: BigIntStats | null = null;
  const cur = (): BigIntStats => (st ??= current());
  const a = fstflags & FSTFLAGS.ATIM ? nsToSeconds(atim) : fstflags & FSTFLAGS.ATIM_NOW ? now : nsToSeconds(cur().atimeNs);
  const m = fstflags & FSTFLAGS.MTIM ? nsToSeconds(mtim) : fstflags & FSTFLAGS.MTIM_NOW ? now : nsToSeconds(cur().mtimeNs);
  return [a, m];
}

/**
 * fd_filestat_set_times on an open host descriptor: to the nanosecond through the addon's
 * futimens, else through node's futimes (about a microsecond: it takes seconds as a double).
 */
export function setFdTimes(hostFd: number, atim: bigint, mtim: bigint, fstflags: number): void {
  const n = native();
  if (n !== null) {
    const [a, m] = timesToSetNs(atim, mtim, fstflags);
    const r = n.utimens(hostFd, null, a, m, false);
    if (r < 0) throw Object.assign(new Error('futimens failed'), { code: errnoCode(-r) });
    return;
  }
  const [a, m] = timesToSet(atim, mtim, fstflags, () => fs.fstatSync(hostFd, { bigint: true }));
  fs.futimesSync(hostFd, a, m);
}

/** path_filestat_set_times on `name` in a held directory, never following a final symlink (resolution did that). */
export function setPathTimes(dirFd: number, name: string, atim: bigint, mtim: bigint, fstflags: number): void {
  const n = native();
  if (n === null) throw Object.assign(new Error('no addon'), { code: 'ENOSYS' });
  const [a, m] = timesToSetNs(atim, mtim, fstflags);
  const r = n.utimens(dirFd, name, a, m, true);
  if (r < 0) throw Object.assign(new Error('utimensat failed'), { code: errnoCode(-r) });
}
