// The container's rootfs. Writes never reach the image's snapshot: as root on the OCI path it is an
// overlay on the snapshot (writes go to <dir>/upper); otherwise, or where overlayfs cannot be
// mounted, the container's own copy.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImageError } from '../image/errors.js';

const MOUNT_BINS = { mount: ['/usr/bin/mount', '/bin/mount'], umount: ['/usr/bin/umount', '/bin/umount'] };
const tool = (name: keyof typeof MOUNT_BINS): string | undefined => MOUNT_BINS[name].find((p) => existsSync(p));

/** Mounts <dir>/rootfs as an overlay of the snapshot (writes go to <dir>/upper); false when it cannot. */
export function mountOverlay(snap: string, dir: string): boolean {
  const mount = tool('mount');
  if (!mount) return false;
  const r = spawnSync(mount, ['-t', 'overlay', 'overlay', '-o', `lowerdir=${snap},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, join(dir, 'rootfs')], { stdio: 'ignore' });
  return r.status === 0;
}

/** Unmounts the container's overlay if there is one (harmless otherwise). */
export function releaseRootfs(dir: string): void {
  const rootfs = join(dir, 'rootfs');
  let mounted = false;
  try {
    // A mount point lives on another device than its parent directory.
    mounted = statSync(rootfs).dev !== statSync(dir).dev;
  } catch {
    return;
  }
  if (!mounted) return;
  const umount = tool('umount');
  if (umount) spawnSync(umount, [rootfs], { stdio: 'ignore' });
}

/** Removes a container directory, its overlay unmounted first (never deleting through the mount). */
export function removeContainerDir(dir: string): void {
  releaseRootfs(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Copies a snapshot for one container: coreutils' cp -a (owners, modes, times, links; reflinks where
 * the filesystem has them) when there is one, else node's cpSync (owners copied when root).
 */
export function copyTree(from: string, to: string): void {
  const cpBin = ['/usr/bin/cp', '/bin/cp'].find((p) => existsSync(p));
  if (cpBin) {
    const cp = spawnSync(cpBin, ['-a', '--reflink=auto', from, to], { encoding: 'utf8' });
    if (cp.status === 0) return;
    rmSync(to, { recursive: true, force: true });
    if (!cp.error) throw new ImageError(`cannot copy the image's files for the container: ${String(cp.stderr).trim()}`);
  }
  cpSync(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  if (process.getuid?.() === 0) {
    const walk = (src: string, dst: string): void => {
      const st = lstatSync(src);
      lchownSync(dst, st.uid, st.gid);
      if (st.isDirectory()) for (const n of readdirSync(src)) walk(join(src, n), join(dst, n));
    };
    walk(from, to);
  }
}

/**
 * The directories of a volume's container path in the container's own copy of the rootfs (as a
 * runtime creates mount points), so the guest reaches the volume through `/` too. Stops at
 * anything that is not a directory: the volume is then reached through its own preopen only.
 */
export function makeMountPoint(rootfs: string, container: string): void {
  let at = rootfs;
  for (const c of container.split('/').filter((x) => x !== '' && x !== '.')) {
    at = join(at, c);
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (st === undefined) mkdirSync(at, { mode: 0o755 });
    else if (!st.isDirectory()) return;
  }
}
