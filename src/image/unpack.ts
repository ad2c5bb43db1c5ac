// Unpacking image layers into a root filesystem, safely: every path is resolved inside the root
// (symlinks planted by earlier entries are followed as if the root were `/`, never out of it), an
// entry whose name climbs out with `..` is refused, absolute names are taken relative to the root.
// Whiteouts and opaque directories apply to the layers below; hard links must point inside; device
// nodes are never made (Node cannot mknod; the engines provide /dev) and set-id bits are dropped
// unless the caller keeps them (root asking for them explicitly).
import {
  chmodSync, existsSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync,
  utimesSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ImageError } from './errors.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './fstree.js';
import { MT, WASM_LAYER_TYPES, type Manifest } from './media.js';
import type { ResolvedImage } from './resolve.js';
import type { Store } from './store.js';
import { decompressLayer, readTar, type TarEntry } from './tar.js';

export interface UnpackOptions {
  /** Keep setuid/setgid bits (default: dropped). */
  keepSetid?: boolean;
  /** Apply owners from the layer (default: when running as root). */
  chown?: boolean;
}

/** Splits a layer entry's name into safe components; throws on `..`. Leading `/` and `./` are dropped. */
export function entryParts(name: string, layer: string): string[] {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ImageError(`layer ${layer.slice(7, 19)}: entry ${JSON.stringify(name)} climbs out of the root filesystem with '..'; the image is refused`);
  return parts;
}

/**
 * The host path for `parts` inside `root`, following symlinks as the container would see them:
 * absolute targets restart at `root`, `..` stops at `root`. The last component is followed only when
 * `followLast` (an entry replaces a symlink; a hard link's target is the link itself).
 */
export function resolveInRoot(root: string, parts: string[], followLast = false): string {
  const resolved: string[] = [];
  const pending = [...parts];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.' || part === '') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    const last = pending.length === 0;
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      // does not exist (yet)
    }
    if (isLink && (!last || followLast)) {
      if (++hops > 40) throw new ImageError(`too many levels of symbolic links at /${[...resolved, part].join('/')}`);
      const target = readlinkSync(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/'));
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}

function removePath(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** Applies one layer (already decompressed tar entries) onto `root`. */
export function applyLayer(root: string, entries: TarEntry[], layer: string, options: UnpackOptions = {}): void {
  const chown = options.chown ?? process.getuid?.() === 0;
  // Whiteouts first: they hide the layers below, not entries of this same layer.
  for (const { header } of entries) {
    const parts = entryParts(header.name, layer);
    if (parts.length === 0) continue;
    const base = parts.at(-1)!;
    if (!base.startsWith(WHITEOUT_PREFIX)) continue;
    const dir = resolveInRoot(root, parts.slice(0, -1), true);
    if (base === OPAQUE_WHITEOUT) {
      if (existsSync(dir)) for (const child of readdirSync(dir)) removePath(join(dir, child));
    } else {
      const victim = base.slice(WHITEOUT_PREFIX.length);
      if (victim === '' || victim === '..' || victim === '.') continue;
      removePath(join(dir, victim));
    }
  }
  const dirTimes: [string, Date][] = [];
  for (const { header, content } of entries) {
    const parts = entryParts(header.name, layer);
    if (parts.length === 0) continue;
    if (parts.at(-1)!.startsWith(WHITEOUT_PREFIX)) continue;
    const parent = resolveInRoot(root, parts.slice(0, -1), true);
    mkdirSync(parent, { recursive: true });
    const path = join(parent, parts.at(-1)!);
    let mode = (header.mode ?? 0o644) & 0o7777;
    if (!options.keepSetid) mode &= ~0o6000;
    let existing: ReturnType<typeof lstatSync> | undefined;
    try {
      existing = lstatSync(path);
    } catch {
      existing = undefined;
    }
    switch (header.type) {
      case 'directory':
        if (existing && !existing.isDirectory()) removePath(path);
        if (!existing || !existing.isDirectory()) mkdirSync(path);
        chmodSync(path, mode);
        if (header.mtime) dirTimes.push([path, header.mtime]);
        break;
      case 'file':
      case 'contiguous-file':
        if (existing) removePath(path);
        writeFileSync(path, content, { mode, flag: 'wx' });
        chmodSync(path, mode);
        if (header.mtime) utimesSync(path, header.mtime, header.mtime);
        break;
      case 'symlink':
        if (existing) removePath(path);
        symlinkSync(header.linkname ?? '', path);
        break;
      case 'link': {
        const target = resolveInRoot(root, entryParts(header.linkname ?? '', layer), false);
        let targetStat;
        try {
          targetStat = lstatSync(target);
        } catch {
          throw new ImageError(`layer ${layer.slice(7, 19)}: hard link ${JSON.stringify(header.name)} points at ${JSON.stringify(header.linkname)}, which the layers do not hold; the image is refused`);
        }
        if (targetStat.isDirectory()) throw new ImageError(`layer ${layer.slice(7, 19)}: hard link ${JSON.stringify(header.name)} points at a directory; the image is refused`);
        if (existing) removePath(path);
        linkSync(target, path);
        break;
      }
      default:
        // character/block devices, fifos: skipped (the runtime provides /dev).
        continue;
    }
    if (chown && header.type !== 'link') {
      try {
        lchownSync(path, header.uid ?? 0, header.gid ?? 0);
        if (header.type !== 'symlink' && mode & 0o6000) chmodSync(path, mode); // chown clears set-id bits
      } catch {
        // not permitted (rootless): keep our own ownership
      }
    }
  }
  // Directory times last: creating entries inside changed them.
  for (const [path, time] of dirTimes.reverse()) {
    try { utimesSync(path, time, time); } catch { /* best effort */ }
  }
}

/** The module name an artifact's layer gets in its rootfs. */
export function artifactModuleName(manifest: Manifest): string {
  const title = manifest.layers[0]?.annotations?.['org.opencontainers.image.title'];
  return title && /^[\w.-]+$/.test(title) && title !== '.' && title !== '..' ? title : 'module.wasm';
}

/** Is this manifest a Wasm artifact (no filesystem layers, the module is the layer)? */
export const isWasmArtifact = (manifest: Manifest): boolean =>
  manifest.layers.length > 0 && manifest.layers.every((l) => WASM_LAYER_TYPES.includes(l.mediaType));

/**
 * The image's unpacked root filesystem, made once per manifest under <store>/snapshots/<hex>/rootfs
 * (built in tmp/ and renamed into place, so a half-unpacked snapshot is never used).
 */
export async function snapshot(store: Store, image: ResolvedImage, options: UnpackOptions = {}): Promise<string> {
  // Set-id bits kept or not make different trees: separate snapshots.
  const dir = join(store.root, 'snapshots', `${image.descriptor.digest.slice(7)}${options.keepSetid ? '-setid' : ''}`);
  const rootfs = join(dir, 'rootfs');
  if (existsSync(rootfs)) return rootfs;
  mkdirSync(join(store.root, 'snapshots'), { recursive: true });
  const tmp = store.tempPath('snapshot');
  mkdirSync(join(tmp, 'rootfs'), { recursive: true, mode: 0o755 });
  try {
    if (isWasmArtifact(image.manifest)) {
      const layer = image.manifest.layers[0];
      writeFileSync(join(tmp, 'rootfs', artifactModuleName(image.manifest)), store.readBlob(layer.digest), { mode: 0o755 });
    } else {
      for (const layer of image.manifest.layers) {
        if (!store.hasBlob(layer.digest)) throw new ImageError(`layer ${layer.digest} is missing from the store; pull the image again`);
        if (layer.mediaType === MT.wasmLayer || layer.mediaType === MT.wasmLayerV1) continue;
        const tar = decompressLayer(store.readBlob(layer.digest));
        applyLayer(join(tmp, 'rootfs'), await readTar(tar), layer.digest, options);
      }
    }
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process unpacked the same image meanwhile: use theirs.
      if (!existsSync(rootfs)) throw e;
      removePath(tmp);
    }
  } catch (e) {
    removePath(tmp);
    if (e instanceof ImageError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOSPC') throw new ImageError(`no space left while unpacking ${image.stored.name ?? image.descriptor.digest} into ${store.root}; free some space and retry`);
    throw new ImageError(`cannot unpack ${image.stored.name ?? image.descriptor.digest}: ${err.message}`);
  }
  return rootfs;
}

