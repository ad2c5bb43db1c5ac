// Unpacking image layers into a root filesystem, safely: every path is resolved inside the root
// (symlinks planted by earlier entries are followed as if the root were `/`, never out of it), an
// entry whose name climbs out with `..` is refused, absolute names are taken relative to the root.
// Whiteouts and opaque directories apply to the layers below; hard links must point inside; device
// nodes are never made (Node cannot mknod; the engines provide /dev) and set-id bits are dropped
// unless the caller keeps them (root asking for them explicitly).
import {
  chmodSync, closeSync, copyFileSync, existsSync, lchownSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmSync,
  symlinkSync, utimesSync, writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ImageError } from './errors.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './fstree.js';
import { MT, WASM_LAYER_TYPES, type Manifest } from './media.js';
import type { ResolvedImage } from './resolve.js';
import type { Store } from './store.js';
import { eachTarEntry, layerFileStream, type TarEntry } from './tar.js';

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

/**
 * Applies one layer's entries, in order, onto `root`, in a single pass (a layer is streamed, never
 * held whole). Whiteouts and opaque directories hide the layers below, not entries of this same
 * layer: the paths this layer made (and the directories above them) are remembered, and a
 * whiteout removes everything else, descending into those directories; the result is what
 * applying every whiteout first would give.
 */
class LayerWriter {
  private readonly chown: boolean;
  /** Host paths this layer made, and directories holding one (their lower contents may still go). */
  private readonly made = new Set<string>();
  private readonly holding = new Set<string>();
  private readonly dirTimes: [string, Date][] = [];

  constructor(private readonly root: string, private readonly layer: string, private readonly options: UnpackOptions) {
    this.chown = options.chown ?? process.getuid?.() === 0;
  }

  /** Removes what the layers below have at `path`, keeping what this layer made there. */
  private removeLower(path: string): void {
    if (!this.made.has(path) && !this.holding.has(path)) {
      removePath(path);
      return;
    }
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const child of readdirSync(path)) this.removeLower(join(path, child));
  }

  private remember(path: string): void {
    this.made.add(path);
    for (let p = dirname(path); p.length > this.root.length && p.startsWith(this.root); p = dirname(p)) {
      if (this.holding.has(p)) break;
      this.holding.add(p);
    }
  }

  /**
   * Makes the entry `header`; for a regular file returns the fd its content is to be written to
   * (closed by fileDone), else null.
   */
  entry(header: TarEntry['header']): { fd: number; path: string; mode: number } | null {
    const { root, layer, options } = this;
    const parts = entryParts(header.name, layer);
    if (parts.length === 0) return null;
    const base = parts.at(-1)!;
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const dir = resolveInRoot(root, parts.slice(0, -1), true);
      if (base === OPAQUE_WHITEOUT) {
        if (existsSync(dir)) for (const child of readdirSync(dir)) this.removeLower(join(dir, child));
      } else {
        const victim = base.slice(WHITEOUT_PREFIX.length);
        if (victim !== '' && victim !== '..' && victim !== '.') this.removeLower(join(dir, victim));
      }
      return null;
    }
    const parent = resolveInRoot(root, parts.slice(0, -1), true);
    mkdirSync(parent, { recursive: true });
    const path = join(parent, base);
    let mode = (header.mode ?? 0o644) & 0o7777;
    if (!options.keepSetid) mode &= ~0o6000;
    let existing: ReturnType<typeof lstatSync> | undefined;
    try {
      existing = lstatSync(path);
    } catch {
      existing = undefined;
    }
    let fd: number | null = null;
    switch (header.type) {
      case 'directory':
        if (existing && !existing.isDirectory()) removePath(path);
        if (!existing || !existing.isDirectory()) mkdirSync(path);
        chmodSync(path, mode);
        if (header.mtime) this.dirTimes.push([path, header.mtime]);
        break;
      case 'file':
      case 'contiguous-file':
        if (existing) removePath(path);
        fd = openSync(path, 'wx', mode);
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
        return null;
    }
    this.remember(path);
    if (fd !== null) return { fd, path, mode };
    this.finishEntry(header, path, mode);
    return null;
  }

  /** A regular file's content is written: close it, then its mode, times and owner. */
  fileDone(header: TarEntry['header'], file: { fd: number; path: string; mode: number }): void {
    closeSync(file.fd);
    chmodSync(file.path, file.mode);
    if (header.mtime) utimesSync(file.path, header.mtime, header.mtime);
    this.finishEntry(header, file.path, file.mode);
  }

  private finishEntry(header: TarEntry['header'], path: string, mode: number): void {
    if (this.chown && header.type !== 'link') {
      try {
        lchownSync(path, header.uid ?? 0, header.gid ?? 0);
        if (header.type !== 'symlink' && mode & 0o6000) chmodSync(path, mode); // chown clears set-id bits
      } catch {
        // not permitted (rootless): keep our own ownership
      }
    }
  }

  /** Directory times last: creating entries inside changed them. */
  finish(): void {
    for (const [path, time] of this.dirTimes.reverse()) {
      try { utimesSync(path, time, time); } catch { /* best effort */ }
    }
  }
}

/** Applies one layer (decompressed tar entries already in memory) onto `root`. */
export function applyLayer(root: string, entries: TarEntry[], layer: string, options: UnpackOptions = {}): void {
  const writer = new LayerWriter(root, layer, options);
  for (const { header, content } of entries) {
    const file = writer.entry(header);
    if (file === null) continue;
    try {
      writeSync(file.fd, content);
    } catch (e) {
      closeSync(file.fd);
      throw e;
    }
    writer.fileDone(header, file);
  }
  writer.finish();
}

/** Applies one layer streamed from `source` (a decompressed tar) onto `root`: one entry's chunk in memory at a time. */
export async function applyLayerStream(root: string, source: Readable, layer: string, options: UnpackOptions = {}): Promise<void> {
  const writer = new LayerWriter(root, layer, options);
  await eachTarEntry(source, async (header, content) => {
    const file = writer.entry(header);
    if (file === null) return;
    try {
      for await (const chunk of content) writeSync(file.fd, chunk as Buffer);
    } catch (e) {
      closeSync(file.fd);
      throw e;
    }
    writer.fileDone(header, file);
  });
  writer.finish();
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
      const module = join(tmp, 'rootfs', artifactModuleName(image.manifest));
      copyFileSync(store.blobPath(layer.digest), module);
      chmodSync(module, 0o755);
    } else {
      for (const layer of image.manifest.layers) {
        if (!store.hasBlob(layer.digest)) throw new ImageError(`layer ${layer.digest} is missing from the store; pull the image again`);
        if (layer.mediaType === MT.wasmLayer || layer.mediaType === MT.wasmLayerV1) continue;
        // Streamed from the blob file: a layer of any size needs bounded memory (gzip and zstd alike).
        await applyLayerStream(join(tmp, 'rootfs'), await layerFileStream(store.blobPath(layer.digest)), layer.digest, options);
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

