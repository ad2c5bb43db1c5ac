// The image commands: build, images, inspect, tag, rmi, save, load, prune, pull, push, login,
// logout (registry.ts), and `run IMAGE` with ps/logs/stop/rm for its containers (containers.ts).
// Parsing lives here; the work is in src/image and src/containers. Every ImageError becomes one
// `hyrun:` line and exit status 125 (or its own).
import { resolve } from 'node:path';
import { ImageError } from '../image/errors.js';
import { isIndex, type ImageIndex, type Manifest } from '../image/media.js';
import { candidateNames, findImage, formatPlatform, localName, parsePlatform } from '../image/resolve.js';
import type { Store } from '../image/store.js';
import { printError, UsageError } from './errors.js';
import { transpileArtifactFile, transpileComponentOf } from './image-components.js';
import { keyValues, openStore, parse, say, strings } from './image-flags.js';

export const IMAGE_COMMANDS = ['build', 'images', 'inspect', 'tag', 'rmi', 'save', 'load', 'prune', 'pull', 'push', 'login', 'logout', 'logs', 'stop', 'rm'] as const;

function sourceDateEpoch(): number | undefined {
  const v = process.env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`SOURCE_DATE_EPOCH='${v}' is not a number of seconds`);
  return Number(v);
}

/**
 * Entry point of dist/hyrun-image.cjs. Bad input is printed here as one line and returned as the
 * exit status: this bundle has its own copies of the error classes, which main.ts's instanceof
 * checks would not recognise.
 */
export async function runImageCli(command: string, args: string[]): Promise<number> {
  const firstPositional = args.findIndex((a) => !a.startsWith('-'));
  const flags = command === 'run' && firstPositional >= 0 ? args.slice(0, firstPositional) : args;
  if (flags.includes('--help') || flags.includes('-h')) {
    const { commandHelp } = await import('./help.js');
    process.stdout.write(commandHelp(command === '__supervise' ? 'run' : command) ?? '');
    return 0;
  }
  try {
    return await dispatch(command, args);
  } catch (e) {
    if (e instanceof ImageError || e instanceof UsageError) {
      printError(e.message);
      return e.exitCode;
    }
    throw e;
  }
}

async function dispatch(command: string, args: string[]): Promise<number> {
  switch (command) {
    case 'build': return buildCommand(args);
    case 'images': return imagesCommand(args);
    case 'inspect': return inspectCommand(args);
    case 'tag': return tagCommand(args);
    case 'rmi': return rmiCommand(args);
    case 'save': return saveCommand(args);
    case 'load': return loadCommand(args);
    case 'prune': return pruneCommand(args);
    case 'pull':
    case 'push':
    case 'login':
    case 'logout': {
      const { registryCommand } = await import('./registry.js');
      return registryCommand(command, args);
    }
    case 'run':
    case '__supervise':
    case 'ps':
    case 'logs':
    case 'stop':
    case 'rm': {
      const { containerCommand } = await import('./containers.js');
      return containerCommand(command, args);
    }
    default:
      throw new UsageError(`unknown image command ${command}`);
  }
}

async function buildCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('build', args, {
    tag: { type: 'string', short: 't', multiple: true },
    file: { type: 'string', short: 'f' },
    annotation: { type: 'string', multiple: true },
    label: { type: 'string', multiple: true },
    platform: { type: 'string' },
    'build-arg': { type: 'string', multiple: true },
    format: { type: 'string' },
    artifact: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    'tls-verify': { type: 'string' },
  });
  const format = (values.format as string | undefined) ?? 'oci';
  if (format !== 'oci' && format !== 'docker') throw new UsageError(`build: --format ${format}: use oci or docker`);
  const store = openStore(values);
  const annotations = keyValues('annotation', strings(values.annotation));
  const tags = strings(values.tag);
  const epoch = sourceDateEpoch();
  const { build, buildArtifact } = await import('../image/build.js');
  if (typeof values.artifact === 'string') {
    const os = values.platform ? parsePlatform(values.platform as string).os : undefined;
    // A component is transpiled first: one that cannot be leaves no artifact behind.
    await transpileArtifactFile(values.artifact);
    const r = buildArtifact(store, values.artifact, { tags, annotations, os, epoch });
    process.stdout.write(`${r.digest}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('build needs one CONTEXT directory: hyrun build [-t NAME] [-f Containerfile] CONTEXT');
  const context = resolve(positionals[0]);
  const quiet = values.quiet === true;
  const r = await build(store, {
    context,
    file: typeof values.file === 'string' ? resolve(values.file) : undefined,
    tags,
    annotations,
    labels: keyValues('label', strings(values.label)),
    platform: typeof values.platform === 'string' ? parsePlatform(values.platform) : undefined,
    buildArgs: keyValues('build-arg', strings(values['build-arg'])),
    format,
    epoch,
    log: quiet ? undefined : say,
    pull: async (name, platform) => {
      const { pullImage } = await import('../image/registry.js');
      await pullImage(store, name, { platform, log: quiet ? undefined : say, tlsVerify: values['tls-verify'] !== 'false' });
    },
  });
  if (!quiet) for (const n of r.names) say(`tagged ${n}`);
  await transpileComponentOf(store, r.names[0] ?? r.digest, undefined, quiet);
  process.stdout.write(`${r.id.slice(7)}\n`);
  return 0;
}

const shortId = (digest: string | undefined): string => (digest ?? '').slice(7, 19);

function imagesCommand(args: string[]): number {
  const { values } = parse('images', args, { format: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } }, false);
  const store = openStore(values);
  const rows = store.images().map((i) => {
    const id = store.configDigestOf(i.descriptor) ?? i.descriptor.digest;
    let size = i.descriptor.size;
    let platform = i.descriptor.platform ? formatPlatform(i.descriptor.platform) : '';
    if (!isIndex(i.descriptor.mediaType) && store.hasBlob(i.descriptor.digest)) {
      const m = store.readJson<Manifest>(i.descriptor.digest);
      size = m.config.size + m.layers.reduce((a, l) => a + l.size, 0);
    } else if (isIndex(i.descriptor.mediaType)) {
      platform = store.readJson<ImageIndex>(i.descriptor.digest).manifests.map((m) => (m.platform ? formatPlatform(m.platform) : '?')).join(',');
    }
    const name = i.name ?? '<none>';
    const at = name.lastIndexOf(':');
    const repo = at > name.lastIndexOf('/') ? name.slice(0, at) : name;
    const tag = at > name.lastIndexOf('/') ? name.slice(at + 1) : '<none>';
    return { name: i.name, repository: repo, tag, id, digest: i.descriptor.digest, size, platform, mediaType: i.descriptor.mediaType };
  });
  if (values.format === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else if (values.quiet) process.stdout.write([...new Set(rows.map((r) => shortId(r.id)))].map((l) => `${l}\n`).join(''));
  else if (values.format !== undefined && values.format !== 'table') throw new UsageError(`images: --format ${String(values.format)}: use table or json`);
  else {
    const table = [['REPOSITORY', 'TAG', 'IMAGE ID', 'PLATFORM', 'SIZE'], ...rows.map((r) => [r.repository, r.tag, shortId(r.id), r.platform, humanSize(r.size)])];
    const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
    process.stdout.write(table.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n') + '\n');
  }
  return 0;
}

export function humanSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function inspectCommand(args: string[]): number {
  const { values, positionals } = parse('inspect', args, { platform: { type: 'string' } });
  if (positionals.length === 0) throw new UsageError('inspect needs an image: hyrun inspect IMAGE');
  const store = openStore(values);
  const out = positionals.map((text) => {
    const r = findImage(store, text, typeof values.platform === 'string' ? parsePlatform(values.platform) : undefined);
    if (!r) throw new ImageError(`no image ${text} in the store ${store.root}; see 'hyrun images'`);
    return {
      Name: r.stored.name, Id: r.manifest.config.digest, Digest: r.descriptor.digest, IndexDigest: r.stored.descriptor.digest !== r.descriptor.digest ? r.stored.descriptor.digest : undefined,
      MediaType: r.descriptor.mediaType, Os: r.config.os, Architecture: r.config.architecture,
      Annotations: r.manifest.annotations ?? {}, Config: r.config.config ?? {}, Layers: r.manifest.layers, Manifest: r.manifest, ImageConfig: r.config,
    };
  });
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

function tagCommand(args: string[]): number {
  const { values, positionals } = parse('tag', args, {});
  if (positionals.length < 2) throw new UsageError('tag needs an image and a new name: hyrun tag IMAGE NAME[:TAG]...');
  const store = openStore(values);
  const found = findStored(store, positionals[0]);
  for (const name of positionals.slice(1)) store.tag(localName(name), found.descriptor);
  return 0;
}

function findStored(store: Store, text: string): { name?: string; descriptor: import('../image/media.js').Descriptor } {
  for (const n of safeCandidates(text)) {
    const s = store.find(n);
    if (s) return s;
  }
  const s = store.find(text);
  if (!s) throw new ImageError(`no image ${text} in the store ${store.root}; see 'hyrun images'`);
  return s;
}

const safeCandidates = (text: string): string[] => {
  try {
    return candidateNames(text);
  } catch {
    return [];
  }
};

function rmiCommand(args: string[]): number {
  const { values, positionals } = parse('rmi', args, { force: { type: 'boolean', short: 'f' } });
  if (positionals.length === 0) throw new UsageError('rmi needs an image: hyrun rmi IMAGE...');
  const store = openStore(values);
  let status = 0;
  for (const text of positionals) {
    const s = findStored(store, text);
    const byName = s.name !== undefined && safeCandidates(text).includes(s.name);
    if (byName) {
      store.untag(s.name!);
      process.stdout.write(`Untagged: ${s.name}\n`);
    } else {
      const names = store.images().filter((i) => i.descriptor.digest === s.descriptor.digest && i.name);
      if (names.length > 1 && values.force !== true) {
        throw new ImageError(`image ${text} has ${names.length} names (${names.map((n) => n.name).join(', ')}); remove them by name or pass --force`);
      }
      store.removeDigest(s.descriptor.digest);
      process.stdout.write(`Deleted: ${s.descriptor.digest}\n`);
    }
  }
  const freed = store.prune();
  if (freed.blobs > 0) say(`freed ${humanSize(freed.bytes)} (${freed.blobs} blobs)`);
  return status;
}

async function saveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('save', args, { output: { type: 'string', short: 'o' }, format: { type: 'string' } });
  if (typeof values.output !== 'string') throw new UsageError('save needs -o FILE: hyrun save -o FILE [--format oci-archive|docker-archive] IMAGE...');
  if (positionals.length === 0) throw new UsageError('save needs an image: hyrun save -o FILE IMAGE...');
  const format = (values.format as string | undefined) ?? 'oci-archive';
  if (format !== 'oci-archive' && format !== 'docker-archive') throw new UsageError(`save: --format ${format}: use oci-archive or docker-archive`);
  const store = openStore(values);
  const images = positionals.map((t) => findStored(store, t));
  const { save } = await import('../image/archive.js');
  await save(store, images, resolve(values.output), format);
  return 0;
}

async function loadCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('load', args, { input: { type: 'string', short: 'i' } });
  const file = typeof values.input === 'string' ? values.input : positionals[0];
  if (!file) throw new UsageError('load needs -i FILE: hyrun load -i FILE');
  const store = openStore(values);
  const { load } = await import('../image/archive.js');
  for (const name of await load(store, resolve(file))) process.stdout.write(`Loaded image: ${name}\n`);
  return 0;
}

async function pruneCommand(args: string[]): Promise<number> {
  const { values } = parse('prune', args, {}, false);
  const store = openStore(values);
  const r = store.prune();
  process.stdout.write(`removed ${r.blobs} blobs (${humanSize(r.bytes)}) and ${r.snapshots} snapshots\n`);
  // The transpile cache too (docs/components.md): components unused for long, or of another transpiler.
  const { collectComponents } = await import('../handlers/component-gc.js');
  const { defaultCacheDir } = await import('../handlers/runtime-dir.js');
  const c = collectComponents(defaultCacheDir(), { waitMs: 10_000 });
  const kept = c.inUse > 0 ? `; kept ${c.inUse} that containers use` : '';
  process.stdout.write(`removed ${c.removed.length} transpiled components (${humanSize(c.bytes)})${kept}\n`);
  return 0;
}

