// `hyrun build`: runs a Containerfile without a build sandbox. Every instruction that only edits
// files or metadata is supported; RUN (which would need a sandbox) and remote ADD are refused with
// the line number. One layer per COPY/ADD, written reproducibly: sorted entries, every time set to
// SOURCE_DATE_EPOCH (default 0), owners from --chown or 0, so the same inputs give the same digests.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, join, posix, relative } from 'node:path';
import { ImageError } from './errors.js';
import { FsTree } from './fstree.js';
import {
  cleanRelative, execForm, expand, globToRegExp, hasGlob, isIgnored, parseContainerfile, parseIgnore, unquote,
  type IgnoreRule, type Step,
} from './containerfile.js';
import { MT, type Descriptor, type ImageConfig, type Manifest, type Platform } from './media.js';
import { findImage, formatPlatform, hostPlatform, localName, type ResolvedImage } from './resolve.js';
import { jsonBytes, type Store } from './store.js';
import { compressLayer, decompressLayer, isTarball, readTar, writeTar, type LayerEntry } from './tar.js';
import { resolveInRoot } from './unpack.js';
import { isComponentHeader } from '../wasm/binary.js';
import { componentWorld, type ComponentWorld } from '../wasm/component-world.js';

export interface BuildOptions {
  context: string;
  /** Containerfile path; default CONTEXT/Containerfile, else CONTEXT/Dockerfile. */
  file?: string;
  tags: string[];
  annotations: Record<string, string>;
  labels: Record<string, string>;
  platform?: Platform;
  buildArgs: Record<string, string>;
  format: 'oci' | 'docker';
  /** Seconds since the epoch for every timestamp (SOURCE_DATE_EPOCH); default 0. */
  epoch?: number;
  /** Brings an image that is not in the store into it (a pull); absent: FROM needs local images. */
  pull?: (name: string, platform: Platform) => Promise<void>;
  log?: (line: string) => void;
}

export interface BuildResult {
  /** Digest of the manifest. */
  digest: string;
  /** Digest of the config: the image ID. */
  id: string;
  manifest: Manifest;
  names: string[];
}

interface Stage {
  name?: string;
  base?: ResolvedImage;
  layers: { descriptor: Descriptor; diffId: string }[];
  config: ImageConfig;
  tree?: FsTree;
  /** ARG values visible in this stage, then ENV values (ENV wins where both exist). */
  args: Map<string, string>;
  env: Map<string, string>;
  /** A CMD instruction ran in this stage (ENTRYPOINT then keeps it). */
  cmdSet?: boolean;
}

const EXPANDED = new Set(['FROM', 'COPY', 'ADD', 'ENV', 'LABEL', 'WORKDIR', 'USER', 'EXPOSE', 'VOLUME', 'STOPSIGNAL', 'ARG']);

export function findContainerfile(context: string, file?: string): string {
  if (file) {
    if (!existsSync(file)) throw new ImageError(`${file}: no such Containerfile; check the -f path`);
    return file;
  }
  for (const name of ['Containerfile', 'Dockerfile']) if (existsSync(join(context, name))) return join(context, name);
  throw new ImageError(`no Containerfile or Dockerfile in ${context}; write one there or pass -f FILE`);
}

export async function build(store: Store, options: BuildOptions): Promise<BuildResult> {
  const log = options.log ?? (() => {});
  if (!existsSync(options.context) || !statSync(options.context).isDirectory()) {
    throw new ImageError(`build context ${options.context} is not a directory; give the directory holding the files to COPY`);
  }
  const file = findContainerfile(options.context, options.file);
  const fileLabel = basename(file);
  const steps = parseContainerfile(readFileSync(file, 'utf8'), fileLabel);
  const epoch = options.epoch ?? 0;
  const created = new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
  const platform = options.platform ?? hostPlatform();
  const ignore = readIgnore(options.context);
  const context = new ContextFiles(options.context, ignore);
  const buildArgs = new Map(Object.entries(options.buildArgs));
  const usedArgs = new Set<string>();

  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  const where = (s: Step): string => `${fileLabel}:${s.line}`;

  for (const step of steps) {
    const vars = stage ? new Map([...stage.args, ...stage.env]) : globalArgs;
    const ex = (t: string): string => (EXPANDED.has(step.keyword) ? expand(t, vars) : t);
    switch (step.keyword) {
      case 'ARG': {
        for (const [name, value] of step.properties) {
          usedArgs.add(name);
          const given = buildArgs.get(name);
          const fromGlobal = stage ? globalArgs.get(name) : undefined;
          const v = given ?? (value !== null ? expand(value, vars) : fromGlobal);
          if (v !== undefined) (stage ? stage.args : globalArgs).set(name, v);
          else if (stage) stage.args.delete(name);
        }
        break;
      }
      case 'FROM': {
        const image = ex(step.from!.image);
        log(`${where(step)}: FROM ${image}`);
        stage = await newStage(store, image, step.from!.stage, platform, stages, options, created, where(step));
        stages.push(stage);
        break;
      }
      case 'RUN':
        throw new ImageError(`${where(step)}: RUN is not supported: hyrun build has no build sandbox; build that stage with buildah or podman, then COPY --from its image`);
      case 'COPY':
      case 'ADD': {
        const s = stage!;
        const flags = Object.fromEntries(Object.entries(step.flags).map(([k, v]) => [k, ex(v)]));
        for (const k of Object.keys(flags)) {
          if (!['from', 'chown', 'chmod', 'link'].includes(k)) throw new ImageError(`${where(step)}: ${step.keyword} --${k} is not supported; hyrun supports --from, --chown, --chmod`);
        }
        const words = execForm(step.text) ?? step.args.map(unquote);
        const all = words.map(ex);
        const dest = all.pop()!;
        const sources = all;
        const entries = await copyEntries(step, s, sources, dest, flags, {
          context, stages, store, platform, options, where: where(step), add: step.keyword === 'ADD',
        });
        await addLayer(store, s, entries, epoch, options.format, created, `${step.keyword} ${step.text}`);
        log(`${where(step)}: ${step.keyword} ${step.text} (${entries.length} entries)`);
        break;
      }
      case 'ENV': {
        const s = stage!;
        s.config.config!.Env ??= [];
        for (const [name, value] of step.properties) {
          if (value === null) throw new ImageError(`${where(step)}: ENV ${name} has no value; write ENV NAME=VALUE`);
          const v = expand(unquote(value), new Map([...s.args, ...s.env]));
          s.env.set(name, v);
          s.config.config!.Env = [...s.config.config!.Env.filter((e) => !e.startsWith(`${name}=`)), `${name}=${v}`];
        }
        history(s, created, `ENV ${step.text}`);
        break;
      }
      case 'LABEL': {
        const s = stage!;
        for (const [name, value] of step.properties) {
          if (value === null) throw new ImageError(`${where(step)}: LABEL ${name} has no value; write LABEL KEY=VALUE`);
          (s.config.config!.Labels ??= {})[ex(name)] = ex(unquote(value));
        }
        history(s, created, `LABEL ${step.text}`);
        break;
      }
      case 'CMD':
      case 'ENTRYPOINT': {
        const s = stage!;
        const argv = execForm(step.text) ?? (step.text === '' ? [] : ['/bin/sh', '-c', step.text]);
        if (step.keyword === 'CMD') {
          s.config.config!.Cmd = argv;
          s.cmdSet = true;
        } else {
          s.config.config!.Entrypoint = argv;
          // As Docker does: ENTRYPOINT drops a CMD inherited from the base image, not one set in this stage.
          if (!s.cmdSet) s.config.config!.Cmd = null;
        }
        history(s, created, `${step.keyword} ${JSON.stringify(argv)}`);
        break;
      }
      case 'WORKDIR': {
        const s = stage!;
        const dir = ex(unquote(step.text));
        s.config.config!.WorkingDir = dir.startsWith('/') ? posix.normalize(dir) : posix.join(s.config.config!.WorkingDir || '/', dir);
        history(s, created, `WORKDIR ${dir}`);
        break;
      }
      case 'USER':
        stage!.config.config!.User = ex(unquote(step.text));
        history(stage!, created, `USER ${step.text}`);
        break;
      case 'EXPOSE': {
        const s = stage!;
        for (const word of step.args.map((a) => ex(a))) {
          const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
          if (!m) throw new ImageError(`${where(step)}: EXPOSE ${word} is not PORT[/PROTO]; write e.g. EXPOSE 8080/tcp`);
          (s.config.config!.ExposedPorts ??= {})[`${m[1]}${m[2] ? `-${m[2]}` : ''}/${(m[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        history(s, created, `EXPOSE ${step.text}`);
        break;
      }
      case 'VOLUME': {
        const s = stage!;
        const vols = execForm(step.text) ?? step.args.map(unquote);
        for (const v of vols) (s.config.config!.Volumes ??= {})[ex(v)] = {};
        history(s, created, `VOLUME ${JSON.stringify(vols)}`);
        break;
      }
      case 'STOPSIGNAL':
        stage!.config.config!.StopSignal = ex(step.text);
        history(stage!, created, `STOPSIGNAL ${step.text}`);
        break;
      case 'MAINTAINER':
        stage!.config.author = step.text;
        break;
      default:
        throw new ImageError(`${where(step)}: ${step.keyword} is not supported by hyrun build`);
    }
  }
  for (const name of buildArgs.keys()) {
    if (!usedArgs.has(name)) log(`warning: --build-arg ${name} was not consumed by any ARG`);
  }

  const final = stages.at(-1)!;
  const labels = options.labels;
  if (Object.keys(labels).length > 0) final.config.config!.Labels = { ...final.config.config!.Labels, ...labels };
  const docker = options.format === 'docker';
  const configBytes = jsonBytes(final.config);
  const config = store.putBlob(configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: docker ? MT.dockerManifest : MT.ociManifest,
    config: { mediaType: docker ? MT.dockerConfig : MT.ociConfig, digest: config.digest, size: config.size },
    layers: final.layers.map((l) => l.descriptor),
  };
  // Engines read image annotations from the manifest (Podman copies them into the container config).
  if (!docker && Object.keys(options.annotations).length > 0) manifest.annotations = { ...options.annotations };
  if (docker && Object.keys(options.annotations).length > 0) log('warning: --format docker manifests carry no annotations; they were dropped');
  const stored = store.putBlob(jsonBytes(manifest));
  const descriptor: Descriptor = {
    mediaType: manifest.mediaType!, digest: stored.digest, size: stored.size,
    platform: { os: final.config.os, architecture: final.config.architecture, ...(final.config.variant ? { variant: final.config.variant } : {}) },
  };
  const names = options.tags.map(localName);
  for (const name of names) store.tag(name, descriptor);
  if (names.length === 0) store.updateIndex((index) => {
    if (!index.manifests.some((d) => d.digest === descriptor.digest)) index.manifests.push(descriptor);
  });
  return { digest: stored.digest, id: config.digest, manifest, names };
}

/** The build's `--artifact FILE.wasm`: the CNCF TAG Runtime Wasm OCI artifact, one application/wasm layer. */
export function buildArtifact(store: Store, wasmFile: string, options: { tags: string[]; annotations: Record<string, string>; os?: string; epoch?: number }): BuildResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(wasmFile);
  } catch {
    throw new ImageError(`${wasmFile}: no such file; --artifact takes the .wasm module to package`);
  }
  if (bytes.length < 8 || bytes.readUInt32LE(0) !== 0x6d736100) throw new ImageError(`${wasmFile} is not a WebAssembly module (no \\0asm magic); --artifact takes a compiled .wasm file`);
  const os = artifactOs(wasmFile, isComponentHeader(bytes), options.os);
  const layer = store.putBlob(bytes);
  const created = new Date((options.epoch ?? 0) * 1000).toISOString().replace(/\.000Z$/, 'Z');
  const configJson = { created, architecture: 'wasm', os, layerDigests: [layer.digest], ...(isComponentHeader(bytes) ? { component: componentField(wasmFile, bytes) } : {}) };
  const config = store.putBlob(jsonBytes(configJson));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { mediaType: MT.wasmConfig, digest: config.digest, size: config.size },
    layers: [{ mediaType: MT.wasmLayer, digest: layer.digest, size: layer.size, annotations: { 'org.opencontainers.image.title': basename(wasmFile) } }],
    ...(Object.keys(options.annotations).length > 0 ? { annotations: { ...options.annotations } } : {}),
  };
  const stored = store.putBlob(jsonBytes(manifest));
  const descriptor: Descriptor = { mediaType: MT.ociManifest, digest: stored.digest, size: stored.size, platform: { os: configJson.os, architecture: 'wasm' } };
  const names = options.tags.map(localName);
  for (const name of names) store.tag(name, descriptor);
  if (names.length === 0) store.updateIndex((index) => { if (!index.manifests.some((d) => d.digest === descriptor.digest)) index.manifests.push(descriptor); });
  return { digest: stored.digest, id: config.digest, manifest, names };
}

/**
 * The config's `component` field, which the CNCF TAG Runtime layout requires of a component
 * (wasip2): what its world imports and exports, as the binary names them (`wasi:http/types@0.2.0`,
 * or a bare function name). Its optional `target` (the world the component was made for) is left
 * out: the binary does not say it, and a guess would mislead the indexes that read it.
 */
function componentField(wasmFile: string, bytes: Uint8Array): ComponentWorld {
  try {
    const { exports, imports } = componentWorld(bytes);
    return { exports, imports };
  } catch (e) {
    throw new ImageError(`${wasmFile} is not a valid WebAssembly component: its imports and exports do not parse (${(e as Error).message})`, 126);
  }
}

/**
 * The artifact's `os`, as the CNCF TAG Runtime layout has it: `wasip2` for a WASI 0.2 component
 * (known by its header: layer 1), `wasip1` for a core module. A --platform naming the other one is
 * refused: engines and registries pick runtimes by it.
 */
function artifactOs(wasmFile: string, component: boolean, asked: string | undefined): string {
  const os = component ? 'wasip2' : 'wasip1';
  if ((asked === 'wasip1' || asked === 'wasip2') && asked !== os) {
    throw new ImageError(`${wasmFile} is a ${component ? 'WASI 0.2 component' : 'core module (WASI preview1)'}, but --platform says ${asked}/wasm; use ${os}/wasm or leave --platform out`);
  }
  return asked ?? os;
}

function history(stage: Stage, created: string, text: string, emptyLayer = true): void {
  (stage.config.history ??= []).push({ created, created_by: `/bin/sh -c #(nop) ${text}`, ...(emptyLayer ? { empty_layer: true } : {}) });
}

async function newStage(store: Store, image: string, name: string | undefined, platform: Platform, stages: Stage[], options: BuildOptions, created: string, where: string): Promise<Stage> {
  const empty = (): ImageConfig => ({
    created, architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}),
    config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [],
  });
  if (image === 'scratch') return { name, layers: [], config: empty(), args: new Map(), env: new Map() };
  const earlier = stages.find((s) => s.name !== undefined && s.name === image);
  if (earlier) {
    return {
      name, layers: [...earlier.layers], config: structuredClone(earlier.config), tree: earlier.tree,
      args: new Map(), env: new Map(earlier.env),
    };
  }
  const base = await imageFor(store, image, platform, options, where);
  const config = structuredClone(base.config);
  config.created = created;
  config.config ??= {};
  const env = new Map<string, string>();
  for (const e of config.config.Env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return {
    name, base, config, args: new Map(), env,
    layers: base.manifest.layers.map((d, i) => ({
      descriptor: { mediaType: options.format === 'docker' ? dockerLayerType(d.mediaType) : ociLayerType(d.mediaType), digest: d.digest, size: d.size },
      diffId: base.config.rootfs.diff_ids[i],
    })),
  };
}

const ociLayerType = (t: string): string => (t === MT.dockerLayerGzip ? MT.ociLayerGzip : t === MT.dockerLayer ? MT.ociLayer : t);
const dockerLayerType = (t: string): string => (t === MT.ociLayerGzip ? MT.dockerLayerGzip : t === MT.ociLayer ? MT.dockerLayer : t);

async function imageFor(store: Store, image: string, platform: Platform, options: BuildOptions, where: string): Promise<ResolvedImage> {
  let found = findImage(store, image, platform);
  if (!found && options.pull) {
    await options.pull(image, platform);
    found = findImage(store, image, platform);
  }
  if (!found) throw new ImageError(`${where}: image ${image} is not in the local store; pull it first (hyrun pull ${image}) or build it`);
  if (found.config.os !== platform.os || found.config.architecture !== platform.architecture) {
    options.log?.(`warning: ${image} is ${found.config.os}/${found.config.architecture}, the build is for ${formatPlatform(platform)}`);
  }
  return found;
}

async function treeOf(store: Store, stage: Stage): Promise<FsTree> {
  if (stage.tree) return stage.tree;
  const tree = new FsTree();
  for (const l of stage.layers) await tree.applyLayerBlob(store.readBlob(l.descriptor.digest));
  stage.tree = tree;
  return tree;
}

async function addLayer(store: Store, stage: Stage, entries: LayerEntry[], epoch: number, format: 'oci' | 'docker', created: string, text: string): Promise<void> {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const tar = await writeTar(sorted, epoch);
  const layer = compressLayer(tar);
  const blob = store.putBlob(layer.blob);
  stage.layers.push({ descriptor: { mediaType: format === 'docker' ? MT.dockerLayerGzip : MT.ociLayerGzip, digest: blob.digest, size: blob.size }, diffId: layer.diffId });
  stage.config.rootfs.diff_ids.push(layer.diffId);
  (stage.config.history ??= []).push({ created, created_by: `/bin/sh -c #(nop) ${text}` });
  if (stage.tree) for (const e of sorted) stage.tree.add(e);
}

function readIgnore(context: string): IgnoreRule[] {
  for (const name of ['.containerignore', '.dockerignore']) {
    const p = join(context, name);
    if (existsSync(p)) return parseIgnore(readFileSync(p, 'utf8'));
  }
  return [];
}

/** The files of the build context, minus ignored ones; paths relative to the context. */
class ContextFiles {
  private all?: string[];
  constructor(readonly dir: string, readonly ignore: IgnoreRule[]) {}

  list(): string[] {
    if (this.all) return this.all;
    const out: string[] = [];
    const walk = (rel: string): void => {
      for (const name of readdirSync(join(this.dir, rel)).sort()) {
        const r = rel ? `${rel}/${name}` : name;
        if (isIgnored(r, this.ignore) && !this.ignore.some((x) => x.negate)) continue;
        out.push(r);
        if (lstatSync(join(this.dir, r)).isDirectory()) walk(r);
      }
    };
    walk('');
    this.all = out.filter((r) => !isIgnored(r, this.ignore));
    return this.all;
  }

  has(rel: string): boolean {
    return rel === '' || this.list().includes(rel);
  }
}

interface CopyContext {
  context: ContextFiles;
  stages: Stage[];
  store: Store;
  platform: Platform;
  options: BuildOptions;
  where: string;
  add: boolean;
}

/** A file system that COPY reads from: the build context, or an earlier stage or image. */
interface Source {
  /** Paths matching a source argument (exact or glob), relative. */
  match(pattern: string): string[];
  /** The entry for a path and everything below it, names relative to the source root. */
  below(path: string): LayerEntry[];
  /** Top-level: the entry itself, symlinks followed (COPY follows a symlink named as source). */
  top(path: string): LayerEntry | undefined;
}

function contextSource(ctx: ContextFiles): Source {
  // A source named on the COPY line is followed if it is a symlink, but inside the context only
  // (as if the context were `/`): `secret -> /etc/shadow` never copies the host's file.
  const inContext = (rel: string): string | undefined => {
    const resolved = relative(ctx.dir, resolveInRoot(ctx.dir, rel.split('/'), true));
    return resolved === '' || ctx.has(resolved) ? resolved : undefined;
  };
  const entryOf = (rel: string, follow: boolean): LayerEntry => {
    const abs = follow ? join(ctx.dir, inContext(rel) ?? '\0missing') : join(ctx.dir, rel);
    const st = lstatSync(abs);
    if (st.isSymbolicLink()) return { name: rel, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: readlinkSync(abs) };
    if (st.isDirectory()) return { name: rel, type: 'directory', mode: st.mode & 0o7777, uid: 0, gid: 0 };
    if (st.isFile()) return { name: rel, type: 'file', mode: st.mode & 0o7777, uid: 0, gid: 0, content: readFileSync(abs) };
    throw new ImageError(`${rel} in the build context is not a file, directory or symlink; remove it or add it to .containerignore`);
  };
  return {
    match(pattern) {
      const p = cleanRelative(pattern);
      if (hasGlob(p)) {
        const re = globToRegExp(p);
        return ctx.list().filter((r) => re.test(r));
      }
      // Listed (not ignored), and if a symlink, resolving to something inside the context.
      if (!ctx.has(p) || inContext(p) === undefined) return [];
      return [p];
    },
    below(path) {
      const real = inContext(path) ?? path;
      const prefix = real === '' ? '' : `${real}/`;
      // Listed under the real directory, named under the path the COPY line gave.
      return [entryOf(path, true), ...ctx.list().filter((r) => r.startsWith(prefix)).map((r) => ({ ...entryOf(r, false), name: path === '' ? r : `${path}/${r.slice(prefix.length)}` }))];
    },
    top(path) {
      try {
        return entryOf(path, true);
      } catch (e) {
        if (e instanceof ImageError) throw e;
        return undefined;
      }
    },
  };
}

function treeSource(tree: FsTree): Source {
  return {
    match(pattern) {
      const p = cleanRelative(pattern);
      if (hasGlob(p)) {
        const re = globToRegExp(p);
        return [...tree.entries.keys()].filter((k) => re.test(k)).sort();
      }
      return p === '' || tree.entries.has(p) ? [p] : [];
    },
    below(path) {
      if (path === '') return [{ name: '', type: 'directory', mode: 0o755, uid: 0, gid: 0 }, ...tree.below('')];
      return tree.below(path).map((e) => (e.type === 'link' ? { ...e, type: 'file' as const, content: tree.fileContent(e), linkname: undefined } : e));
    },
    top(path) {
      let e = tree.get(path);
      for (let hops = 0; e?.type === 'symlink' && hops < 40; hops++) {
        const target = e.linkname!.startsWith('/') ? e.linkname! : posix.join(posix.dirname(path), e.linkname!);
        path = cleanRelative(target);
        e = tree.get(path);
      }
      if (e?.type === 'link') return { ...e, type: 'file', content: tree.fileContent(e), linkname: undefined };
      return e;
    },
  };
}

async function copyEntries(step: Step, stage: Stage, sources: string[], destText: string, flags: Record<string, string>, c: CopyContext): Promise<LayerEntry[]> {
  let source: Source;
  if (flags.from !== undefined) {
    const from = flags.from;
    const byName = c.stages.find((s) => s.name === from) ?? (/^\d+$/.test(from) ? c.stages[Number(from)] : undefined);
    if (byName === stage) throw new ImageError(`${c.where}: COPY --from=${from} names the stage being built`);
    const fromStage = byName ?? (await newStage(c.store, from, undefined, c.platform, [], c.options, '', c.where));
    source = treeSource(await treeOf(c.store, fromStage));
  } else source = contextSource(c.context);

  const workdir = stage.config.config!.WorkingDir || '/';
  const destAbs = destText.startsWith('/') ? destText : posix.join(workdir, destText);
  const dest = cleanRelative(destAbs);
  const owner = flags.chown !== undefined ? await resolveOwner(flags.chown, stage, c) : { uid: 0, gid: 0 };
  let chmod: number | undefined;
  if (flags.chmod !== undefined) {
    if (!/^[0-7]{3,4}$/.test(flags.chmod)) throw new ImageError(`${c.where}: --chmod=${flags.chmod} is not an octal mode; write e.g. --chmod=0755`);
    chmod = parseInt(flags.chmod, 8);
  }
  const matched: string[] = [];
  for (const s of sources) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
      throw new ImageError(`${c.where}: ${step.keyword} of a URL (${s}) is not supported: hyrun build reads local files only; download it into the context first`);
    }
    const hits = source.match(s);
    if (hits.length === 0) {
      throw new ImageError(`${c.where}: ${step.keyword} ${s}: no such file in ${flags.from !== undefined ? `--from=${flags.from}` : `the build context ${c.context.dir}`}${flags.from === undefined && c.context.ignore.length ? ' (or excluded by .containerignore)' : ''}`);
    }
    matched.push(...hits);
  }
  const toDir = destText.endsWith('/') || matched.length > 1 || sources.some(hasGlob);
  const out = new Map<string, LayerEntry>();
  const tree = stage.layers.length > 0 ? await treeOf(c.store, stage).catch(() => undefined) : undefined;
  const put = (e: LayerEntry): void => {
    const mode = chmod !== undefined && e.type !== 'symlink' ? chmod : e.mode;
    out.set(e.name, { ...e, mode, uid: owner.uid, gid: owner.gid });
  };
  for (const rel of matched) {
    const top = source.top(rel);
    if (!top) continue;
    if (top.type === 'directory') {
      // A directory's contents are copied, not the directory itself.
      for (const e of source.below(rel)) {
        const sub = rel === '' ? e.name : e.name === rel ? '' : e.name.slice(rel.length + 1);
        const name = cleanRelative(posix.join(dest, sub));
        if (name === '' ) continue;
        put({ ...e, name });
      }
      if (dest !== '') put({ name: dest, type: 'directory', mode: top.mode, uid: 0, gid: 0 });
    } else if (c.add && top.type === 'file' && top.content && isTarball(top.content)) {
      // ADD of a local archive: its entries land under dest (names cleaned: no .. or absolute paths).
      for (const { header, content } of await readTar(decompressLayer(top.content))) {
        const name = cleanRelative(posix.join(dest, cleanRelative(header.name)));
        if (name === '' || name === dest) continue;
        const type = header.type === 'directory' ? 'directory' : header.type === 'symlink' ? 'symlink' : header.type === 'link' ? 'link' : header.type === 'file' ? 'file' : undefined;
        if (!type) continue;
        out.set(name, {
          name, type, mode: (header.mode ?? 0o644) & 0o777, uid: flags.chown !== undefined ? owner.uid : header.uid ?? 0, gid: flags.chown !== undefined ? owner.gid : header.gid ?? 0,
          content: type === 'file' ? content : undefined,
          linkname: type === 'link' ? cleanRelative(posix.join(dest, cleanRelative(header.linkname ?? ''))) : header.linkname ?? undefined,
        });
      }
      if (dest !== '') out.set(dest, { name: dest, type: 'directory', mode: 0o755, uid: 0, gid: 0 });
    } else {
      const name = toDir || tree?.get(dest)?.type === 'directory' ? cleanRelative(posix.join(dest, posix.basename(rel))) : dest;
      if (name === '') throw new ImageError(`${c.where}: cannot copy the file ${rel} onto / itself; give a destination directory ending in /`);
      put({ ...top, name });
      if (toDir && dest !== '' && !out.has(dest)) out.set(dest, { name: dest, type: 'directory', mode: 0o755, uid: owner.uid, gid: owner.gid });
    }
  }
  // Missing parent directories: as in the stage when it has them, else root-owned 0755.
  for (const name of [...out.keys()]) {
    let parent = posix.dirname(name);
    while (parent !== '.' && parent !== '' && !out.has(parent)) {
      const existing = tree?.get(parent);
      out.set(parent, existing && existing.type === 'directory' ? { ...existing, name: parent, content: undefined } : { name: parent, type: 'directory', mode: 0o755, uid: 0, gid: 0 });
      parent = posix.dirname(parent);
    }
  }
  return [...out.values()];
}

/** --chown=USER[:GROUP]: numbers, or names looked up in the stage's /etc/passwd and /etc/group. */
async function resolveOwner(spec: string, stage: Stage, c: CopyContext): Promise<{ uid: number; gid: number }> {
  const [user, group] = spec.split(':', 2);
  const lookup = async (file: string, name: string): Promise<number> => {
    if (/^\d+$/.test(name)) return Number(name);
    const tree = stage.layers.length > 0 ? await treeOf(c.store, stage) : undefined;
    const text = tree?.get(file)?.content?.toString('utf8') ?? '';
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f[0] === name && /^\d+$/.test(f[2] ?? '')) return Number(f[2]);
    }
    throw new ImageError(`${c.where}: --chown=${spec}: no ${file === 'etc/passwd' ? 'user' : 'group'} ${JSON.stringify(name)} in the image's /${file}; use numeric IDs`);
  };
  const uid = await lookup('etc/passwd', user);
  let gid = uid;
  if (group !== undefined && group !== '') gid = await lookup('etc/group', group);
  else if (!/^\d+$/.test(user)) {
    const tree = await treeOf(c.store, stage);
    const line = (tree.get('etc/passwd')?.content?.toString('utf8') ?? '').split('\n').find((l) => l.split(':')[0] === user);
    gid = Number(line?.split(':')[3] ?? uid);
  }
  return { uid, gid };
}

