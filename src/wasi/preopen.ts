// Preopened directories: guest fds 3, 4, … in the order of options.preopens, each the root of its
// own sandbox (see resolve.ts). fd_prestat_get / fd_prestat_dir_name give the guest its name.
import * as fs from 'node:fs';
import type { WasiContext } from './context.js';
import { DirectoryDescriptor, DIRECTORY_INHERITING_RIGHTS, DIRECTORY_RIGHTS } from './directory.js';
import { native, RESOLVE } from './native.js';
import { SandboxRoot } from './resolve.js';

export class PreopenDescriptor extends DirectoryDescriptor {
  constructor(root: SandboxRoot, hostFd: number, readonly guestName: string) {
    super(root, [], hostFd, DIRECTORY_RIGHTS, DIRECTORY_INHERITING_RIGHTS, root.level.zone);
  }

  override prestatName(): string { return this.guestName; }
}

/** The first preopen is fd 3: 0-2 are stdio whether or not they are set up yet. */
export const FIRST_PREOPEN_FD = 3;

export function setupPreopens(ctx: WasiContext): void {
  let fd = FIRST_PREOPEN_FD;
  for (const preopen of ctx.options.preopens) {
    // The canonical host path, so root-relative paths built later are not at the mercy of a
    // symlink in the configured path being changed.
    const hostPath = fs.realpathSync(preopen.hostPath);
    const hostFd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    const root = new SandboxRoot(hostPath, preopen.guestPath, ctx.options.hiddenPaths ?? [], ctx.policy);
    const st = fs.fstatSync(hostFd, { bigint: true });
    // A preopen may itself be a procfs or sysfs (`--dir /proc::/x`): the same rules apply below it.
    root.level = { dev: Number(st.dev), zone: ctx.policy.zoneOfOpenDir(hostFd, st, hostPath) };
    root.fastLookups = fastLookupsSafe(root, hostFd);
    while (ctx.fds.has(fd)) fd++;
    ctx.fds.set(fd, new PreopenDescriptor(root, hostFd, preopen.guestPath));
  }
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
