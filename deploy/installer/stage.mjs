// Stages the build context of the installer image (deploy/installer/Containerfile) in CONTEXT:
// rootfs/ with busybox-static and its applets, hyrun's release artifact (npm run dist) unpacked at
// /opt/hyrun (it carries its own node, with the libraries and loader node needs), and the
// installer's scripts. No node of the build machine's: the image has only the artifact's.
// Offline: nothing is pulled.
//   node deploy/installer/stage.mjs CONTEXT [ARTIFACT.tar.gz]   (default: the checkout's hyrun-<version>-linux-<arch>.tar.gz)
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const here = dirname(new URL(import.meta.url).pathname);
const repo = join(here, '../..');
const context = process.argv[2];
if (!context) { console.error('usage: node deploy/installer/stage.mjs CONTEXT [ARTIFACT.tar.gz]'); process.exit(2); }
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const arch = { x64: 'x64', arm64: 'arm64' }[process.arch] ?? process.arch;
const artifact = process.argv[3] ?? join(repo, `hyrun-${version}-linux-${arch}.tar.gz`);
if (!existsSync(artifact)) { console.error(`stage: ${artifact} is missing: npm run dist`); process.exit(1); }
const rootfs = join(context, 'rootfs');
const put = (src, dst = src) => {
  const to = join(rootfs, dst);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(src, to);
  chmodSync(to, 0o755);
};

// busybox: sh, nsenter, sleep.
const busybox = '/bin/busybox';
if (!existsSync(busybox)) { console.error('stage: /bin/busybox (busybox-static) is missing'); process.exit(1); }
put(busybox, '/bin/busybox');
for (const applet of ['sh', 'nsenter', 'sleep', 'cat', 'ls', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', applet));

// hyrun, as released: bin/, dist/, node/, node_modules/wabt, package.json.
mkdirSync(join(rootfs, 'opt'), { recursive: true });
execFileSync('tar', ['-xzf', artifact, '-C', join(rootfs, 'opt')]);

for (const f of ['entrypoint.sh', 'label-node.cjs']) put(join(here, f), `/installer/${f}`);
for (const d of ['tmp', 'proc', 'sys', 'dev', 'host', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
console.log(`stage: ${rootfs}`);
