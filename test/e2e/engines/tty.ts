// Drives a command on a real pseudo-terminal through pty_drive.py (python3's pty module): waits for
// a prompt, types a line, collects the terminal transcript and the exit status.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SpawnSyncOptions } from 'node:child_process';
import { run } from '../../helpers.js';
import { engineFiles, explain } from './tools.js';

export interface TtyResult { output: string; status: number | null; signal: number | null; sent: boolean; timedOut: boolean }

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export function driveTty(command: string[], expect: string, send: string, options: SpawnSyncOptions & { seconds?: number } = {}): TtyResult {
  const seconds = options.seconds ?? 60;
  const r = run(python, [join(engineFiles, 'pty_drive.py'), String(seconds), expect, send, '--', ...command], {
    ...options, timeout: (seconds + 30) * 1000,
  });
  if (r.status !== 0) throw new Error(`pty_drive.py failed: ${explain(r)}`);
  return JSON.parse(r.stdout) as TtyResult;
}
