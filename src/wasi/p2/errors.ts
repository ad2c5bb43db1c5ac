// WASI 0.2 errors. The component glue signals a `result`'s error by the payload being thrown (a
// string such as 'no-entry', or `{ tag: 'closed' }` for streams); anything else thrown traps.
// The host areas reuse preview1's code, which throws WasiError(errno) or lets a node error with a
// `code` escape: `toErrorCode` maps both to wasi:filesystem's `error-code` names.
import { ERRNO } from '../constants.js';
import { toErrno } from '../errors.js';

const CODE_OF_ERRNO = new Map<number, string>([
  [ERRNO.ACCES, 'access'], [ERRNO.AGAIN, 'would-block'], [ERRNO.ALREADY, 'already'], [ERRNO.BADF, 'bad-descriptor'],
  [ERRNO.BUSY, 'busy'], [ERRNO.DEADLK, 'deadlock'], [ERRNO.DQUOT, 'quota'], [ERRNO.EXIST, 'exist'],
  [ERRNO.FBIG, 'file-too-large'], [ERRNO.ILSEQ, 'illegal-byte-sequence'], [ERRNO.INPROGRESS, 'in-progress'],
  [ERRNO.INTR, 'interrupted'], [ERRNO.INVAL, 'invalid'], [ERRNO.IO, 'io'], [ERRNO.ISDIR, 'is-directory'],
  [ERRNO.LOOP, 'loop'], [ERRNO.MLINK, 'too-many-links'], [ERRNO.MSGSIZE, 'message-size'],
  [ERRNO.NAMETOOLONG, 'name-too-long'], [ERRNO.NODEV, 'no-device'], [ERRNO.NOENT, 'no-entry'], [ERRNO.NOLCK, 'no-lock'],
  [ERRNO.NOMEM, 'insufficient-memory'], [ERRNO.NOSPC, 'insufficient-space'], [ERRNO.NOTDIR, 'not-directory'],
  [ERRNO.NOTEMPTY, 'not-empty'], [ERRNO.NOTRECOVERABLE, 'not-recoverable'], [ERRNO.NOTSUP, 'unsupported'],
  [ERRNO.NOSYS, 'unsupported'], [ERRNO.NOTTY, 'no-tty'], [ERRNO.NXIO, 'no-such-device'], [ERRNO.OVERFLOW, 'overflow'],
  // Leaving the sandbox: a capability the descriptor does not carry, as wasmtime answers it.
  [ERRNO.PERM, 'not-permitted'], [ERRNO.NOTCAPABLE, 'not-permitted'], [ERRNO.PIPE, 'pipe'], [ERRNO.ROFS, 'read-only'],
  [ERRNO.SPIPE, 'invalid-seek'], [ERRNO.TXTBSY, 'text-file-busy'], [ERRNO.XDEV, 'cross-device'],
]);

/** The wasi:filesystem error-code for what host code threw; rethrows what is not an error code (bugs, exits, traps). */
export function toErrorCode(e: unknown): string {
  return CODE_OF_ERRNO.get(toErrno(e)) ?? 'io';
}

/** Runs `op`, turning host errors into the thrown error-code the glue expects for `result<_, error-code>`. */
export function fsResult<T>(op: () => T): T {
  try {
    return op();
  } catch (e) {
    throw toErrorCode(e);
  }
}

/** wasi:io/error's `error` resource: what a stream's last-operation-failed carries. */
export class IoError {
  constructor(readonly code: string, private readonly text: string) {}
  toDebugString(): string { return this.text; }
}

/** A stream's error payload for what host code threw: `closed` for a broken pipe, else last-operation-failed. */
export function streamError(e: unknown): { tag: 'closed' } | { tag: 'last-operation-failed'; val: IoError } {
  const code = toErrorCode(e);
  if (code === 'pipe') return { tag: 'closed' };
  return { tag: 'last-operation-failed', val: new IoError(code, (e as Error)?.message ?? code) };
}
