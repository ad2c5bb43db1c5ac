// `hyrun help [COMMAND]` (also what `hyrun COMMAND --help` prints). Summaries live here; the flag
// lists of the OCI commands come from the OCI parser's own table, so help cannot drift from it.
import { COMMAND_FLAGS, GLOBAL_FLAGS, type FlagSpec } from './oci/parse.js';

export interface CommandHelp {
  usage: string;
  summary: string;
  details?: string;
}

const RUN_DETAILS = `
Wasm file mode:
  hyrun run [OPTIONS] [--] FILE.wasm|FILE.wat [ARGS...]

  Runs one WASI preview1 module. Everything after FILE goes to the guest untouched, even
  arguments that look like options; the guest's argv[0] is FILE as given. The exit status is
  the guest's; 125 means hyrun's own error (bad options), 126 the file cannot be run (not Wasm),
  127 the file was not found.

  --env KEY=VALUE        set a guest environment variable (repeatable). The guest sees ONLY
                         these: hyrun's own environment is not inherited.
  --dir HOST[::GUEST]    preopen directory HOST (repeatable): as HOST itself, or under the
                         guest path GUEST (e.g. --dir /tmp/work::. or --dir ./data::/data)
  --memory SIZE          cap the linear memory: bytes or 64KiB, 16MiB, 1GiB, 1G (binary units);
                         memory.grow beyond it fails in the guest
  --tcplisten HOST:PORT  preopen a listening TCP socket after the directories (repeatable)
  --                     end of options: the next argument is FILE even if it starts with '-'

OCI mode (runc-compatible):
  hyrun [GLOBAL OPTIONS] run [--bundle DIR] [--detach] [--console-socket PATH] [--pid-file PATH] ID

  Creates and starts container ID from the bundle DIR (default: the current directory).

How hyrun tells them apart, first rule that applies:
  1. global options (--root, --log, ...) before 'run', or an OCI-only option (--bundle/-b,
     --detach/-d, --console-socket, --pid-file, --keep, --no-pivot, --no-new-keyring,
     --no-subreaper, --preserve-fds) before the first argument: OCI mode;
  2. a Wasm-only option (--env, --dir, --memory, --tcplisten) before the first argument: Wasm mode;
  3. the first argument ends in .wasm or .wat, or names an existing file starting with the
     Wasm magic bytes (\\0asm): Wasm mode;
  4. config.json exists in the current directory: OCI mode (the argument is the container ID);
  5. otherwise: Wasm mode.

Examples:
  hyrun run examples/hello.wat
  hyrun run --dir /tmp/work::. --env GREETING=hi app.wasm --verbose input.txt
  hyrun run --bundle /containers/web web1
`;

export const COMMANDS: Record<string, CommandHelp> = {
  run: { usage: 'hyrun run [OPTIONS] FILE.wasm|FILE.wat [ARGS...]  |  hyrun run [--bundle DIR] ID', summary: 'run a .wasm/.wat file, or create and start an OCI container', details: RUN_DETAILS },
  create: { usage: 'hyrun create [--bundle DIR] [--console-socket PATH] [--pid-file PATH] ID', summary: 'create a container from an OCI bundle, without starting its process' },
  start: { usage: 'hyrun start ID', summary: "start the user process of a created container" },
  state: { usage: 'hyrun state ID', summary: 'print the state of a container as JSON' },
  kill: { usage: 'hyrun kill [--all] ID [SIGNAL]', summary: "send a signal (default SIGTERM) to a container's init process" },
  delete: { usage: 'hyrun delete [--force] ID', summary: 'delete a stopped container and the resources it holds' },
  exec: { usage: 'hyrun exec [--process FILE] [--detach] ID [COMMAND [ARGS...]]', summary: 'run a new process inside a running container' },
  ps: { usage: 'hyrun ps [--format table|json] ID', summary: 'list the processes running in a container' },
  pause: { usage: 'hyrun pause ID', summary: 'suspend every process in a container' },
  resume: { usage: 'hyrun resume ID', summary: 'resume a paused container' },
  update: { usage: 'hyrun update [--resources FILE] [--memory N] [--cpu-quota N] ... ID', summary: "change a running container's resource limits" },
  list: { usage: 'hyrun list [--format table|json] [--quiet]', summary: 'list the containers under --root' },
  spec: { usage: 'hyrun spec [--bundle DIR] [--rootless]', summary: 'write a starter config.json into the bundle directory' },
  features: { usage: 'hyrun features', summary: 'print the features this runtime supports, as JSON' },
  install: { usage: 'hyrun install containerd|crio|podman [--config PATH] [--name hyrun] [--prefix /usr/local] [--dry-run] [--uninstall] [--restart]', summary: 'install hyrun under a prefix and configure an engine to use it (docs/kubernetes.md)', details: `
  --config PATH     the engine's main config (default /etc/containerd/config.toml,
                    /etc/crio/crio.conf, /etc/containers/containers.conf)
  --name NAME       the runtime name (RuntimeClass handler), default hyrun
  --prefix DIR      where hyrun's own copy goes (DIR/lib/hyrun, DIR/bin/hyrun), default /usr/local
  --dry-run         print the unified diff of every file it would write; change nothing
  --uninstall       restore every file it changed byte for byte, remove what it added
  --restart         restart the engine through systemd (else say what to run)
  --host-root DIR   the node's root is mounted at DIR (the installer DaemonSet)
` },
  doctor: { usage: 'hyrun doctor [--format json]', summary: 'check this node: delegate, cgroups, kernel, the installed copy, engine configs', details: `
  --format json     one JSON document instead of one line per check
  --prefix DIR      the install prefix to check (default /usr/local)
  --name NAME       the runtime name to look for (default hyrun)
  --containerd-config F, --crio-config F, --podman-config F   engine configs to check
Exit status 1 when something blocks running containers.
` },
  help: { usage: 'hyrun help [COMMAND]', summary: 'show help for hyrun or for one command' },
};

/** The runc-compatible commands the OCI layer handles (everything but help and Wasm-file run). */
export const OCI_COMMANDS = Object.keys(COMMANDS).filter((c) => c !== 'help' && c !== 'install' && c !== 'doctor');

export function generalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, h]) => `  ${name.padEnd(width)}  ${h.summary}`);
  return `hyrun: a hybrid OCI container runtime (Linux containers via crun/runc, WebAssembly/WASI in the same sandbox)

Usage:
  hyrun run [OPTIONS] FILE.wasm|FILE.wat [ARGS...]   run a Wasm module directly
  hyrun [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]  runc-compatible container commands

Commands:
${lines.join('\n')}

Global options (before the command; OCI commands):
${flagLines(GLOBAL_FLAGS).join('\n')}

  --help, -h      show this help          --version, -v   print version information

Run 'hyrun help COMMAND' for one command.
`;
}

/** Help for one command, or undefined when there is no such command. */
export function commandHelp(name: string): string | undefined {
  const h = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (h === undefined) return undefined;
  const flags = Object.prototype.hasOwnProperty.call(COMMAND_FLAGS, name) ? COMMAND_FLAGS[name] : [];
  const title = name === 'run' ? 'Flags in OCI mode' : 'Flags';
  const flagText = flags.length > 0 ? `\n${title}:\n${flagLines(flags).join('\n')}\n` : '';
  return `hyrun ${name}: ${h.summary}\n\nUsage:\n  ${h.usage}\n${h.details ?? ''}${flagText}`;
}

// What each OCI flag does, in our words; a flag missing here is still listed, without a description.
const FLAG_TEXT: Record<string, string> = {
  root: 'directory for container state (default /run/hyrun)',
  log: 'append log lines to FILE',
  'log-format': 'text or json',
  debug: 'log debug lines too',
  'systemd-cgroup': 'let systemd manage the cgroups (passed to the delegate)',
  'cgroup-manager': 'cgroupfs or systemd',
  rootless: 'true, false or auto',
  criu: 'path of the criu binary (passed to the delegate)',
  delegate: 'crun or runc (or a path) for Linux containers (default: crun if present, else runc)',
  bundle: 'bundle directory holding config.json (default: the current directory)',
  'pid-file': "write the container process's PID to this file",
  'console-socket': 'AF_UNIX socket that receives the terminal master fd (process.terminal)',
  'preserve-fds': 'pass N extra file descriptors (from 3) to the container',
  'no-pivot': 'do not use pivot_root to enter the rootfs',
  'no-new-keyring': 'keep the session keyring',
  'no-subreaper': 'do not make hyrun a child subreaper',
  detach: 'return once the process has started',
  keep: 'keep the container after it exits (no automatic delete)',
  all: 'signal every process of the container',
  force: 'kill and delete even a running container',
  process: 'JSON file with the process to run (instead of COMMAND ARGS)',
  tty: 'allocate a pseudo-terminal',
  env: 'set an environment variable KEY=VALUE (repeatable)',
  cwd: 'working directory of the new process',
  user: 'UID[:GID] to run as',
  'additional-gids': 'add a supplementary group (repeatable)',
  cap: 'add a capability (repeatable)',
  'no-new-privs': 'set no_new_privs for the process',
  apparmor: 'AppArmor profile',
  'process-label': 'SELinux label',
  cgroup: 'join this sub-cgroup (repeatable)',
  'ignore-paused': 'allow exec into a paused container',
  format: 'table or json',
  quiet: 'print container IDs only',
  resources: 'JSON file of Linux resources (- for stdin)',
};

function flagLines(flags: FlagSpec[]): string[] {
  const cells = flags.map((f) => {
    const [main, ...aliases] = f.names;
    const name = [`--${main}`, ...aliases.map((a) => (a.length === 1 ? `-${a}` : `--${a}`))].join(', ');
    return [`${name}${f.value ? ' VALUE' : ''}`, FLAG_TEXT[main] ?? (f.value ? 'passed to the delegate unchanged' : '')];
  });
  const width = Math.max(0, ...cells.map(([n]) => n.length));
  return cells.map(([n, d]) => `  ${n.padEnd(width)}  ${d}`.trimEnd());
}
