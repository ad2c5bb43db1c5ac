// `hyrun run IMAGE`: the image (from the store, or pulled as the request says), how the container
// runs (RunMode), its directory (prepare.ts), then its supervisor: this process in the foreground,
// or a detached `hyrun __supervise` whose output goes to the container's log.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { isWasmImage } from '../image/container-config.js';
import { ImageError } from '../image/errors.js';
import { findImage, type ResolvedImage } from '../image/resolve.js';
import { hyrunEntry, onHyrunNode } from './oci-runtime.js';
import { listenAll, listenerFds } from './ports.js';
import { prepareContainer } from './prepare.js';
import { allRecords, containerDir, type ContainerRecord, type RunMode } from './records.js';
import type { RunOutcome, RunRequest } from './requests.js';
import { supervise } from './supervise.js';

export async function runContainer(request: RunRequest): Promise<RunOutcome> {
  const { store } = request;
  const image = await imageToRun(request);
  const mode = chooseMode();
  if (mode === 'embedded' && !isWasmImage(image.manifest, image.config)) {
    throw new ImageError(`${image.stored.name ?? request.image} is a Linux image: running it needs root and crun or runc (apt-get install crun); Wasm images run without them`);
  }
  if (request.name && allRecords(store).some((r) => r.name === request.name)) {
    throw new ImageError(`the name ${request.name} is already used by a container; remove it (hyrun rm ${request.name}) or choose another`);
  }
  // Only OCI mode forwards (embedded mode listens on the host's ports itself); bound before anything is created.
  const forwards = mode === 'oci' ? request.ports.filter((p) => p.host !== p.container) : [];
  const listeners = await listenAll(forwards);
  let record: ContainerRecord;
  try {
    record = await prepareContainer(request, image, mode, forwards);
  } catch (e) {
    for (const l of listeners) l.close();
    throw e;
  }
  if (!record.detached) return { id: record.id, detached: false, exitCode: await supervise(store, record.id, true, listeners) };
  const log = openSync(join(containerDir(store, record.id), 'log'), 'a');
  // The forwarder's listening sockets are inherited by the supervisor as its fds 3, 4, …
  const child = spawn(...onHyrunNode([hyrunEntry(), '__supervise', store.root, record.id]), { detached: true, stdio: ['ignore', log, log, ...listenerFds(listeners)] });
  closeSync(log);
  for (const l of listeners) l.close();
  child.unref();
  return { id: record.id, detached: true };
}

/** The image from the store, pulled first when it is missing (`--pull missing`) or always (`--pull always`). */
async function imageToRun(request: RunRequest): Promise<ResolvedImage> {
  const { store, image: text, platform } = request;
  const found = request.pull === 'always' ? undefined : findImage(store, text, platform);
  if (found) return found;
  if (request.pull === 'never') throw new ImageError(`no image ${text} in the store and --pull never; pull it first`);
  const { pullImage } = await import('../image/registry.js');
  await pullImage(store, text, { platform, tlsVerify: request.tlsVerify, log: request.log });
  const pulled = findImage(store, text, platform);
  if (!pulled) throw new ImageError(`${text} was pulled but is not in the store`);
  return pulled;
}

/** OCI as root with crun or runc on PATH, else embedded; HYRUN_RUN_MODE=oci|embedded forces one (tests). */
function chooseMode(): RunMode {
  const forced = process.env.HYRUN_RUN_MODE;
  if (forced === 'oci' || forced === 'embedded') return forced;
  return process.getuid?.() === 0 && delegateAvailable() ? 'oci' : 'embedded';
}

function delegateAvailable(): boolean {
  for (const name of ['crun', 'runc']) {
    if (spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0) return true;
  }
  return false;
}
