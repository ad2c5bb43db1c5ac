import { ERRNO } from './constants.js';
import { WasiContext, type WasiOptions } from './context.js';
import { ProcExit, toErrno } from './errors.js';
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

/**
 * Every function of wasi_snapshot_preview1, in the witx's order, with its number of parameters in
 * the wasm ABI (the witx's: strings and lists are pointer + length, results come back through
 * pointers). The host must define each one.
 */
export const PREVIEW1_ARITY = {
  args_get: 2, args_sizes_get: 2, environ_get: 2, environ_sizes_get: 2, clock_res_get: 2, clock_time_get: 3,
  fd_advise: 4, fd_allocate: 3, fd_close: 1, fd_datasync: 1, fd_fdstat_get: 2, fd_fdstat_set_flags: 2,
  fd_fdstat_set_rights: 3, fd_filestat_get: 2, fd_filestat_set_size: 2, fd_filestat_set_times: 4, fd_pread: 5,
  fd_prestat_get: 2, fd_prestat_dir_name: 3, fd_pwrite: 5, fd_read: 4, fd_readdir: 5, fd_renumber: 2, fd_seek: 4,
  fd_sync: 1, fd_tell: 2, fd_write: 4, path_create_directory: 3, path_filestat_get: 5, path_filestat_set_times: 7,
  path_link: 7, path_open: 9, path_readlink: 6, path_remove_directory: 3, path_rename: 6, path_symlink: 5,
  path_unlink_file: 3, poll_oneoff: 4, proc_exit: 1, proc_raise: 1, sched_yield: 0, random_get: 2, sock_accept: 3,
  sock_recv: 6, sock_send: 5, sock_shutdown: 2,
} as const;

export const PREVIEW1_FUNCTIONS = Object.keys(PREVIEW1_ARITY) as (keyof typeof PREVIEW1_ARITY)[];

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
      imports[name] = guard(fn, PREVIEW1_ARITY[name]);
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

  /**
   * Runs the command's `_start` and returns its exit status: 0 when it returns, n after
   * proc_exit(n). Traps and host failures propagate to the caller.
   */
  static start(instance: WebAssembly.Instance): number {
    try {
      (instance.exports._start as () => void)();
      return 0;
    } catch (e) {
      if (e instanceof ProcExit) return e.code;
      throw e;
    }
  }

  /** Closes every descriptor the guest still holds. */
  dispose(): void {
    this.context.fds.closeAll();
  }
}

/**
 * Converts exceptions from host code into errno results; ProcExit and real bugs propagate.
 * The wrapper declares exactly the wasm signature's parameters: V8 calls an import whose declared
 * arity matches through its direct wrapper (a mismatch goes through an arguments adaptor), and no
 * rest array is built on every call.
 */
function guard(fn: HostFunction, arity: number): HostFunction {
  const ok = (r: number | void): number => (r === undefined ? ERRNO.SUCCESS : r);
  type A = any;
  switch (arity) {
    case 0: return () => { try { return ok(fn()); } catch (e) { return toErrno(e); } };
    case 1: return (a: A) => { try { return ok(fn(a)); } catch (e) { return toErrno(e); } };
    case 2: return (a: A, b: A) => { try { return ok(fn(a, b)); } catch (e) { return toErrno(e); } };
    case 3: return (a: A, b: A, c: A) => { try { return ok(fn(a, b, c)); } catch (e) { return toErrno(e); } };
    case 4: return (a: A, b: A, c: A, d: A) => { try { return ok(fn(a, b, c, d)); } catch (e) { return toErrno(e); } };
    case 5: return (a: A, b: A, c: A, d: A, e: A) => { try { return ok(fn(a, b, c, d, e)); } catch (x) { return toErrno(x); } };
    case 6: return (a: A, b: A, c: A, d: A, e: A, f: A) => { try { return ok(fn(a, b, c, d, e, f)); } catch (x) { return toErrno(x); } };
    case 7: return (a: A, b: A, c: A, d: A, e: A, f: A, g: A) => { try { return ok(fn(a, b, c, d, e, f, g)); } catch (x) { return toErrno(x); } };
    default: /* 9: path_open */ return (a: A, b: A, c: A, d: A, e: A, f: A, g: A, h: A, i: A) => { try { return ok(fn(a, b, c, d, e, f, g, h, i)); } catch (x) { return toErrno(x); } };
  }
}
