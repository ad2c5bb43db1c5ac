import { ERRNO } from './constants.js';
import { WasiContext, type WasiOptions } from './context.js';
import { toErrno } from './errors.js';
import { argsEnvImports } from './args-env.js';
import { clockImports } from './clock.js';
import { randomImports } from './random.js';
import { procImports } from './proc.js';
import { fdImports } from './fd.js';
import { pathImports } from './path.js';
import { pollImports } from './poll.js';
import { sockImports } from './sock.js';
import { setupStdio } from './stdio.js';
import { setupPreopens } from './preopen.js';

type HostFunction = (...args: any[]) => number | void;
export type ImportArea = Record<string, HostFunction>;

/** Every function of wasi_snapshot_preview1, in the witx's order. The host must define each one. */
export const PREVIEW1_FUNCTIONS = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get', 'sock_accept',
  'sock_recv', 'sock_send', 'sock_shutdown',
] as const;

/**
 * The WASI preview1 host for one instance. Each area file contributes its functions; this class
 * only wires them up and converts thrown errors into errno results at the boundary.
 */
export class WasiHost {
  readonly context: WasiContext;
  readonly imports: Record<string, HostFunction>;

  constructor(options: WasiOptions) {
    this.context = new WasiContext(options);
    setupStdio(this.context);
    setupPreopens(this.context);
    const ctx = this.context;
    const areas: ImportArea = {
      ...argsEnvImports(ctx), ...clockImports(ctx), ...randomImports(ctx), ...procImports(ctx),
      ...fdImports(ctx), ...pathImports(ctx), ...pollImports(ctx), ...sockImports(ctx),
    };
    const imports: Record<string, HostFunction> = {};
    for (const name of PREVIEW1_FUNCTIONS) {
      const fn = areas[name];
      if (fn === undefined) throw new Error(`WASI host is missing ${name}`);
      imports[name] = guard(fn);
    }
    this.imports = imports;
  }

  /** The import object to instantiate a module with. */
  importObject(): WebAssembly.Imports {
    return { wasi_snapshot_preview1: this.imports };
  }

  /** Binds to the instance's exported memory; call after instantiation, before `_start`. */
  bind(instance: WebAssembly.Instance): void {
    const memory = instance.exports.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new Error('module does not export a memory named "memory"');
    this.context.bindMemory(memory);
  }

  /** Closes every descriptor the guest still holds. */
  dispose(): void {
    this.context.fds.closeAll();
  }
}

/** Converts exceptions from host code into errno results; ProcExit and real bugs propagate. */
function guard(fn: HostFunction): HostFunction {
  return (...args: any[]) => {
    try {
      const r = fn(...args);
      return r === undefined ? ERRNO.SUCCESS : r;
    } catch (error) {
      return toErrno(error);
    }
  };
}
