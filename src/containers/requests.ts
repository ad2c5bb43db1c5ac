// What each verb of the container engine is asked, one typed request per verb. src/cli parses the
// flags into these (and checks their syntax); the engine checks what needs the store or the host.
import type { RunSettings } from '../image/container-config.js';
import type { Platform } from '../image/media.js';
import type { Store } from '../image/store.js';
import type { PortMapping } from './records.js';

/** `hyrun run IMAGE [ARGS...]` (run.ts). */
export interface RunRequest extends Omit<RunSettings, 'terminal' | 'hostname'> {
  store: Store;
  /** IMAGE as the user wrote it. */
  image: string;
  name?: string;
  rm: boolean;
  detach: boolean;
  interactive: boolean;
  /** `-t`: the container gets a terminal when stdin is one. */
  tty: boolean;
  ports: PortMapping[];
  platform?: Platform;
  pull: 'missing' | 'always' | 'never';
  tlsVerify: boolean;
  keepSetid: boolean;
  /** Progress of a pull, line by line. */
  log?: (line: string) => void;
}

/** Detached: the ID once the supervisor is started. In the foreground: the container's exit status. */
export type RunOutcome = { id: string; detached: true } | { id: string; detached: false; exitCode: number };

/** `hyrun ps [-a]` (list.ts). */
export interface ListRequest { store: Store; all: boolean }

/** `hyrun logs [-f] CONTAINER` (logs.ts). */
export interface LogsRequest { store: Store; container: string; follow: boolean }

/** `hyrun stop [-t SECONDS] CONTAINER` (stop.ts). */
export interface StopRequest { store: Store; container: string; timeoutSeconds: number }

/** `hyrun rm [-f] CONTAINER` (stop.ts). */
export interface RemoveRequest { store: Store; container: string; force: boolean }

/** `hyrun __supervise STORE ID`: the process a detached run starts (supervise.ts). */
export interface SuperviseRequest { store: Store; id: string }
