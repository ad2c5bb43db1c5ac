// The images the engine tests run, all built locally from files (there is no image registry to
// pull from): a busybox Linux image and Wasm images made of the test guests (test/guests/c/eng_*.c).
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { guest, repoRoot, run } from '../../helpers.js';
import type { PodmanEnv } from './podman.js';
import { must } from './tools.js';

export const BUSYBOX_BIN = '/bin/busybox'; // Debian's busybox-static

export const IMAGES = {
  /** Linux: busybox from scratch. */
  busybox: 'localhost/hyrun-test/busybox:latest',
  /** Linux busybox with module.wasm.image/variant=compat-smart: must still run as Linux. */
  busyboxSmart: 'localhost/hyrun-test/busybox-smart:latest',
  /** The seed's Wasm image: FROM scratch, COPY hello.wasm /, CMD ["/hello.wasm"], variant=compat. */
  wasmHello: 'localhost/hyrun-test/wasm-hello:latest',
  /** The same with variant=compat-smart (Wasm because args[0] ends in .wasm). */
  wasmHelloSmart: 'localhost/hyrun-test/wasm-hello-smart:latest',
  /** compat-smart, the module stored as /app (no .wasm suffix): Wasm by its magic bytes. */
  wasmAppSmart: 'localhost/hyrun-test/wasm-app-smart:latest',
  /** exit42.wasm: prints, then proc_exit(42). */
  wasmExit42: 'localhost/hyrun-test/wasm-exit42:latest',
  /** busy.wasm (long-running; `busy.wasm sleep` sleeps instead of spinning) plus exec.wasm and tty.wasm for exec. */
  wasmBusy: 'localhost/hyrun-test/wasm-busy:latest',
  /** volume.wasm: reads /data/in.txt, writes /data/out.txt. */
  wasmVolume: 'localhost/hyrun-test/wasm-volume:latest',
  /** tty.wasm: says whether stdin/stdout are terminals, echoes one line. */
  wasmTty: 'localhost/hyrun-test/wasm-tty:latest',
  /** Linux: the native (static) builds of the Wasm images' programs, at the same paths (buildNativeGuests). */
  nativeGuests: 'localhost/hyrun-test/native-guests:latest',
} as const;

/** The programs of IMAGES.nativeGuests: path in the image -> test/guests/c/NAME.c. */
export const NATIVE_GUESTS: Record<string, string> = { 'hello.wasm': 'eng_hello', 'tty.wasm': 'eng_tty', 'busy.wasm': 'eng_busy', 'exec.wasm': 'eng_exec' };

/**
 * Builds IMAGES.nativeGuests: the C programs of the Wasm images compiled for Linux, static (the image
 * holds nothing else), under the names the Wasm images give them; the reference a Wasm image's
 * behaviour is compared with under crun. Returns why it cannot be built here, or undefined.
 */
export function buildNativeGuests(env: PodmanEnv): string | undefined {
  const context = newContext(env);
  for (const [file, program] of Object.entries(NATIVE_GUESTS)) {
    const cc = run('cc', ['-static', '-O2', '-o', join(context, file), join(repoRoot, 'test/guests/c', `${program}.c`)]);
    if (cc.status !== 0) return `cannot build static programs here: ${cc.stderr}`;
    chmodSync(join(context, file), 0o755);
  }
  writeFileSync(join(context, 'Containerfile'), `FROM scratch\nCOPY ${Object.keys(NATIVE_GUESTS).join(' ')} /\nCMD ["/hello.wasm"]\n`);
  env.mustBuildah(['build', '--quiet', '-t', IMAGES.nativeGuests, context]);
  return undefined;
}

/** Stages a busybox root filesystem (the binary plus one symlink per applet) in `dir`. */
export function stageBusyboxRootfs(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX_BIN, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  const applets = must(BUSYBOX_BIN, ['--list-full']).stdout.split('\n').filter(Boolean);
  for (const applet of applets) {
    const path = join(dir, applet);
    if (existsSync(path)) continue;
    mkdirSync(dirname(path), { recursive: true });
    const depth = applet.split('/').length - 1;
    symlinkSync(`${'../'.repeat(depth)}bin/busybox`, path);
  }
  for (const d of ['tmp', 'data', 'proc', 'sys', 'dev', 'etc', 'root']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
}

let contexts = 0;
const newContext = (env: PodmanEnv): string => {
  const dir = join(env.dir, `context-${++contexts}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

const annotationArgs = (annotations: Record<string, string>): string[] =>
  Object.entries(annotations).flatMap(([k, v]) => ['--annotation', `${k}=${v}`]);

/** Builds the busybox image (buildah, from scratch) under `tag` with optional image annotations. */
export function buildBusybox(env: PodmanEnv, tag: string = IMAGES.busybox, annotations: Record<string, string> = {}): void {
  const context = newContext(env);
  stageBusyboxRootfs(join(context, 'rootfs'));
  writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/sh"]\n');
  env.mustBuildah(['build', '--quiet', ...annotationArgs(annotations), '-t', tag, context]);
}

export interface WasmImage {
  tag: string;
  /** Files of the image root: name in the image -> test guest name (build/guests/NAME.wasm), or an absolute path. */
  files: Record<string, string>;
  cmd: string[];
  variant?: string;
}

/** Builds a Wasm image the way the seed describes: FROM scratch, COPY, CMD; platform wasi/wasm. */
export function buildWasmImage(env: PodmanEnv, image: WasmImage): void {
  const context = newContext(env);
  const lines = ['FROM scratch'];
  for (const [name, guestName] of Object.entries(image.files)) {
    const source = guestName.startsWith('/') ? guestName : guest(guestName);
    if (!existsSync(source)) throw new Error(`${source} is missing: run npm run guests`);
    copyFileSync(source, join(context, name));
    lines.push(`COPY ${name} /`);
  }
  lines.push(`CMD ${JSON.stringify(image.cmd)}`);
  writeFileSync(join(context, 'Containerfile'), `${lines.join('\n')}\n`);
  const variant = image.variant ?? 'compat';
  env.mustBuildah(['build', '--quiet', '--annotation', `module.wasm.image/variant=${variant}`, '--platform', 'wasi/wasm', '-t', image.tag, context]);
}

export const WASM_IMAGES: Record<string, WasmImage> = {
  wasmHello: { tag: IMAGES.wasmHello, files: { 'hello.wasm': 'eng_hello' }, cmd: ['/hello.wasm'] },
  wasmHelloSmart: { tag: IMAGES.wasmHelloSmart, files: { 'hello.wasm': 'eng_hello' }, cmd: ['/hello.wasm'], variant: 'compat-smart' },
  wasmAppSmart: { tag: IMAGES.wasmAppSmart, files: { app: 'eng_hello' }, cmd: ['/app'], variant: 'compat-smart' },
  wasmExit42: { tag: IMAGES.wasmExit42, files: { 'exit42.wasm': 'eng_exit42' }, cmd: ['/exit42.wasm'] },
  wasmBusy: { tag: IMAGES.wasmBusy, files: { 'busy.wasm': 'eng_busy', 'exec.wasm': 'eng_exec', 'tty.wasm': 'eng_tty' }, cmd: ['/busy.wasm'] },
  wasmVolume: { tag: IMAGES.wasmVolume, files: { 'volume.wasm': 'eng_volume' }, cmd: ['/volume.wasm'] },
  wasmTty: { tag: IMAGES.wasmTty, files: { 'tty.wasm': 'eng_tty' }, cmd: ['/tty.wasm'] },
};

/** Builds the named images (keys of IMAGES) into the environment. */
export function buildImages(env: PodmanEnv, names: (keyof typeof IMAGES)[]): void {
  for (const name of names) {
    if (name === 'nativeGuests') throw new Error('build IMAGES.nativeGuests with buildNativeGuests (it may be impossible here)');
    if (name === 'busybox') buildBusybox(env);
    else if (name === 'busyboxSmart') buildBusybox(env, IMAGES.busyboxSmart, { 'module.wasm.image/variant': 'compat-smart' });
    else {
      const image = WASM_IMAGES[name];
      if (!image) throw new Error(`no such test image ${name}`);
      buildWasmImage(env, image);
    }
  }
}
