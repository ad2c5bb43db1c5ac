// wasi:cli — arguments, environment, exit, the standard streams and their terminals. The streams
// are preview1's StdioDescriptors (stdio.ts): the same non-blocking reopen, the same complete writes.
import { createRequire } from 'node:module';
import type { WasiContext } from '../context.js';
import { ProcExit } from '../errors.js';
import { native } from '../native.js';
import type { Descriptor as Inner } from '../descriptor.js';
import { InputStream, OutputStream } from './streams.js';

/** isatty(3) through the addon; node:tty (which loads node:net, ~10 ms of start-up) only without it. */
function isTerminal(fd: number): boolean {
  const n = native();
  if (n?.isatty) return n.isatty(fd) === 1;
  return (createRequire(import.meta.url)('node:tty') as typeof import('node:tty')).isatty(fd);
}

export class TerminalInput { [Symbol.dispose](): void {} }
export class TerminalOutput { [Symbol.dispose](): void {} }

const stdioSource = (d: Inner): ConstructorParameters<typeof InputStream>[0] => ({
  read: (into) => d.read([into]),
  ready: () => d.pollReadable().ready,
});
const stdioSink = (d: Inner): ConstructorParameters<typeof OutputStream>[0] => ({
  write: (bytes) => { d.write([bytes]); },
});

export function cliImports(ctx: WasiContext): Record<string, Record<string, unknown>> {
  const { args, env } = ctx.options;
  const [inFd, outFd, errFd] = ctx.options.stdio ?? [0, 1, 2];
  // Only what the user gave (--env), as for modules: the host's environment is not inherited.
  const environment = env.map((kv): [string, string] => {
    const eq = kv.indexOf('=');
    return eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
  });
  const terminal = <T>(fd: number, make: () => T): T | undefined => (isTerminal(fd) ? make() : undefined);
  return {
    'wasi:cli/environment': {
      getEnvironment: () => environment,
      getArguments: () => args,
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      // result<_, _>: an error carries no code, so it is 1, as wasmtime's CLI answers it.
      exit: (status: { tag: 'ok' | 'err' }) => { throw new ProcExit(status.tag === 'ok' ? 0 : 1); },
      exitWithCode: (code: number) => { throw new ProcExit(code & 0xff); },
    },
    // Standard streams are fds 0-2 of the context: the guest cannot close them (WASI 0.2 has no fd numbers).
    'wasi:cli/stdin': { getStdin: () => new InputStream(stdioSource(ctx.fds.get(0))) },
    'wasi:cli/stdout': { getStdout: () => new OutputStream(stdioSink(ctx.fds.get(1))) },
    'wasi:cli/stderr': { getStderr: () => new OutputStream(stdioSink(ctx.fds.get(2))) },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => terminal(inFd, () => new TerminalInput()) },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => terminal(outFd, () => new TerminalOutput()) },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => terminal(errFd, () => new TerminalOutput()) },
  };
}
