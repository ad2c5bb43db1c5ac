// An image's filesystem as a map of paths to tar entries, built by applying layers in order
// (whiteouts and opaque directories included). The builder uses it for COPY --from and for
// --chown names; it holds file contents in memory, which suits the small images hyrun builds.
import { posix } from 'node:path';
import type { LayerEntry } from './tar.js';
import { cleanRelative } from './containerfile.js';
import { readTar, decompressLayer, type TarEntry } from './tar.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

export class FsTree {
  readonly entries = new Map<string, LayerEntry>();

  /** Applies a layer's entries (tar order), handling whiteouts as the OCI layer spec describes. */
  applyTarEntries(tarEntries: TarEntry[]): void {
    for (const { header, content } of tarEntries) {
      const name = cleanRelative(header.name);
      if (name === '') continue;
      const base = posix.basename(name);
      const dir = posix.dirname(name) === '.' ? '' : posix.dirname(name);
      if (base === OPAQUE_WHITEOUT) {
        this.removeBelow(dir, false);
        continue;
      }
      if (base.startsWith(WHITEOUT_PREFIX)) {
        const target = dir ? `${dir}/${base.slice(WHITEOUT_PREFIX.length)}` : base.slice(WHITEOUT_PREFIX.length);
        this.removeBelow(target, true);
        continue;
      }
      const type = header.type === 'directory' ? 'directory' : header.type === 'symlink' ? 'symlink' : header.type === 'link' ? 'link' : header.type === 'file' || header.type === 'contiguous-file' ? 'file' : undefined;
      if (!type) continue;
      if (type !== 'directory') this.removeBelow(name, false);
      this.add({
        name, type, mode: header.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: header.uid ?? 0, gid: header.gid ?? 0,
        content: type === 'file' ? content : undefined,
        linkname: type === 'link' ? cleanRelative(header.linkname ?? '') : header.linkname ?? undefined,
      });
    }
  }

  async applyLayerBlob(blob: Buffer): Promise<void> {
    this.applyTarEntries(await readTar(decompressLayer(blob)));
  }

  add(entry: LayerEntry): void {
    this.entries.set(entry.name, entry);
  }

  private removeBelow(path: string, self: boolean): void {
    if (self) this.entries.delete(path);
    const prefix = path === '' ? '' : `${path}/`;
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix) && key !== path) this.entries.delete(key);
  }

  get(path: string): LayerEntry | undefined {
    return this.entries.get(cleanRelative(path));
  }

  /** Content of a regular file, following a hard link. */
  fileContent(entry: LayerEntry): Buffer {
    if (entry.type === 'link' && entry.linkname) return this.entries.get(entry.linkname)?.content ?? Buffer.alloc(0);
    return entry.content ?? Buffer.alloc(0);
  }

  /** Entries at or below `path` (relative names), `path` itself first. */
  below(path: string): LayerEntry[] {
    const p = cleanRelative(path);
    const prefix = p === '' ? '' : `${p}/`;
    return [...this.entries.values()].filter((e) => e.name === p || e.name.startsWith(prefix)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}
