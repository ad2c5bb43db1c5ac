// Drives a command on a real pseudo-terminal through pty_drive.py (python3's pty module): waits for
// a prompt, types a line, collects the terminal transcript and the exit status.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SpawnSyncOptions } from 'node:child_process';
import { run } from '../../helpers.js';
import { engineFiles, explain } from './tools.js';

export interface TtyResult {
  /** The transcript as text (invalid UTF-8 replaced). */
  output: string;
  /** Every byte the terminal received, exactly (a NUL stays a NUL). */
  bytes: Buffer;
  status: number | null;
  signal: number | null;
  sent: boolean;
  timedOut: boolean;
}

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** `expect` and `send` both empty: nothing is typed, the transcript runs until the command exits. */
export function driveTty(command: string[], expect: string, send: string, options: SpawnSyncOptions & { seconds?: number } = {}): TtyResult {
  const seconds = options.seconds ?? 60;
  const r = run(python, [join(engineFiles, 'pty_drive.py'), String(seconds), expect, send, '--', ...command], {
    ...options, timeout: (seconds + 30) * 1000,
  });
  if (r.status !== 0) throw new Error(`pty_drive.py failed: ${explain(r)}`);
  const parsed = JSON.parse(r.stdout) as Omit<TtyResult, 'bytes'> & { bytes: string };
  return { ...parsed, bytes: Buffer.from(parsed.bytes, 'base64') };
}
