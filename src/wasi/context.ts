import { FdTable } from './fd-table.js';
import { GuestMemory } from './memory.js';
import type { IoBroker } from './io-broker.js';
import { FsPolicy } from './special-files.js';

/** A directory the guest may reach, and the name it sees it under. */
export interface Preopen {
  hostPath: string;
  guestPath: string;
  /** Every change through or under it is refused with ROFS, and its descriptors carry no write rights. */
  readOnly?: boolean;
  /**
   * Only mounted in the preopen whose guest path holds it, as a container's volume is a mount in
   * its root: the guest gets no descriptor of its own for it, so paths such as `/v/../x` resolve
   * from `/` exactly as in a container (a preopen of its own would bound `..` at `/v`).
   */
  mountOnly?: boolean;
}

/** Everything a WASI instance is given. Built by the executor; nothing here is global state. */
export interface WasiOptions {
  args: string[];
  /** `KEY=VALUE` strings, passed to the guest exactly as given (order kept). */
  env: string[];
  preopens: Preopen[];
  /**
   * Guest paths (absolute, as the guest would name them under a preopen) that do not exist as far
   * as the guest can tell: lookups give ENOENT, fd_readdir omits them. Used to hide the runtime
   * directory hyrun injects into Wasm containers.
   */
  hiddenPaths?: string[];
  /** Host fds used as the guest's 0, 1, 2. */
  stdio?: [number, number, number];
  /** Listening sockets to preopen after the directories (their broker handles). */
  listeners?: number[];
  /** Talks to the supervising thread for socket and stdin readiness; absent when there are no sockets. */
  broker?: IoBroker;
}

/** Per-instance state shared by the import areas (args-env, clock, fd, path, poll, sock, …). */
export class WasiContext {
  readonly fds = new FdTable();
  private mem: GuestMemory | null = null;
  /** Kernel filesystems and devices (special-files.ts); the guest's own stdio devices are allowed. */
  readonly policy: FsPolicy;

  constructor(readonly options: WasiOptions) {
    this.policy = new FsPolicy(options.stdio ?? [0, 1, 2]);
  }

  get memory(): GuestMemory {
    if (this.mem === null) throw new Error('WASI memory used before the instance was bound');
    return this.mem;
  }

  bindMemory(memory: WebAssembly.Memory): void {
    this.mem = new GuestMemory(memory);
  }
}
