// OCI mode reaches hyrun's own OCI runtime as a child process of the hyrun command itself, with a
// --root of its own under the store: the `run --bundle` process waits on the container, and the
// engine's other verbs (kill, delete) are the runtime's, unchanged.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Store } from '../image/store.js';
import { nodeCommand } from '../handlers/self-node.js';
import { containersDir } from './records.js';

/**
 * The program and arguments that run `args` on the node this hyrun runs on: through its loader
 * when it carries one, with hyrun's V8 flags (handlers/self-node.ts), never a node from PATH.
 */
export function onHyrunNode(args: string[]): [string, string[]] {
  const [node, ...start] = nodeCommand();
  return [node!, [...start, ...args]];
}

/** The entry this process was started from (dist/hyrun.cjs): how the engine starts hyrun again. */
export const hyrunEntry = (): string => process.argv[1];

/** node's arguments for one OCI verb on the store's containers. */
export const ociRuntimeArgs = (store: Store, ...args: string[]): string[] => [hyrunEntry(), '--root', join(containersDir(store), '.oci'), ...args];

/** One OCI verb (`kill`, `delete --force`), waited for, its output dropped: callers check the outcome themselves. */
export function ociRuntimeQuietly(store: Store, ...args: string[]): void {
  spawnSync(...onHyrunNode(ociRuntimeArgs(store, ...args)), { stdio: 'ignore' });
}
