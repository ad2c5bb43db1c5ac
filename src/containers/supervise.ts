// The supervising process: runs a recorded container to its end, forwards its ports, records the
// exit status and removes the container when --rm. It is the foreground `hyrun run`, or, for a
// detached one, `hyrun __supervise STORE ID` (its output goes to the container's log).
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import type { Server } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Store } from '../image/store.js';
import { ociRuntimeArgs, ociRuntimeQuietly, onHyrunNode } from './oci-runtime.js';
import { forwardPorts, receiveListeners } from './ports.js';
import { containerDir, readRecord, writeRecord } from './records.js';
import type { SuperviseRequest } from './requests.js';
import { releaseRootfs, removeContainerDir } from './rootfs.js';

/** `__supervise`: a detached container, in the process `hyrun run -d` started. */
export async function superviseDetached(request: SuperviseRequest): Promise<number> {
  const listeners = await receiveListeners(readRecord(request.store, request.id).forwards ?? []);
  return supervise(request.store, request.id, false, listeners);
}

/**
 * Runs a recorded container to its end; records the exit status; removes it when --rm. An embedded
 * container runs in this process, which then exits with the guest's status (it never returns).
 */
export async function supervise(store: Store, id: string, foreground: boolean, listeners: Server[] = []): Promise<number> {
  const record = readRecord(store, id);
  const dir = containerDir(store, id);
  const stopForwarding = await forwardPorts(record.forwards ?? [], listeners);
  const finish = (code: number): number => {
    stopForwarding();
    const r = readRecord(store, id);
    r.status = 'exited';
    r.exitCode = code;
    r.finished = new Date().toISOString();
    writeRecord(store, r);
    if (r.mode === 'oci') releaseRootfs(dir);
    if (r.rm) {
      if (r.mode === 'oci') ociRuntimeQuietly(store, 'delete', '--force', id);
      removeContainerDir(dir);
    }
    return code;
  };
  if (record.mode === 'oci') {
    // With a terminal, the delegate itself relays between the container's pty and our terminal,
    // and needs that terminal on its stdin (tcgetattr) even without -i.
    const stdin = foreground && (record.interactive || record.tty === true) ? 'inherit' : 'ignore';
    const child = spawn(...onHyrunNode(ociRuntimeArgs(store, 'run', '--bundle', dir, id)), {
      stdio: [stdin, 'inherit', 'inherit'],
    });
    record.status = 'running';
    record.pid = child.pid;
    record.supervisor = process.pid;
    writeRecord(store, record);
    // Signals to a foreground run reach the container (the runtime's run forwards them).
    const forward = (sig: NodeJS.Signals): void => { child.kill(sig); };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, forward);
    const code = await new Promise<number>((res) => child.on('exit', (c, s) => res(c ?? 128 + (s ? osConstants.signals[s] : 9))));
    return finish(code);
  }
  // Embedded: the executor runs here; this process is the container.
  const spec = record.wasm!;
  record.status = 'running';
  record.pid = process.pid;
  writeRecord(store, record);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1'] as const) {
    process.on(sig, () => process.exit(finish(128 + osConstants.signals[sig]) & 0xff));
  }
  const { runWasm, LaunchError } = await import('../wasm/executor.js');
  const stdin = record.interactive && foreground ? 0 : openSync('/dev/null', 'r');
  let code: number;
  try {
    // On the worker thread: this process handles the stop signal itself (it records the status), and
    // a JS handler cannot run while the main thread is inside a busy guest.
    // inContainer: a container's guest may use the network (as in OCI mode, which shares the host's).
    code = await runWasm({ ...spec, hiddenPaths: [], inContainer: true }, { stdio: [stdin, 1, 2], thread: 'worker' });
  } catch (e) {
    if (!(e instanceof LaunchError)) throw e;
    // The container's own stderr (its log when detached), as the executor says it in a Wasm container.
    process.stderr.write(`hyrun: ${e.message}\n`);
    code = e.exitCode;
  }
  process.exit(finish(code) & 0xff);
}
