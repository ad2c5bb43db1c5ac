import type { Preopen } from '../wasi/context.js';

// How a Wasm container's executor (executor-main.ts) meets what src/handlers prepared for it.
/** Where the runtime directory appears inside Wasm containers (hidden from the guest). */
export const RUNTIME_MOUNT = '/.hyrun';
/** Environment variable carrying the executor spec (base64 JSON) into the container. */
export const SPEC_ENV = 'HYRUN_EXECUTOR_SPEC';

/**
 * What the Wasm engine is asked to do: "run this WASI context, return an exit code".
 * Everything else (CLI parsing, OCI bundles, containers) is plumbing outside the engine.
 */
export interface WasmRunSpec {
  /** Path of the .wasm or .wat module (or WASI 0.2 command component), as this process sees it. */
  module: string;
  /** The guest's argv, argv[0] included. */
  args: string[];
  /** `KEY=VALUE` strings, given to the guest exactly (the host's own environment is not inherited). */
  env: string[];
  preopens: Preopen[];
  /** Guest paths that must look absent (e.g. the runtime directory mounted into Wasm containers). */
  hiddenPaths?: string[];
  /** Cap on linear memory in bytes: memory.grow beyond it returns -1 to the guest. */
  memoryLimit?: number;
  /** `HOST:PORT` listening TCP sockets, preopened to the guest after the directories. */
  tcpListen?: string[];
  /** Where transpiled components are kept (component.ts); components cannot run without it. */
  componentCache?: string;
  /**
   * A component transpiled before this process started, outside its container (a container cannot
   * transpile: its runtime directory is read-only and holds no transpiler): the transpiled
   * directory as this process sees it, and the sha256 of the component it was made from.
   */
  transpiled?: TranspiledRef;
  /** HTTP components: the `HOST:PORT` to serve on (default DEFAULT_HTTP_ADDR). */
  httpAddr?: string;
  /**
   * The user granted networking (`hyrun run --allow-net`): a component's wasi:sockets may bind,
   * connect and look names up, and an HTTP component's outgoing-handler may send requests.
   */
  allowNet?: boolean;
  /**
   * The executor runs inside a container (set by the OCI handler and by the embedded executor of
   * `hyrun run IMAGE`): the container's network namespace is the boundary, so networking is allowed.
   */
  inContainer?: boolean;
  /** HTTP components: an instance serves request after request (default: a fresh one per request). */
  instanceReuse?: boolean;
  /** `hyrun serve`: the file must be an HTTP component. */
  serve?: boolean;
}

/** Whether a guest may use the network: granted on the host, or inside a container. */
export const networkAllowed = (spec: Pick<WasmRunSpec, 'allowNet' | 'inContainer'>): boolean => spec.allowNet === true || spec.inContainer === true;

/** Where a component's transpiled form is, and which component (sha256, hex) it was made from. */
export interface TranspiledRef {
  dir: string;
  digest: string;
}

/** Where a container's transpiled component is mounted (read-only, inside the hidden runtime mount). */
export const COMPONENT_MOUNT = `${RUNTIME_MOUNT}/component`;

/** Where an HTTP component is served when no address is given (as wasmtime serve and runwasi's shim). */
export const DEFAULT_HTTP_ADDR = '0.0.0.0:8080';

/**
 * A failure before the guest runs, with the Podman-style exit status the CLI should use:
 * 125 hyrun's own error, 126 the module cannot be run, 127 the module was not found.
 * `message` is one line saying what is wrong and what to do.
 */
export class LaunchError extends Error {
  constructor(message: string, readonly exitCode: 125 | 126 | 127) {
    super(message);
  }
}
