// A `run IMAGE` container on disk: <store>/containers/<id>/ holds record.json (below), rootfs/ (the
// image's snapshot, overlaid or copied: rootfs.ts), config.json (the OCI bundle) and, when
// detached, its log. The record is the only state: every verb reads it, the supervisor updates it.
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageError } from '../image/errors.js';
import type { Store } from '../image/store.js';

/**
 * How the container runs:
 *   oci       through hyrun's own OCI runtime (`hyrun run --bundle`), when root and crun/runc are there;
 *   embedded  a Wasm image on the WASI sandbox alone, the rootfs preopened as `/` (nothing but hyrun needed).
 */
export type RunMode = 'oci' | 'embedded';

export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  imageDigest: string;
  created: string;
  command: string[];
  mode: RunMode;
  status: 'created' | 'running' | 'exited';
  pid?: number;
  exitCode?: number;
  finished?: string;
  rm: boolean;
  detached: boolean;
  stopSignal: string;
  /** OCI mode: `-p HOST:CONTAINER` with different ports, forwarded by the supervising process. */
  forwards?: PortMapping[];
  /** The supervising process (the foreground `hyrun run`, or `hyrun __supervise`). */
  supervisor?: number;
  /** Embedded mode: what the executor is given. */
  wasm?: { module: string; args: string[]; env: string[]; preopens: { hostPath: string; guestPath: string; readOnly?: boolean; mountOnly?: boolean }[]; memoryLimit?: number; tcpListen?: string[]; componentCache?: string; httpAddr?: string };
  interactive: boolean;
  /** The container has a terminal (`-t` in the foreground, stdin a terminal). */
  tty?: boolean;
}

/** `-p [IP:]HOST:CONTAINER` (TCP). */
export interface PortMapping { ip: string; host: number; container: number }

export const containersDir = (store: Store): string => join(store.root, 'containers');
export const containerDir = (store: Store, id: string): string => join(containersDir(store), id);

export function readRecord(store: Store, id: string): ContainerRecord {
  return JSON.parse(readFileSync(join(containerDir(store, id), 'record.json'), 'utf8')) as ContainerRecord;
}

/** undefined when the record is gone (removed meanwhile, e.g. by the supervisor of an `--rm` run). */
export function readRecordIfThere(store: Store, id: string): ContainerRecord | undefined {
  try {
    return readRecord(store, id);
  } catch {
    return undefined;
  }
}

/** Replaces the record by rename: a reader never sees half of one. */
export function writeRecord(store: Store, r: ContainerRecord): void {
  const file = join(containerDir(store, r.id), 'record.json');
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(r, null, 2));
  renameSync(tmp, file);
}

/** A live process (a zombie counts as gone: its exit is only waiting to be collected). */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every container, newest first; one recorded as running whose process is gone is shown as exited. */
export function allRecords(store: Store): ContainerRecord[] {
  if (!existsSync(containersDir(store))) return [];
  const out: ContainerRecord[] = [];
  for (const id of readdirSync(containersDir(store))) {
    if (id.startsWith('.')) continue;
    try {
      const r = readRecord(store, id);
      if (r.status === 'running' && !alive(r.pid)) r.status = 'exited';
      out.push(r);
    } catch {
      // being created or removed
    }
  }
  return out.sort((a, b) => (a.created < b.created ? 1 : -1));
}

/** A container by name, full ID or a unique ID prefix (3 hex digits at least). */
export function findContainer(store: Store, text: string): ContainerRecord {
  const all = allRecords(store);
  const hits = all.filter((r) => r.name === text || r.id === text);
  if (hits.length === 0 && /^[a-f0-9]{3,64}$/.test(text)) hits.push(...all.filter((r) => r.id.startsWith(text)));
  if (hits.length === 0) throw new ImageError(`no container ${text}; see 'hyrun ps -a'`);
  if (hits.length > 1) throw new ImageError(`${text} matches ${hits.length} containers; give more of the ID`);
  return hits[0];
}
