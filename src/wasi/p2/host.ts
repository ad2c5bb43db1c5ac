// The WASI 0.2 host for one command component: what the component glue (jco-transpile, with its
// WASI shim off) imports, interface by interface (unversioned names, as the glue asks for them).
// It sits on a preview1 WasiContext: the same stdio descriptors, the same preopens and sandbox
// roots, the same policy, so a component and a module given the same options see the same world.
import { WasiContext, type WasiOptions } from '../context.js';
import { setupPreopens } from '../preopen.js';
import { setupStdio } from '../stdio.js';
import { cliImports } from './cli.js';
import { clockAndRandomImports } from './clocks.js';
import { IoError } from './errors.js';
import type { IoBroker } from '../io-broker.js';
import { nameLookupImports } from './name-lookup.js';
import { NetAccess, socketImports } from './sockets.js';
import { closeOpened, Descriptor, DirectoryEntryStream, filesystemErrorCode, getDirectories } from './filesystem.js';
import { InputStream, OutputStream, Pollable, poll } from './streams.js';

export type ComponentImports = Record<string, Record<string, unknown>>;

/** The world a command component may import. */
export const P2_WORLD = 'wasi:cli/command';

export class P2Host {
  readonly context: WasiContext;
  private readonly imports: ComponentImports;

  /** `net`: the broker to the net thread when the instance may use the network (sockets.ts); without it every socket call is denied. */
  constructor(options: WasiOptions, net?: IoBroker) {
    const ctx = (this.context = new WasiContext(options));
    const access = new NetAccess(net);
    this.imports = {
      ...cliImports(ctx),
      ...clockAndRandomImports(),
      'wasi:io/error': { Error: IoError },
      'wasi:io/poll': { Pollable, poll },
      'wasi:io/streams': { InputStream, OutputStream },
      'wasi:filesystem/types': { Descriptor, DirectoryEntryStream, filesystemErrorCode },
      'wasi:filesystem/preopens': { getDirectories: () => getDirectories(ctx, (d) => new Descriptor(d, ctx)) },
      ...socketImports(access),
      ...nameLookupImports(),
    };
  }

  importObject(): ComponentImports { return this.imports; }

  /** Opens the standard streams and the preopens: after the launch checks, before the guest runs. */
  start(): void {
    setupStdio(this.context);
    setupPreopens(this.context);
  }

  /** Closes what the guest opened and still holds, the preopens and the standard streams' reopens. */
  dispose(): void {
    closeOpened(this.context);
    this.context.fds.closeAll();
  }
}
