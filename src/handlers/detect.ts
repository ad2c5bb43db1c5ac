// The ONE place that decides whether a container is Linux or Wasm (docs/detection.md).
// Pure apart from reading the rootfs for `*-smart` modes; never throws for a missing entrypoint
// (that is the delegate's or the executor's error to report, with its own wording).
import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { ANNOTATION_CRI_TYPE, ANNOTATION_CRIO_TYPE, ANNOTATION_HANDLER, ANNOTATION_VARIANT } from '../oci/annotations.js';
import type { OciSpec } from '../oci/spec.js';
import { hasWasmMagic, readFileHead } from '../wasm/binary.js';
import type { HandlerName } from './types.js';

/** Binary name that makes every (non-sandbox) container Wasm. */
export const WASM_BINARY_NAME = 'hyrun-wasm';

export interface DetectInput {
  config: OciSpec;
  /** Absolute host path of the container's rootfs (for the smart modes). */
  rootfs: string;
  /** basename of the program hyrun was invoked as (bin/hyrun's $0). */
  invokedAs: string;
}

export interface Detection {
  handler: HandlerName;
  /** Why, in words (for --debug logs and tests). */
  reason: string;
}

export function detect(input: DetectInput): Detection {
  const a = input.config.annotations ?? {};
  if (a[ANNOTATION_CRI_TYPE] === 'sandbox' || a[ANNOTATION_CRIO_TYPE] === 'sandbox') {
    return { handler: 'linux', reason: 'pod sandbox (pause) container' };
  }
  if (input.invokedAs === WASM_BINARY_NAME) return { handler: 'wasm', reason: `invoked as ${WASM_BINARY_NAME}` };

  // run.oci.handler wins over the image variant (crun's order). Any other value of run.oci.handler
  // (e.g. krun) is left to the delegate, which sees the user's annotations unchanged.
  let mode: 'wasm' | 'smart' | undefined;
  let source = '';
  const h = a[ANNOTATION_HANDLER];
  if (h === 'wasm' || h === 'wasm-smart') {
    mode = h === 'wasm' ? 'wasm' : 'smart';
    source = `${ANNOTATION_HANDLER}=${h}`;
  } else {
    const v = a[ANNOTATION_VARIANT];
    if (v === 'compat' || v === 'compat-smart') {
      mode = v === 'compat' ? 'wasm' : 'smart';
      source = `${ANNOTATION_VARIANT}=${v}`;
    }
  }
  if (mode === 'wasm') return { handler: 'wasm', reason: source };
  if (mode === 'smart') {
    const why = smartIsWasm(input.config, input.rootfs);
    return why ? { handler: 'wasm', reason: `${source}: ${why}` } : { handler: 'linux', reason: `${source}: entrypoint is not Wasm` };
  }
  return { handler: 'linux', reason: 'no Wasm annotation' };
}

const hasWasmSuffix = (p: string): boolean => /\.(wasm|wat)$/i.test(p);

/** For the smart modes: a reason string when process.args[0] is a Wasm module, else undefined. */
export function smartIsWasm(config: OciSpec, rootfs: string): string | undefined {
  const arg0 = config.process?.args?.[0];
  if (!arg0) return undefined;
  if (hasWasmSuffix(arg0)) return `${arg0} ends in .wasm/.wat`;
  const found = resolveEntrypoint(config, rootfs);
  if (!found) return undefined;
  if (hasWasmSuffix(found.guestPath)) return `${arg0} resolves to ${found.guestPath}`;
  if (startsWithMagic(found.hostPath)) return `${found.guestPath} starts with the Wasm magic`;
  return undefined;
}

/**
 * Find process.args[0] the way the container would: absolute as is; a bare name through PATH (from
 * process.env), then relative to process.cwd; a name with a slash relative to process.cwd.
 * Only regular files count. Returns the in-container path (symlinks resolved) and the host path.
 */
export function resolveEntrypoint(config: OciSpec, rootfs: string): { guestPath: string; hostPath: string } | undefined {
  const arg0 = config.process?.args?.[0];
  if (!arg0) return undefined;
  const cwd = config.process?.cwd && config.process.cwd.startsWith('/') ? config.process.cwd : '/';
  const candidates: string[] = [];
  if (arg0.startsWith('/')) candidates.push(arg0);
  else {
    if (!arg0.includes('/')) {
      const pathVar = (config.process?.env ?? []).find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
      for (const dir of pathVar.split(':')) if (dir) candidates.push(posix.join(dir.startsWith('/') ? dir : posix.join(cwd, dir), arg0));
    }
    candidates.push(posix.join(cwd, arg0));
  }
  for (const c of candidates) {
    const guestPath = resolveInRoot(rootfs, c);
    if (guestPath === undefined) continue;
    const hostPath = posix.join(rootfs, guestPath);
    try {
      if (lstatSync(hostPath).isFile()) return { guestPath, hostPath };
    } catch {
      // not there: next candidate
    }
  }
  return undefined;
}

/**
 * Resolve `path` as if `rootfs` were `/`: every symlink (absolute or relative) is followed inside
 * the rootfs and `..` stops at its top, so the result never names anything outside it. Returns the
 * in-rootfs absolute path, or undefined when a component is missing or there are too many links.
 */
export function resolveInRoot(rootfs: string, path: string): string | undefined {
  let pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const guest = '/' + [...done, c].join('/');
    let st;
    try {
      st = lstatSync(posix.join(rootfs, guest));
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      if (++links > 40) return undefined;
      const target = readlinkSync(posix.join(rootfs, guest));
      const parts = target.split('/').filter((p) => p !== '' && p !== '.');
      if (target.startsWith('/')) done.length = 0;
      pending = [...parts, ...pending];
      continue;
    }
    done.push(c);
  }
  return '/' + done.join('/');
}

function startsWithMagic(hostPath: string): boolean {
  const head = readFileHead(hostPath, 4);
  return head !== undefined && hasWasmMagic(head);
}
