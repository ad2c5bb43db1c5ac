// `hyrun help [COMMAND]` (also what `hyrun COMMAND --help` prints). Summaries live here; the flag
// lists of the OCI commands come from the OCI parser's own table, so help cannot drift from it.
import { COMMAND_FLAGS, GLOBAL_FLAGS, type FlagSpec } from './oci/parse.js';

export interface CommandHelp {
  usage: string;
  summary: string;
  details?: string;
}

const SERVE_DETAILS = `
  Serves an HTTP component (one that exports wasi:http/incoming-handler, as wasmtime serve does)
  on HOST:PORT (default 0.0.0.0:8080); 'hyrun run' of such a component does the same. Each
  request runs in a fresh instance (--instance-reuse: instances serve request after request);
  requests run concurrently, on one serving thread per CPU, at most 4 (HYRUN_SERVE_THREADS=N
  sets it), bodies stream both ways. Outbound requests need --allow-net.
  SIGTERM or SIGINT: stop accepting, let the requests under way finish (within
  HYRUN_SERVE_GRACE_MS, default 8000), exit 0. The options are run's (see 'hyrun help run').
  A file that is not an HTTP component is refused in one line (126); an address in use, 125.
`;

const RUN_DETAILS = `
Wasm file mode:
  hyrun run [OPTIONS] [--] FILE.wasm|FILE.wat [ARGS...]

  Runs one WASI preview1 module, or a WASI 0.2 command component (told apart by the file's
  header; a component is transpiled once into hyrun's cache, see docs/components.md). An HTTP
  component (it exports wasi:http/incoming-handler) is served, as 'hyrun serve' does.
  Everything after FILE goes to the guest untouched, even arguments that look like options;
  the guest's argv[0] is FILE as given. The exit status is the guest's; 125 means hyrun's own
  error (bad options), 126 the file cannot be run (not Wasm, or a component importing what
  hyrun does not serve), 127 the file was not found.

  --env KEY=VALUE        set a guest environment variable (repeatable). The guest sees ONLY
                         these: hyrun's own environment is not inherited.
  --dir HOST[::GUEST][:ro]
                         preopen directory HOST (repeatable): as HOST itself, or under the
                         guest path GUEST (e.g. --dir /tmp/work::. or --dir ./data::/data).
                         A trailing :ro makes it read-only: reads work, every change under it
                         (write, create, truncate, remove, rename in or out, link, times) fails
                         with EROFS and its descriptors carry no write rights (:rw, the default,
                         may be written too). A GUEST below another preopen's (/data below /) is
                         reached through both, under the same rules.
  --memory SIZE          cap the linear memory: bytes or 64KiB, 16MiB, 1GiB, 1G (binary units);
                         memory.grow beyond it fails in the guest
  --tcplisten HOST:PORT  preopen a listening TCP socket after the directories (repeatable;
                         preview1 modules only: a component listens itself, with --allow-net)
  --allow-net            let a component use the host's network: its wasi:sockets (TCP, UDP, name
                         lookup) and an HTTP component's outbound requests (wasi:http
                         outgoing-handler). Without it creating a socket answers access-denied,
                         every lookup permanent-resolver-failure, and an outbound request
                         HTTP-request-denied. Inside a container the network namespace is the
                         boundary and the network is allowed without it.
  --addr HOST:PORT       HTTP components: serve there (default 0.0.0.0:8080)
  --instance-reuse       HTTP components: an instance serves request after request (default: a
                         fresh instance per request, so requests never see each other's state)
  --                     end of options: the next argument is FILE even if it starts with '-'

OCI mode (runc-compatible):
  hyrun [GLOBAL OPTIONS] run [--bundle DIR] [--detach] [--console-socket PATH] [--pid-file PATH] ID

  Creates and starts container ID from the bundle DIR (default: the current directory).

Image mode:
  hyrun run [--name N] [--rm] [-d] [-i] [-t] [-e K=V]... [--env-file F] [-v HOST:CTR[:ro]]...
            [-w DIR] [--user U] [--annotation K=V]... [--memory SIZE] [-p [IP:]HOST:CTR]...
            [--platform OS/ARCH] [--pull missing|always|never] [--tls-verify=false] [--keep-setid]
            IMAGE [ARGS...]

  Runs an image from the local store, pulling it first if absent. ARGS replace the image's CMD.
  As root with crun or runc installed, the container runs through hyrun's own OCI runtime (Linux
  and Wasm images); otherwise a Wasm image runs on the embedded executor (the WASI sandbox alone,
  the image's files as '/') and a Linux image is refused with what to install. The exit status
  is the container's. Detached containers (-d): hyrun ps [-a], logs [-f], stop [-t N], rm [-f].
  Layers are unpacked safely: no entry lands outside the root filesystem, set-id bits are
  dropped (--keep-setid, root only, keeps them), device nodes are not created (the runtime
  provides /dev). -v HOST:CTR:ro is read-only in both modes (a read-only bind mount; on the
  embedded executor a read-only preopen: every change is EROFS).
  -p [IP:]HOST:CTR (TCP; IP defaults to 0.0.0.0): there is no network namespace, containers share
  the host's. Through the OCI runtime, HOST = CTR needs nothing (the container's port is the
  host's); with different ports the process supervising the container (hyrun run, or the
  detached supervisor) listens on IP:HOST and forwards each connection to 127.0.0.1:CTR until the
  container ends, so the container port is reachable on the host as well. A HOST port in use is
  refused before anything is created. On the embedded executor -p preopens a listening socket on
  IP:HOST for the guest (sock_accept).

How hyrun tells them apart, first rule that applies:
  0. image mode when an option only it has (--rm, --name, -e, -v, -i, -t, -p, -w, --user,
     --annotation, --platform, --pull, --storage, ...) comes before the first argument; or when the
     first argument is not a file, not .wasm/.wat, and either holds '/', ':' or '@' (a registry
     path, tag or digest, which container IDs cannot hold; but a path whose first part is a
     directory here, like build/app, stays a file) or, with no config.json in the current
     directory, is a bare name the local store has (hello = localhost/hello:latest);
  1. global options (--root, --log, ...) before 'run', or an OCI-only option (--bundle/-b,
     --detach/-d, --console-socket, --pid-file, --keep, --no-pivot, --no-new-keyring,
     --no-subreaper, --preserve-fds) before the first argument: OCI mode;
  2. a Wasm-only option (--env, --dir, --memory, --tcplisten, --addr, ...) before the first argument: Wasm mode;
  3. the first argument ends in .wasm or .wat, or names an existing file starting with the
     Wasm magic bytes (\\0asm): Wasm mode;
  4. config.json exists in the current directory: OCI mode (the argument is the container ID);
  5. otherwise: Wasm mode.

Examples:
  hyrun run examples/hello.wat
  hyrun run --dir /tmp/work::. --env GREETING=hi app.wasm --verbose input.txt
  hyrun run --bundle /containers/web web1
  hyrun run --rm localhost/hello:latest
  hyrun run -d --name web -p 8080:80 quay.io/org/app:1.0
  hyrun run --rm -v ./data:/data:ro localhost/wasm-app:1
`;

const BUILD_DETAILS = `
  Instructions: FROM (scratch, images in the store or pullable; AS NAME), COPY (globs, several
  sources, --from=STAGE|IMAGE, --chown, --chmod), ADD (local files; local tar archives are
  unpacked), CMD, ENTRYPOINT, ENV, WORKDIR, LABEL, USER, ARG ($VAR and \${VAR} expanded where
  Containerfiles expand them), EXPOSE, VOLUME, STOPSIGNAL; .containerignore / .dockerignore.
  RUN and ADD of a URL are refused with the line number: hyrun build has no build sandbox.
  Layers are reproducible: the same context and arguments give the same digests; every time is
  SOURCE_DATE_EPOCH (default 0).

  -t NAME[:TAG]       name the image (repeatable; unqualified names go under localhost/)
  -f FILE             the Containerfile (default CONTEXT/Containerfile, then Dockerfile)
  --annotation K=V    manifest annotation, e.g. module.wasm.image/variant=compat
  --label K=V         config label
  --platform OS/ARCH  e.g. wasi/wasm (default: the host's)
  --build-arg K=V     value for an ARG
  --format oci|docker media types of the manifest (default oci)
  --artifact FILE     package one .wasm module as the CNCF Wasm OCI artifact (no CONTEXT)
  --storage DIR       the image store (default HYRUN_STORAGE, /var/lib/hyrun/storage as root,
                      ~/.local/share/hyrun/storage otherwise); every image command takes it
`;

const REGISTRY_DETAILS = `
  References are normalised as Docker and Podman do (alpine = docker.io/library/alpine:latest).
  Credentials come from hyrun login, containers' auth.json and ~/.docker/config.json; they are
  never printed. --tls-verify=false (or HYRUN_INSECURE_REGISTRIES=host:port,...) names a registry
  insecure: only then is its TLS certificate accepted unchecked (self-signed, expired, other
  name), and plain HTTP used when it does not speak TLS. --platform chooses from an image index (default: the
  host's, then wasi/wasm, wasip1/wasm, wasm/wasm).
`;

export const COMMANDS: Record<string, CommandHelp> = {
  serve: {
    usage: 'hyrun serve [--addr HOST:PORT] [--allow-net] [--instance-reuse] [--env KEY=VALUE]... [--dir HOST[::GUEST][:ro]]... [--memory SIZE] FILE.wasm',
    summary: 'serve a WASI 0.2 HTTP component (wasi:http/incoming-handler)',
    details: SERVE_DETAILS,
  },
  run: { usage: 'hyrun run [OPTIONS] FILE.wasm|FILE.wat [ARGS...]  |  hyrun run [OPTIONS] IMAGE [ARGS...]  |  hyrun run [--bundle DIR] ID', summary: 'run a .wasm/.wat file, an image, or an OCI bundle', details: RUN_DETAILS },
  build: { usage: 'hyrun build [-t NAME[:TAG]]... [-f FILE] [--annotation K=V]... [--label K=V]... [--platform OS/ARCH] [--build-arg K=V]... [--format oci|docker] [--artifact FILE.wasm] CONTEXT', summary: 'build an image from a Containerfile (no RUN), or a Wasm OCI artifact', details: BUILD_DETAILS },
  images: { usage: 'hyrun images [--format table|json] [--quiet]', summary: 'list the images of the local store' },
  inspect: { usage: 'hyrun inspect [--platform OS/ARCH] IMAGE...', summary: "print an image's manifest, config and annotations as JSON" },
  tag: { usage: 'hyrun tag IMAGE NAME[:TAG]...', summary: 'give an image more names' },
  rmi: { usage: 'hyrun rmi [--force] IMAGE...', summary: 'remove image names (and the blobs nothing uses any more)' },
  save: { usage: 'hyrun save -o FILE [--format oci-archive|docker-archive] IMAGE...', summary: 'write images to an archive' },
  load: { usage: 'hyrun load -i FILE', summary: 'load images from an oci-archive or docker-archive' },
  prune: { usage: 'hyrun prune', summary: 'remove blobs and snapshots no image uses, and transpiled components unused for 30 days' },
  pull: { usage: 'hyrun pull [--platform OS/ARCH] [--tls-verify=false] REF', summary: 'pull an image or Wasm artifact from a registry', details: REGISTRY_DETAILS },
  push: { usage: 'hyrun push [--tls-verify=false] NAME [REGISTRY/NAME[:TAG]]', summary: 'push an image to a registry (blobs it has are skipped or mounted)', details: REGISTRY_DETAILS },
  login: { usage: 'hyrun login --username U --password-stdin [--tls-verify=false] REGISTRY', summary: 'check and store credentials for a registry' },
  logout: { usage: 'hyrun logout REGISTRY', summary: 'forget the stored credentials for a registry' },
  logs: { usage: 'hyrun logs [-f] CONTAINER', summary: 'print the output of a detached run IMAGE container' },
  stop: { usage: 'hyrun stop [-t SECONDS] CONTAINER...', summary: "send the image's stop signal, then SIGKILL after the timeout (default 10 s)" },
  rm: { usage: 'hyrun rm [-f] CONTAINER...', summary: 'remove run IMAGE containers (-f: stop running ones first)' },
  create: { usage: 'hyrun create [--bundle DIR] [--console-socket PATH] [--pid-file PATH] ID', summary: 'create a container from an OCI bundle, without starting its process' },
  start: { usage: 'hyrun start ID', summary: "start the user process of a created container" },
  state: { usage: 'hyrun state ID', summary: 'print the state of a container as JSON' },
  kill: { usage: 'hyrun kill [--all] ID [SIGNAL]', summary: "send a signal (default SIGTERM) to a container's init process" },
  delete: { usage: 'hyrun delete [--force] ID', summary: 'delete a stopped container and the resources it holds' },
  exec: { usage: 'hyrun exec [--process FILE] [--detach] ID [COMMAND [ARGS...]]', summary: 'run a new process inside a running container' },
  ps: { usage: 'hyrun ps [-a] [--format table|json]  |  hyrun ps [--format table|json] ID', summary: 'list run IMAGE containers; with an ID, the processes in an OCI container' },
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
const IMAGE_ONLY = ['build', 'images', 'inspect', 'tag', 'rmi', 'save', 'load', 'prune', 'pull', 'push', 'login', 'logout', 'logs', 'stop', 'rm'];
export const OCI_COMMANDS = Object.keys(COMMANDS).filter((c) => c !== 'help' && c !== 'install' && c !== 'doctor' && c !== 'serve' && !IMAGE_ONLY.includes(c));

export function generalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, h]) => `  ${name.padEnd(width)}  ${h.summary}`);
  return `hyrun: a hybrid OCI container runtime (Linux containers via crun/runc, WebAssembly/WASI in the same sandbox)

Usage:
  hyrun run [OPTIONS] FILE.wasm|FILE.wat [ARGS...]   run a Wasm module directly
  hyrun run [OPTIONS] IMAGE [ARGS...]                 run an image (pulled if absent)
  hyrun [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]  runc-compatible container commands

Commands:
${lines.join('\n')}

Global options (before the command; OCI commands):
${flagLines(GLOBAL_FLAGS).join('\n')}

  --help, -h      show this help          --version, -v   print version information

hyrun runs on its own Node.js (--version names it); HYRUN_NODE=PATH picks another, 24 or newer.
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
