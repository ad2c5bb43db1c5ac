// Preopened directories: guest fds 3, 4, … in the order of options.preopens, each the root of its
// own sandbox (see resolve.ts). fd_prestat_get / fd_prestat_dir_name give the guest its name.
import * as fs from 'node:fs';
import type { WasiContext } from './context.js';
import { DirectoryDescriptor, DIRECTORY_INHERITING_RIGHTS, DIRECTORY_RIGHTS } from './directory.js';
import { SandboxRoot } from './resolve.js';

export class PreopenDescriptor extends DirectoryDescriptor {
  constructor(root: SandboxRoot, hostFd: number, readonly guestName: string) {
    super(root, [], hostFd, DIRECTORY_RIGHTS, DIRECTORY_INHERITING_RIGHTS);
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
    const root = new SandboxRoot(hostPath, preopen.guestPath, ctx.options.hiddenPaths ?? []);
    while (ctx.fds.has(fd)) fd++;
    ctx.fds.set(fd, new PreopenDescriptor(root, hostFd, preopen.guestPath));
  }
}
