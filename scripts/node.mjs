// The node hyrun's scripts (build, tests, bench) run on: the pinned Node.js of package.json
// (the npm package node-linux-<arch>), or $HYRUN_NODE. The system's node only runs npm.
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;

/** The pinned node's path, or undefined when it is not installed (npm ci installs it). */
export function pinnedNode() {
  if (process.env.HYRUN_NODE) return process.env.HYRUN_NODE;
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  const path = arch && join(root, 'node_modules', `node-linux-${arch}`, 'bin', 'node');
  return path && existsSync(path) ? path : undefined;
}

/**
 * Re-runs the calling script on the pinned node when another node started it, and exits with its
 * status; returns when this already is the pinned node.
 */
export function ensurePinnedNode() {
  const node = pinnedNode();
  if (node === undefined) {
    console.error(`${process.argv[1]}: the pinned Node.js is not installed (node_modules/node-linux-${process.arch}): run \`npm ci\``);
    process.exit(1);
  }
  if (realpathSync(node) === realpathSync(process.execPath)) return;
  const r = spawnSync(node, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
