// A new container's directory, complete before anything runs: rootfs/ (rootfs.ts), config.json (the
// OCI bundle, written with the final paths) and record.json, with the executor's spec for an
// embedded run. Built under the store's tmp/ and renamed into place: `ps` never sees half of one,
// and a failure leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { mergeEnv, ociConfig, processArgs, type RunSettings } from '../image/container-config.js';
import { ImageError } from '../image/errors.js';
import type { ResolvedImage } from '../image/resolve.js';
import { resolveInRoot, snapshot } from '../image/unpack.js';
import { componentCacheDir } from '../handlers/runtime-dir.js';
import type { OciSpec } from '../oci/spec.js';
import { isComponentHeader, readFileHead } from '../wasm/binary.js';
import { containerDir, containersDir, type ContainerRecord, type PortMapping, type RunMode } from './records.js';
import type { RunRequest } from './requests.js';
import { copyTree, makeMountPoint, mountOverlay, removeContainerDir } from './rootfs.js';

/** Creates the container's directory and record (status `created`); `forwards` are the ports the supervisor forwards. */
export async function prepareContainer(request: RunRequest, image: ResolvedImage, mode: RunMode, forwards: PortMapping[]): Promise<ContainerRecord> {
  const { store } = request;
  const id = randomBytes(32).toString('hex');
  const dir = containerDir(store, id);
  const building = store.tempPath('container');
  try {
    mkdirSync(containersDir(store), { recursive: true });
    if (request.keepSetid && process.getuid?.() !== 0) throw new ImageError('--keep-setid needs root: set-id files are only kept for containers root runs');
    const snap = await snapshot(store, image, { keepSetid: request.keepSetid });
    mkdirSync(building, { recursive: true });
    const rootfs = join(building, 'rootfs');
    // As root for the OCI runtime, an overlay on the snapshot (mounted once the directory has its
    // final name; overlayfs options cannot hold ',' or ':'); otherwise the container's own copy.
    const overlay = mode === 'oci' && process.getuid?.() === 0 && !/[,:]/.test(snap + dir) && process.env.HYRUN_RUN_COPY !== '1';
    if (overlay) {
      for (const d of ['rootfs', 'upper', 'work']) mkdirSync(join(building, d));
    } else copyTree(snap, rootfs);
    const lookupRoot = overlay ? snap : rootfs;
    const settings: RunSettings = {
      args: request.args, entrypoint: request.entrypoint, env: request.env, workdir: request.workdir, user: request.user,
      annotations: request.annotations, volumes: request.volumes, memoryBytes: request.memoryBytes,
      // A detached run has no terminal to hand over (no console-socket receiver): `-d -t` runs without one.
      terminal: request.tty && !request.detach && process.stdin.isTTY === true, hostname: id.slice(0, 12),
    };
    const finalRootfs = join(dir, 'rootfs');
    // Paths in the config are the final ones; --user names are looked up in the copy being built.
    const config = ociConfig(finalRootfs, image.manifest, image.config, settings, lookupRoot);
    writeFileSync(join(building, 'config.json'), JSON.stringify(config, null, 2));
    const record: ContainerRecord = {
      id, name: request.name ?? `hyrun-${id.slice(0, 12)}`, image: image.stored.name ?? request.image, imageDigest: image.descriptor.digest,
      created: new Date().toISOString(), command: config.process!.args!, mode, status: 'created', rm: request.rm,
      detached: request.detach, stopSignal: image.config.config?.StopSignal ?? 'SIGTERM', interactive: request.interactive,
      tty: settings.terminal,
    };
    if (forwards.length > 0) record.forwards = forwards;
    if (mode === 'embedded') {
      record.wasm = embeddedSpec(request, image, settings, config, lookupRoot, finalRootfs);
      for (const v of request.volumes) makeMountPoint(rootfs, v.container);
    }
    writeFileSync(join(building, 'record.json'), JSON.stringify(record, null, 2));
    renameSync(building, dir);
    if (overlay && !mountOverlay(snap, dir)) {
      // No overlayfs here (e.g. the store itself on overlayfs): copy instead.
      rmSync(join(dir, 'upper'), { recursive: true, force: true });
      rmSync(join(dir, 'work'), { recursive: true, force: true });
      rmSync(join(dir, 'rootfs'), { recursive: true, force: true });
      copyTree(snap, join(dir, 'rootfs'));
    }
    return record;
  } catch (e) {
    rmSync(building, { recursive: true, force: true });
    if (existsSync(dir)) removeContainerDir(dir);
    throw e;
  }
}

/** What the executor is given for an embedded run: the module found in the rootfs, the rootfs as `/`, volumes inside it. */
function embeddedSpec(request: RunRequest, image: ResolvedImage, settings: RunSettings, config: OciSpec, lookupRoot: string, finalRootfs: string): ContainerRecord['wasm'] {
  const args = processArgs(image.manifest, image.config, settings);
  const env = config.process!.env!;
  const module = findModule(lookupRoot, args[0], config.process!.cwd, env);
  // A component listens through wasi:http (an HTTP component serves on httpAddr), not on preopened
  // sockets: -p gives it its address, on the host (there is no network namespace here).
  const head = readFileHead(join(lookupRoot, module), 8);
  const component = head !== undefined && isComponentHeader(head);
  if (component && request.ports.length > 1) throw new ImageError('a component serves one address: give one -p [IP:]HOST_PORT:CONTAINER_PORT');
  return {
    module: join(finalRootfs, posix.relative('/', module)),
    args,
    env: mergeEnv({ ...image.config, config: { ...image.config.config, Env: env } }, []),
    // Volumes are mounted inside `/` (src/wasi/preopen.ts), as in a container: the guest holds
    // only `/`, so every path resolves from there; `:ro` ones refuse every change with EROFS.
    preopens: [{ hostPath: finalRootfs, guestPath: '/' }, ...request.volumes.map((v) => ({ hostPath: v.host, guestPath: v.container, mountOnly: true, ...(v.readonly ? { readOnly: true } : {}) }))],
    memoryLimit: request.memoryBytes,
    tcpListen: !component && request.ports.length > 0 ? request.ports.map((p) => `${p.ip}:${p.host}`) : undefined,
    httpAddr: component && request.ports.length === 1 ? `${request.ports[0]!.ip.includes(":") ? `[${request.ports[0]!.ip}]` : request.ports[0]!.ip}:${request.ports[0]!.host}` : undefined,
    // A component is transpiled into (or found in) the host's cache by the executor, which runs
    // here, outside any container (docs/components.md).
    componentCache: componentCacheDir(),
  };
}

/** args[0] inside the rootfs: absolute; a bare name through PATH then cwd; else relative to cwd (as the Wasm handler does). */
function findModule(rootfs: string, arg0: string, cwd: string, env: string[]): string {
  const candidates: string[] = [];
  if (arg0.startsWith('/')) candidates.push(arg0);
  else {
    if (!arg0.includes('/')) {
      const path = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
      for (const d of path.split(':')) if (d.startsWith('/')) candidates.push(posix.join(d, arg0));
    }
    candidates.push(posix.join(cwd, arg0));
  }
  for (const c of candidates) {
    const host = resolveInRoot(rootfs, c.split('/'), true);
    try {
      if (statSync(host).isFile()) return `/${posix.relative(rootfs, host)}`;
    } catch {
      // next
    }
  }
  throw new ImageError(`${arg0}: no such module in the image; check the image's Entrypoint/Cmd`, 127);
}
