// Stages the build context of the installer image (deploy/installer/Containerfile) in CONTEXT:
// rootfs/ with busybox-static and its applets, node plus every library `ldd` lists (same paths),
// hyrun from this checkout at /opt/hyrun, and the installer's scripts. Offline: nothing is pulled.
//   node deploy/installer/stage.mjs CONTEXT
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const here = dirname(new URL(import.meta.url).pathname);
const repo = join(here, '../..');
const context = process.argv[2];
if (!context) { console.error('usage: node deploy/installer/stage.mjs CONTEXT'); process.exit(2); }
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
mkdirSync(join(rootfs, 'usr/bin'), { recursive: true });
symlinkSync('../../bin/busybox', join(rootfs, 'usr/bin/env')); // bin/hyrun's #!/usr/bin/env node

// node and its libraries at the paths ldd names (the loader included).
put(process.execPath, '/usr/bin/node');
const ldd = execFileSync('ldd', [process.execPath], { encoding: 'utf8' });
for (const m of ldd.matchAll(/(\/\S+\.so[.\d]*)/g)) put(m[1]);

// hyrun: the launcher, the bundles, wabt, package.json.
if (!existsSync(join(repo, 'dist/hyrun.cjs'))) { console.error('stage: hyrun is not built (npm run build)'); process.exit(1); }
cpSync(join(repo, 'bin'), join(rootfs, 'opt/hyrun/bin'), { recursive: true, verbatimSymlinks: true });
for (const b of readdirSync(join(repo, 'dist')).filter((f) => /\.(cjs|node)$/.test(f))) put(join(repo, 'dist', b), `/opt/hyrun/dist/${b}`);
if (existsSync(join(repo, 'node_modules/wabt'))) cpSync(join(repo, 'node_modules/wabt'), join(rootfs, 'opt/hyrun/node_modules/wabt'), { recursive: true, dereference: true });
copyFileSync(join(repo, 'package.json'), join(rootfs, 'opt/hyrun/package.json'));

for (const f of ['entrypoint.sh', 'label-node.cjs']) put(join(here, f), `/installer/${f}`);
for (const d of ['tmp', 'proc', 'sys', 'dev', 'host', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
console.log(`stage: ${rootfs}`);
