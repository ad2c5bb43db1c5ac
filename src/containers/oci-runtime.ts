// OCI mode reaches hyrun's own OCI runtime as a child process of the hyrun command itself, with a
// --root of its own under the store: the `run --bundle` process waits on the container, and the
// engine's other verbs (kill, delete) are the runtime's, unchanged.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Store } from '../image/store.js';
import { containersDir } from './records.js';

/** The entry this process was started from (dist/hyrun.cjs): how the engine starts hyrun again. */
export const hyrunEntry = (): string => process.argv[1];

/** node's arguments for one OCI verb on the store's containers. */
export const ociRuntimeArgs = (store: Store, ...args: string[]): string[] => [hyrunEntry(), '--root', join(containersDir(store), '.oci'), ...args];

/** One OCI verb (`kill`, `delete --force`), waited for, its output dropped: callers check the outcome themselves. */
export function ociRuntimeQuietly(store: Store, ...args: string[]): void {
  spawnSync(process.execPath, ociRuntimeArgs(store, ...args), { stdio: 'ignore' });
}
