// Bad input is reported as ONE line on stderr plus a Podman-style exit status (125: hyrun's own
// error, 126: the file cannot be run, 127: the file was not found). Parsers throw UsageError; only
// the entry point prints and exits, so the parsers stay testable as plain functions.

export class UsageError extends Error {
  constructor(message: string, readonly exitCode: 125 | 126 | 127 = 125) {
    super(message);
  }
}

/** Prints `hyrun: MESSAGE` (first line only, so a stray multi-line message cannot break the rule). */
export function printError(message: string): void {
  const line = message.split('\n', 1)[0].replace(/^hyrun:\s*/, '');
  process.stderr.write(`hyrun: ${line}\n`);
}
