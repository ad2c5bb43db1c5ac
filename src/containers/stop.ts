// `hyrun stop` and `hyrun rm`: the container's stop signal, SIGKILL after the timeout, then the
// supervisor's bookkeeping (or ours, when the supervisor was killed with it).
import { ImageError } from '../image/errors.js';
import type { Store } from '../image/store.js';
import { ociRuntimeQuietly } from './oci-runtime.js';
import { alive, containerDir, findContainer, readRecordIfThere, writeRecord, type ContainerRecord } from './records.js';
import type { RemoveRequest, StopRequest } from './requests.js';
import { removeContainerDir } from './rootfs.js';

export async function stopContainer(request: StopRequest): Promise<void> {
  await stopRecorded(request.store, findContainer(request.store, request.container), request.timeoutSeconds);
}

/** Removes a container; a running one only with `force` (stopped at once, SIGKILL). */
export async function removeContainer(request: RemoveRequest): Promise<void> {
  const { store } = request;
  const r = findContainer(store, request.container);
  if (r.status === 'running') {
    if (!request.force) throw new ImageError(`${r.name} is running; stop it first (hyrun stop ${r.name}) or use rm -f`);
    await stopRecorded(store, r, 0);
  }
  if (r.mode === 'oci') ociRuntimeQuietly(store, 'delete', '--force', r.id);
  removeContainerDir(containerDir(store, r.id));
}

const pause = (ms: number): Promise<unknown> => new Promise((res) => setTimeout(res, ms));

async function stopRecorded(store: Store, r: ContainerRecord, timeoutS: number): Promise<void> {
  if (r.status !== 'running' || !alive(r.pid)) return;
  const signal = (sig: string): void => {
    if (r.mode === 'oci') ociRuntimeQuietly(store, 'kill', r.id, sig.replace(/^SIG/, ''));
    else {
      try { process.kill(r.pid!, sig.startsWith('SIG') ? (sig as NodeJS.Signals) : (`SIG${sig}` as NodeJS.Signals)); } catch { /* gone */ }
    }
  };
  signal(timeoutS === 0 ? 'SIGKILL' : r.stopSignal || 'SIGTERM');
  const deadline = Date.now() + timeoutS * 1000;
  while (alive(r.pid) && Date.now() < deadline) await pause(50);
  if (alive(r.pid)) {
    signal('SIGKILL');
    if (r.mode === 'oci') {
      try { process.kill(r.pid!, 'SIGKILL'); } catch { /* gone */ }
    }
    for (let i = 0; i < 100 && alive(r.pid); i++) await pause(50);
  }
  // The supervisor outlives the container by its bookkeeping (and closes the -p forwarders): wait for it.
  const supervisor = readRecordIfThere(store, r.id)?.supervisor;
  if (supervisor !== undefined && supervisor !== process.pid) for (let i = 0; i < 100 && alive(supervisor); i++) await pause(50);
  // The supervisor records the exit status; a SIGKILLed embedded one cannot: say it here.
  const now = readRecordIfThere(store, r.id);
  if (now && now.status === 'running') {
    now.status = 'exited';
    now.exitCode ??= 137;
    now.finished = new Date().toISOString();
    writeRecord(store, now);
    if (now.rm) removeContainerDir(containerDir(store, r.id));
  }
}
