// Where hyrun's own messages go: errors always on stderr, and also in the --log file (json lines as
// go-runc/containerd read them, or logrus-style text) so engines that only read the log see them.
import { appendFileSync } from 'node:fs';

export type LogFormat = 'text' | 'json';

/**
 * Who reads our stderr: a person at a terminal is told the message comes from hyrun; an engine
 * that captures it (conmon, when Podman is not configured for JSON logs) prints it after the
 * runtime's path itself ("OCI runtime error: /usr/local/bin/hyrun: MESSAGE"), so a "hyrun: " of
 * ours would appear twice.
 */
const stderrPrefix = (): string => (process.stderr.isTTY ? 'hyrun: ' : '');

export class Logger {
  constructor(readonly file: string | undefined, readonly format: LogFormat, readonly debugEnabled: boolean) {}

  error(msg: string): void {
    process.stderr.write(`${stderrPrefix()}${msg}\n`);
    this.write('error', msg);
  }

  warn(msg: string): void {
    process.stderr.write(`${stderrPrefix()}warning: ${msg}\n`);
    this.write('warning', msg);
  }

  debug(msg: string): void {
    if (!this.debugEnabled) return;
    // Without --log, debug goes to stderr (as runc does); with it, only to the file.
    if (!this.file) process.stderr.write(`hyrun: debug: ${msg}\n`);
    this.write('debug', msg);
  }

  private write(level: string, msg: string): void {
    if (!this.file) return;
    const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const line = this.format === 'json'
      ? JSON.stringify({ level, msg, time })
      : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
    try {
      appendFileSync(this.file, line + '\n');
    } catch (e) {
      process.stderr.write(`hyrun: cannot write the log file ${this.file}: ${(e as Error).message}\n`);
    }
  }
}
