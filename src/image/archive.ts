// `hyrun save` / `hyrun load`: images as oci-archive (a tar of an OCI image layout, the format
// `podman save --format oci-archive` writes) or docker-archive (manifest.json + config + layer tars,
// `docker save`'s format).
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { pack as tarPack, extract as tarExtract, type Header as Header_ } from 'tar-stream';
import { pipeline } from 'node:stream/promises';
import { ImageError } from './errors.js';
import {
  ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, isIndex, MT, type Descriptor, type ImageConfig, type ImageIndex, type Manifest,
} from './media.js';
import { parseReference } from './reference.js';
import { localName, resolveDescriptor } from './resolve.js';
import { jsonBytes, sha256, type Store, type StoredImage } from './store.js';
import { compressLayer, decompressLayer } from './tar.js';

export type ArchiveFormat = 'oci-archive' | 'docker-archive';

const FIXED = new Date(0);

async function writeArchive(file: string, files: { name: string; data: Buffer }[]): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const pack = tarPack();
  const out = createWriteStream(tmp);
  const done = pipeline(pack, out);
  const dirs = new Set<string>();
  try {
    for (const f of files) {
      const parts = f.name.split('/');
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (dirs.has(d)) continue;
        dirs.add(d);
        await new Promise<void>((res, rej) => pack.entry({ name: `${d}/`, type: 'directory', mode: 0o755, mtime: FIXED } as Header_, (e) => (e ? rej(e) : res())));
      }
      await new Promise<void>((res, rej) => pack.entry({ name: f.name, mode: 0o644, mtime: FIXED, size: f.data.length } as Header_, f.data, (e) => (e ? rej(e) : res())));
    }
    pack.finalize();
    await done;
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ImageError(`cannot write ${file}: ${(e as Error).message}`);
  }
}

/** Writes the named images to `file`. */
export async function save(store: Store, images: StoredImage[], file: string, format: ArchiveFormat): Promise<void> {
  const files: { name: string; data: Buffer }[] = [];
  if (format === 'oci-archive') {
    const blobs = new Set<string>();
    const addBlob = (digest: string): void => {
      if (blobs.has(digest) || !store.hasBlob(digest)) return;
      blobs.add(digest);
      files.push({ name: `blobs/sha256/${digest.slice(7)}`, data: store.readBlob(digest) });
    };
    const manifests: Descriptor[] = [];
    for (const image of images) {
      const d = image.descriptor;
      addBlob(d.digest);
      if (isIndex(d.mediaType)) {
        for (const m of store.readJson<ImageIndex>(d.digest).manifests) {
          if (!store.hasBlob(m.digest)) continue;
          addBlob(m.digest);
          const man = store.readJson<Manifest>(m.digest);
          addBlob(man.config.digest);
          for (const l of man.layers) addBlob(l.digest);
        }
      } else {
        const man = store.readJson<Manifest>(d.digest);
        addBlob(man.config.digest);
        for (const l of man.layers) addBlob(l.digest);
      }
      const { annotations: _a, ...rest } = d;
      manifests.push({ ...rest, annotations: image.name ? { [ANNOTATION_REF_NAME]: image.name, [ANNOTATION_CONTAINERD_NAME]: image.name } : undefined });
    }
    files.unshift(
      { name: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
      { name: 'index.json', data: jsonBytes({ schemaVersion: 2, mediaType: MT.ociIndex, manifests }) },
    );
  } else {
    const entries: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    const written = new Set<string>();
    for (const image of images) {
      const r = resolveDescriptor(store, image);
      const configName = `${r.manifest.config.digest.slice(7)}.json`;
      if (!written.has(configName)) files.push({ name: configName, data: store.readBlob(r.manifest.config.digest) });
      written.add(configName);
      const layers: string[] = [];
      for (const l of r.manifest.layers) {
        const tar = decompressLayer(store.readBlob(l.digest));
        const name = `${sha256(tar).slice(7)}/layer.tar`;
        if (!written.has(name)) files.push({ name, data: tar });
        written.add(name);
        layers.push(name);
      }
      // docker-archive names have no default registry prefix for Docker Hub images.
      const tag = image.name?.replace(/^docker\.io\/(library\/)?/, '');
      entries.push({ Config: configName, RepoTags: tag ? [tag] : [], Layers: layers });
    }
    files.unshift({ name: 'manifest.json', data: jsonBytes(entries) });
  }
  await writeArchive(file, files);
}

async function readArchive(file: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tarExtract();
  try {
    const reading = (async () => {
      for await (const entry of extract) {
        const parts: Buffer[] = [];
        for await (const c of entry) parts.push(c as Buffer);
        if (entry.header.type === 'file') files.set(entry.header.name.replace(/^\.\//, ''), Buffer.concat(parts));
      }
    })();
    await pipeline(createReadStream(file), extract);
    await reading;
  } catch (e) {
    throw new ImageError(`cannot read ${file}: ${(e as Error).message}; give an oci-archive or docker-archive file`);
  }
  return files;
}

/** Loads every image of an archive into the store; returns the names (or digests) loaded. */
export async function load(store: Store, file: string): Promise<string[]> {
  const files = await readArchive(file);
  const loaded: string[] = [];
  if (files.has('index.json')) {
    const index = JSON.parse(files.get('index.json')!.toString('utf8')) as ImageIndex;
    // Verify and store every blob first, so the index never names a missing one.
    for (const [name, data] of files) {
      const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
      if (m) store.putBlob(data, `sha256:${m[1]}`);
    }
    for (const d of index.manifests) {
      if (!store.hasBlob(d.digest)) throw new ImageError(`${file}: index.json names ${d.digest}, which the archive does not hold`);
      const name = d.annotations?.[ANNOTATION_CONTAINERD_NAME] ?? d.annotations?.[ANNOTATION_REF_NAME];
      const { annotations: _a, ...rest } = d;
      if (name && parseable(name)) {
        store.tag(localName(name), rest as Descriptor);
        loaded.push(localName(name));
      } else {
        store.updateIndex((i) => { if (!i.manifests.some((x) => x.digest === d.digest)) i.manifests.push(rest as Descriptor); });
        loaded.push(d.digest);
      }
    }
    return loaded;
  }
  if (files.has('manifest.json')) {
    const entries = JSON.parse(files.get('manifest.json')!.toString('utf8')) as { Config: string; RepoTags?: string[]; Layers: string[] }[];
    for (const e of entries) {
      const configBytes = files.get(e.Config);
      if (!configBytes) throw new ImageError(`${file}: manifest.json names ${e.Config}, which the archive does not hold`);
      const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
      const layers: Descriptor[] = [];
      for (const [i, l] of e.Layers.entries()) {
        const data = files.get(l);
        if (!data) throw new ImageError(`${file}: manifest.json names the layer ${l}, which the archive does not hold`);
        const tar = decompressLayer(data);
        if (config.rootfs?.diff_ids?.[i] && sha256(tar) !== config.rootfs.diff_ids[i]) {
          throw new ImageError(`${file}: layer ${l} does not match the diff ID in its config; the archive is corrupt`);
        }
        const built = compressLayer(tar);
        const b = store.putBlob(built.blob);
        layers.push({ mediaType: MT.ociLayerGzip, digest: b.digest, size: b.size });
      }
      const c = store.putBlob(configBytes);
      const manifest: Manifest = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: c.digest, size: c.size }, layers };
      const m = store.putBlob(jsonBytes(manifest));
      const d: Descriptor = { mediaType: MT.ociManifest, digest: m.digest, size: m.size, platform: { os: config.os, architecture: config.architecture } };
      const tags = (e.RepoTags ?? []).filter(parseable);
      for (const t of tags) {
        store.tag(localName(t), d);
        loaded.push(localName(t));
      }
      if (tags.length === 0) {
        store.updateIndex((i) => { if (!i.manifests.some((x) => x.digest === d.digest)) i.manifests.push(d); });
        loaded.push(d.digest);
      }
    }
    return loaded;
  }
  throw new ImageError(`${file} is neither an oci-archive (no index.json) nor a docker-archive (no manifest.json)`);
}

function parseable(name: string): boolean {
  try {
    parseReference(name);
    return true;
  } catch {
    return false;
  }
}
