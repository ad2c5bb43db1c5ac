// Preopened directories: guest fds 3, 4, … in the order of options.preopens, each the root of its
// own sandbox (see resolve.ts). fd_prestat_get / fd_prestat_dir_name give the guest its name.
import * as fs from 'node:fs';
import { posix } from 'node:path';
import type { WasiContext } from './context.js';
import { DirectoryDescriptor, DIRECTORY_INHERITING_RIGHTS, DIRECTORY_RIGHTS } from './directory.js';
import { native, RESOLVE } from './native.js';
import { SandboxRoot } from './resolve.js';

export class PreopenDescriptor extends DirectoryDescriptor {
  constructor(root: SandboxRoot, rel: readonly string[], hostFd: number, readonly guestName: string, zone = root.level.zone) {
    super(root, rel, hostFd, DIRECTORY_RIGHTS, DIRECTORY_INHERITING_RIGHTS, zone);
    if (root.readOnlyAt(rel)) this.restrictToReading();
  }

  override prestatName(): string { return this.guestName; }
}

/** The first preopen is fd 3: 0-2 are stdio whether or not they are set up yet. */
export const FIRST_PREOPEN_FD = 3;

const components = (guest: string): string[] => posix.normalize('/' + guest).split('/').filter((c) => c !== '');

/**
 * Sets up the preopens as fds 3, 4, … in the order given. A preopen whose guest path lies strictly
 * below another's (`/data` below `/`, `/srv/x` below `/srv`) is mounted in the outermost such
 * root (SandboxRoot.mount) rather than made a root of its own, so the guest reaches its files
 * through either descriptor by the same rules, read-only included.
 */
export function setupPreopens(ctx: WasiContext): void {
  const list = ctx.options.preopens.map((p) => ({ ...p, parts: components(p.guestPath), absolute: p.guestPath.startsWith('/') }));
  // Only absolute guest paths nest (a relative name such as `.` is resolved by the guest's libc).
  const under = (i: number, j: number): boolean => {
    const inner = list[i].parts, outer = list[j].parts;
    return list[i].absolute && list[j].absolute && outer.length < inner.length && outer.every((c, k) => inner[k] === c);
  };
  const opened = list.map((p) => {
    // The canonical host path, so root-relative paths built later are not at the mercy of a
    // symlink in the configured path being changed.
    const hostPath = fs.realpathSync(p.hostPath);
    const hostFd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    const st = fs.fstatSync(hostFd, { bigint: true });
    return { hostPath, hostFd, st };
  });
  const roots: (SandboxRoot | null)[] = list.map(() => null);
  const makeRoot = (i: number): SandboxRoot => {
    const { hostPath, hostFd, st } = opened[i];
    const root = new SandboxRoot(hostPath, list[i].guestPath, ctx.options.hiddenPaths ?? [], ctx.policy, list[i].readOnly === true);
    // A preopen may itself be a procfs or sysfs (`--dir /proc::/x`): the same rules apply below it.
    root.level = { dev: Number(st.dev), zone: ctx.policy.zoneOfOpenDir(hostFd, st, hostPath) };
    return (roots[i] = root);
  };
  // The outermost preopen each one lies under (-1: none).
  const outerOf = list.map((_, i) => {
    let best = -1;
    list.forEach((q, j) => { if (under(i, j) && (best < 0 || q.parts.length < list[best].parts.length)) best = j; });
    return best;
  });
  list.forEach((_, i) => { if (outerOf[i] < 0) makeRoot(i); });
  // Shallower mounts first, so a deeper one's path is checked through them. A mount needs the
  // directories above its mount point to exist in the root (a bind mount needs them too);
  // otherwise the preopen stays a root of its own, reachable only through its own descriptor.
  const nested = list.map((_, i) => i).filter((i) => outerOf[i] >= 0).sort((a, b) => list[a].parts.length - list[b].parts.length);
  const mountedIn: (number | null)[] = list.map(() => null);
  for (const i of nested) {
    const o = outerOf[i];
    const rel = list[i].parts.slice(list[o].parts.length);
    const root = roots[o]!;
    let reachable = true;
    for (let k = 1; k < rel.length && reachable; k++) {
      const st = fs.lstatSync(root.hostOf(rel.slice(0, k)), { throwIfNoEntry: false });
      reachable = st !== undefined && st.isDirectory() && !root.isHidden(rel.slice(0, k));
    }
    if (reachable && !root.isHidden(rel)) {
      root.mount(rel, opened[i].hostPath, list[i].readOnly === true);
      mountedIn[i] = o;
    } else makeRoot(i);
  }
  let fd = FIRST_PREOPEN_FD;
  list.forEach((p, i) => {
    const { hostPath, hostFd, st } = opened[i];
    const o = mountedIn[i];
    let d: PreopenDescriptor;
    if (o === null) {
      const root = roots[i]!;
      root.fastLookups = !root.hasMounts && fastLookupsSafe(root, hostFd);
      d = new PreopenDescriptor(root, [], hostFd, p.guestPath);
    } else {
      d = new PreopenDescriptor(roots[o]!, p.parts.slice(list[o].parts.length), hostFd, p.guestPath, ctx.policy.zoneOfOpenDir(hostFd, st, hostPath));
    }
    while (ctx.fds.has(fd)) fd++;
    ctx.fds.set(fd, d);
  });
}

/**
 * Whether lookups under this root may use the addon's openat2 (fast.ts). openat2 with RESOLVE_NO_XDEV
 * never crosses a mount, which keeps it off kernel filesystems and device mounts; hidden paths
 * are matched by name only in resolve.ts, so each must be a mount point (as the runtime directory
 * in a container is) for openat2 to stop at it too. Otherwise every lookup takes resolve.ts.
 */
function fastLookupsSafe(root: SandboxRoot, hostFd: number): boolean {
  const n = native();
  if (n === null || root.level.zone !== 'data') return false;
  for (const rel of root.hidden()) {
    const fd = n.openat2(hostFd, rel, fs.constants.O_NOFOLLOW | 0o10000000 /* O_PATH */, 0, RESOLVE.BENEATH | RESOLVE.NO_XDEV | RESOLVE.NO_MAGICLINKS);
    if (fd >= 0) fs.closeSync(fd);
    if (fd !== -18 /* EXDEV: a mount point */) return false;
  }
  return true;
}
