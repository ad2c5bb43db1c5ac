// The contract between the OCI lifecycle (src/runtime, src/cli/oci) and the kinds of workload.
//
// Flow of `create`: the lifecycle reads and validates the user's config.json, asks detect.ts which
// handler applies (detection lives ONLY in detect.ts; handlers do not vote), creates hyrun's state
// dir <root>/<id>/, then calls handler.prepare(). The handler returns the bundle dir the delegate
// (crun/runc) is given: the user's own bundle untouched (Linux), or a private bundle it wrote under
// ctx.stateDir (Wasm: a config.json whose process is hyrun's executor, with the runtime dir bind
// mounted read-only). The user's bundle is NEVER modified. hyrun stores the result in hyrun.json and
// later calls release() after the delegate's `delete` (or when create fails half-way), then removes
// ctx.stateDir itself (so anything the handler put under stateDir needs no cleanup of its own).
//
// Module layout: src/handlers/wasm.ts must `export const wasmHandler: Handler` (name 'wasm');
// src/handlers/index.ts imports it and is the only place handlers are looked up.
import type { OciProcess, OciSpec } from '../oci/spec.js';

export type HandlerName = 'linux' | 'wasm';

/** The OCI runtime hyrun delegates to. */
export interface DelegateInfo {
  /** Absolute path of the binary. */
  path: string;
  /** Which flavour it is: decides flag translation and config quirks (old crun refuses new ociVersions: ociVersionFor). */
  kind: 'crun' | 'runc' | 'other';
  /** Version string as the delegate reports it (first line of --version), for quirks. */
  version: string;
  /**
   * crun's build features (the `+SYSTEMD +SECCOMP …` line of --version), '' when it prints none
   * (runc). A crun built with `+WASM:…` acts on the Wasm annotations itself.
   */
  features?: string;
}

/**
 * Whether a crun was built with its own Wasm handler (`+WASM:wasmedge`, …), which acts on the Wasm
 * annotations; true when its features are unknown.
 */
export const crunHasWasmHandler = (d: DelegateInfo): boolean => d.kind === 'crun' && /(^|\s)\+WASM/.test(d.features ?? '+WASM');

export interface PrepareContext {
  /** Container id (already validated: [A-Za-z0-9][A-Za-z0-9_.+-]*). */
  id: string;
  /** The user's bundle, absolute. Read it, never write it. */
  bundle: string;
  /** The user's config.json, parsed and validated (root.path exists). Treat as read-only: clone before changing. */
  config: OciSpec;
  /** The rootfs on the host, absolute (bundle + root.path resolved). */
  rootfs: string;
  /** hyrun's per-container dir <root>/<id>, exists and is empty apart from hyrun.json. Private files go here. */
  stateDir: string;
  delegate: DelegateInfo;
}

export interface PreparedBundle {
  /** Bundle dir to pass to `delegate create --bundle`: ctx.bundle, or a dir under ctx.stateDir. */
  bundle: string;
  /** Optional extra data the handler wants back in release()/prepareExec() (stored in hyrun.json, must be JSON). */
  data?: Record<string, unknown>;
}

/** What hyrun remembers about a container (<root>/<id>/hyrun.json); handed back to the handler. */
export interface ContainerRecord {
  id: string;
  /** Absolute path of the delegate binary used at create: every later command uses the same one. */
  delegate: string;
  delegateKind: DelegateInfo['kind'];
  handler: HandlerName;
  /** The user's bundle (absolute): what `state` reports. */
  bundle: string;
  /** The bundle given to the delegate when it differs from `bundle` (a private copy under stateDir). */
  privateBundle?: string;
  /** Handler data from PreparedBundle.data. */
  data?: Record<string, unknown>;
  /** The user's annotations, kept when the delegate runs a private config that drops some of them. */
  annotations?: Record<string, string>;
  /** RFC 3339, when hyrun created it. */
  created: string;
}

/** What an `update` changed, as far as handlers care. */
export interface ResourceUpdate {
  /** The new memory limit in bytes (-1: unlimited). */
  memoryLimit?: number;
}

export interface ExecContext {
  record: ContainerRecord;
  stateDir: string;
  /** The process the engine asked for (from --process or built from the command line). */
  process: OciProcess;
  delegate: DelegateInfo;
}

export interface Handler {
  name: HandlerName;
  /** Produce the bundle for the delegate. Throw HandlerError for bad input (message: one line, what is wrong and what to do). */
  prepare(ctx: PrepareContext): Promise<PreparedBundle>;
  /**
   * `exec` into a container of this kind: return the process to give the delegate (e.g. wrap the
   * command in the executor). Absent → the process is passed through unchanged.
   */
  prepareExec?(ctx: ExecContext): Promise<OciProcess>;
  /**
   * After the delegate applied `update` to a running container: what the handler could not apply
   * to the running workload (one line for the user), and updated handler data for later processes.
   */
  resourcesUpdated?(record: ContainerRecord, update: ResourceUpdate): { warning?: string; data?: Record<string, unknown> };
  /**
   * When all release() does is remove files: those files (absolute paths), known once prepare()
   * returned. bin/hyrun then deletes such a container without node (it removes them itself).
   */
  releaseFiles?(record: ContainerRecord, stateDir: string): string[];
  /** Undo anything prepare() did outside stateDir. Called after the delegate's delete, and when create fails. Must be idempotent. */
  release?(record: ContainerRecord, stateDir: string): Promise<void>;
}

/** A refusal the user can fix; hyrun prints `message` as one line and exits with `exitCode` (default 1). */
export class HandlerError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}
