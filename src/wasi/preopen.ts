// Preopened directories: guest fds 3, 4, … in the order of options.preopens, each the root of its
// own sandbox (see resolve.ts). fd_prestat_get / fd_prestat_dir_name give the guest its name.
import * as fs from 'node:fs';
import { posix } from 'node:path';
import type { WasiContext } from './context.js';
import { DirectoryDescriptor, DIRECTORY_INHERITING_RIGHTS, DIRECTORY_RIGHTS } from './directory.js';
import { addonRequiredMessage, native, O_NOFOLLOW, O_PATH, openat2Usable, RESOLVE } from './native.js';
import { fstatHeld, SandboxRoot } from './resolve.js';
import type { Zone } from './special-files.js';

export class PreopenDescriptor extends DirectoryDescriptor {
  constructor(root: SandboxRoot, rel: readonly string[], hostFd: number, readonly guestName: string, zone: Zone, readOnly: boolean) {
    super(root, rel, hostFd, DIRECTORY_RIGHTS, DIRECTORY_INHERITING_RIGHTS, zone);
    if (readOnly) this.restrictToReading();
  }

  override prestatName(): string { return this.guestName; }
}

/** The first preopen is fd 3: 0-2 are stdio whether or not they are set up yet. */
export const FIRST_PREOPEN_FD = 3;

const components = (guest: string): string[] => posix.normalize('/' + guest).split('/').filter((c) => c !== '');

/** A guest with preopens needs the addon (resolve.ts): the one error it gets without it. */
export class AddonRequiredError extends Error {
  constructor() {
    super(addonRequiredMessage());
  }
}

/**
 * Sets up the preopens as fds 3, 4, … in the order given. A preopen whose guest path lies strictly
 * below another's (`/data` below `/`, `/srv/x` below `/srv`) is mounted in the outermost such
 * root (SandboxRoot.mount) rather than made a root of its own, so the guest reaches its files
 * through either descriptor by the same rules, read-only included.
 */
export function setupPreopens(ctx: WasiContext): void {
  if (ctx.options.preopens.length === 0) return;
  // Only held descriptors make lookups race-free, and node's fs has none: no addon, no preopens.
  if (native() === null) throw new AddonRequiredError();
  const list = ctx.options.preopens.map((p) => ({ ...p, parts: components(p.guestPath), absolute: p.guestPath.startsWith('/') }));
  // Only absolute guest paths nest (a relative name such as `.` is resolved by the guest's libc).
  const under = (i: number, j: number): boolean => {
    const inner = list[i].parts, outer = list[j].parts;
    return list[i].absolute && list[j].absolute && outer.length < inner.length && outer.every((c, k) => inner[k] === c);
  };
  const opened = list.map((p) => {
    // The user's configuration, read once at start: from here on only the descriptor is used.
    const hostFd = fs.openSync(p.hostPath, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    const st = fstatHeld(hostFd);
    const zone = ctx.policy.zoneOfHeld(hostFd, Number(st.dev), Number(st.ino));
    return { hostPath: p.hostPath, hostFd, zone };
  });
  const roots: (SandboxRoot | null)[] = list.map(() => null);
  const makeRoot = (i: number): SandboxRoot => {
    const { hostPath, hostFd, zone } = opened[i];
    const root = new SandboxRoot(hostFd, hostPath, list[i].guestPath, ctx.options.hiddenPaths ?? [], ctx.policy, list[i].readOnly === true);
    // A preopen may itself be a procfs or sysfs (`--dir /proc::/x`): the same rules apply below it.
    root.zone = zone;
    return (roots[i] = root);
  };
  // The outermost preopen each one lies under (-1: none).
  const outerOf = list.map((_, i) => {
    let best = -1;
    list.forEach((q, j) => { if (under(i, j) && (best < 0 || q.parts.length < list[best].parts.length)) best = j; });
    return best;
  });
  list.forEach((_, i) => { if (outerOf[i] < 0) makeRoot(i); });
  // Shallower mounts first, so a deeper one's place is found through them. A mount needs the
  // directories above its mount point to exist in the root (a bind mount needs them too);
  // otherwise the preopen stays a root of its own, reachable only through its own descriptor.
  const nested = list.map((_, i) => i).filter((i) => outerOf[i] >= 0).sort((a, b) => list[a].parts.length - list[b].parts.length);
  const mountedIn: (number | null)[] = list.map(() => null);
  for (const i of nested) {
    const o = outerOf[i];
    const rel = list[i].parts.slice(list[o].parts.length);
    const root = roots[o]!;
    const hiddenOnTheWay = rel.some((_, k) => root.hidden().includes(rel.slice(0, k + 1).join('/')));
    if (!hiddenOnTheWay && root.mount(rel, opened[i].hostFd, opened[i].zone, list[i].readOnly === true)) mountedIn[i] = o;
    else makeRoot(i);
  }
  let fd = FIRST_PREOPEN_FD;
  list.forEach((p, i) => {
    const { hostFd, zone } = opened[i];
    const o = mountedIn[i];
    if (o !== null && p.mountOnly === true) return;
    let d: PreopenDescriptor;
    if (o === null) {
      const root = roots[i]!;
      root.fastLookups = !root.hasMounts && fastLookupsSafe(root);
      d = new PreopenDescriptor(root, [], hostFd, p.guestPath, zone, root.readOnly);
    } else {
      d = new PreopenDescriptor(roots[o]!, p.parts.slice(list[o].parts.length), hostFd, p.guestPath, zone, list[i].readOnly === true);
    }
    while (ctx.fds.has(fd)) fd++;
    ctx.fds.set(fd, d);
  });
}

/**
 * Whether lookups under this root may use the addon's openat2 (fast.ts). openat2 with RESOLVE_NO_XDEV
 * never crosses a mount, which keeps it off kernel filesystems and device mounts; hidden paths
 * are matched by name and inode in resolve.ts only, so each must be a mount point (as the runtime
 * directory in a container is) for openat2 to stop at it too. Otherwise every lookup takes resolve.ts.
 */
function fastLookupsSafe(root: SandboxRoot): boolean {
  const n = native();
  if (n === null || !openat2Usable() || root.zone !== 'data') return false;
  for (const rel of root.hidden()) {
    const fd = n.openat2(root.fd, rel, O_NOFOLLOW | O_PATH, 0, RESOLVE.BENEATH | RESOLVE.NO_XDEV | RESOLVE.NO_MAGICLINKS);
    if (fd >= 0) fs.closeSync(fd);
    if (fd !== -18 /* EXDEV: a mount point */) return false;
  }
  return true;
}

