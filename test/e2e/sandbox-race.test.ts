// Issue 14 §0: another process races the guest's lookups. It flips a name inside the preopened
// directory between a real directory and a symlink that leads out (rename real->flip, rename back,
// symlink flip->OUTSIDE, unlink), in a loop, while the guest opens /flip/canary.txt again and again
// (test/guests/c/sec_race.c is both the attacker, natively, and the guest). Before lookups were
// made on held descriptors, hundreds of 100,000 reads returned the file outside and an O_CREAT
// open created a file there. What is asserted is only the sandbox's property: no read ever returns
// anything but the file inside, and nothing is created outside, whatever the interleaving (how
// often the race was won or lost is printed, never asserted: that is the scheduler's business).
// Also the over-long path (in UTF-8 bytes) a guest can build alone, and a Podman pod whose Linux
// sidecar flips a name in a shared volume to the executor's hidden /.hyrun.
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { guest, hyrun, hyrunBin, native, tempDir, type Result } from '../helpers.js';
import { ERRNO } from '../../src/wasi/constants.js';
import { cleanStderr, PodmanEnv } from './engines/podman.js';
import { cannotRun, explain } from './engines/tools.js';

const READS = 100_000;
const CREATES = 20_000;
const scratch = tempDir('hyrun-race-');
after(() => scratch.cleanup());
let seq = 0;

/** A box (the preopen) with real/canary.txt, and an outside directory with its own canary. */
function layout(): { box: string; outside: string } {
  const dir = join(scratch.path, `t${seq++}`);
  const box = join(dir, 'box'), outside = join(dir, 'outside');
  mkdirSync(join(box, 'real'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(box, 'real/canary.txt'), 'inside\n');
  writeFileSync(join(outside, 'canary.txt'), 'outside\n');
  return { box, outside };
}

/** Starts the attacker on `dir`, flipping `dir/flip` to `target`; resolves once it is flipping. */
async function startRacer(dir: string, target: string): Promise<ChildProcess> {
  const racer = spawn(native('sec_race'), ['flip', dir, target, '20000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [first] = await once(racer.stdout!, 'data');
  assert.match(String(first), /^flipping/);
  return racer;
}

async function stop(racer: ChildProcess): Promise<void> {
  if (racer.exitCode !== null) return;
  racer.kill('SIGKILL');
  await once(racer, 'exit');
}

/** hyrun run, asynchronously (the racer runs beside it). */
async function hyrunAsync(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  const child = spawn(hyrunBin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const [status, signal] = await once(child, 'exit') as [number | null, NodeJS.Signals | null];
  return { status, signal, stdout, stderr };
}

const counts = (line: string | undefined): Record<string, number> =>
  Object.fromEntries([...(line ?? '').matchAll(/(\w+) (\d+)/g)].map((m) => [m[1], Number(m[2])]));

for (const [mode, env] of [['openat2', {}], ['walk', { HYRUN_NO_OPENAT2: '1' }]] as const) {
  for (const guestPath of ['/', '/box']) {
    test(`a racing process cannot lead the guest out: ${READS} reads and ${CREATES} creates under --dir BOX::${guestPath} (${mode} lookups)`, async () => {
      const { box, outside } = layout();
      const racer = await startRacer(box, outside);
      try {
        const flip = guestPath === '/' ? '/flip' : '/box/flip';
        const e = { ...process.env, ...env };
        const r = await hyrunAsync(['run', '--dir', `${box}::${guestPath}`, guest('sec_race'), 'read', `${flip}/canary.txt`, String(READS)], e);
        assert.equal(r.status, 0, r.stderr);
        const c = counts(r.stdout.split('\n').find((l) => l.startsWith('read ')));
        process.stdout.write(`# ${mode} ${guestPath}: ${r.stdout.trim().split('\n').at(-1)}\n`);
        assert.equal(c.inside + c.failed + c.escaped, READS, r.stdout);
        assert.equal(c.escaped, 0, `reads that returned something else than the file inside: ${r.stdout}`);
        const w = await hyrunAsync(['run', '--dir', `${box}::${guestPath}`, guest('sec_race'), 'create', `${flip}/pwned.txt`, String(CREATES)], e);
        assert.equal(w.status, 0, w.stderr);
        process.stdout.write(`# ${mode} ${guestPath}: ${w.stdout.trim()}\n`);
      } finally {
        await stop(racer);
      }
      assert.deepEqual(readdirSync(outside), ['canary.txt'], 'nothing was created outside the preopen');
      assert.equal(readFileSync(join(outside, 'canary.txt'), 'utf8'), 'outside\n');
    });
  }
}

test('a path longer than PATH_MAX in UTF-8 bytes (not in characters) is NAMETOOLONG, never cut to another name', () => {
  const { box } = layout();
  writeFileSync(join(box, '€€'), 'victim');
  writeFileSync(join(box, 'top-secret'), 'top secret');
  mkdirSync(join(box, 'sub'));
  writeFileSync(join(box, '€€€'), 'fits');
  for (const env of [{}, { HYRUN_NO_OPENAT2: '1' }]) {
    const r = hyrun(['run', '--dir', `${box}::/`, guest('sec_race'), 'longpath'], { env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [`trunc ${ERRNO.NAMETOOLONG}`, 'open_sub 0', `sub_up ${ERRNO.NAMETOOLONG}`,
      `sub_dotdot ${ERRNO.NOTCAPABLE}`, 'fits 0'], JSON.stringify(env));
    assert.equal(readFileSync(join(box, '€€'), 'utf8'), 'victim', 'the cut name was not truncated');
  }
});

describe('a Podman pod: a Linux sidecar races the Wasm guest through a shared volume', { skip: cannotRun(['podman', 'buildah', 'conmon', 'crun']), timeout: 600_000 }, () => {
  let podman: PodmanEnv;
  const tag = `localhost/hyrun-test/race:${process.pid}`;
  const sidecar = `localhost/hyrun-test/race-sidecar:${process.pid}`;
  const pod = `hyrun-race-${process.pid}`;
  before(() => {
    podman = new PodmanEnv();
    const wasm = join(podman.dir, 'wasm-context');
    mkdirSync(wasm);
    copyFileSync(guest('sec_race'), join(wasm, 'race.wasm'));
    writeFileSync(join(wasm, 'Containerfile'), 'FROM scratch\nCOPY race.wasm /\nCMD ["/race.wasm"]\n');
    podman.mustBuildah(['build', '--quiet', '--annotation', 'module.wasm.image/variant=compat-smart', '--platform', 'wasi/wasm', '-t', tag, wasm]);
    const linux = join(podman.dir, 'sidecar-context');
    mkdirSync(linux);
    copyFileSync('/bin/busybox', join(linux, 'busybox'));
    writeFileSync(join(linux, 'Containerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT ["/bin/busybox"]\n');
    podman.mustBuildah(['build', '--quiet', '-t', sidecar, linux]);
  });
  after(() => {
    podman?.podman(['pod', 'rm', '--force', pod]);
    podman?.cleanup();
  });

  test('the guest never reads the executor\'s hidden runtime directory through the flipped name', () => {
    const volume = join(podman.dir, 'shared');
    mkdirSync(join(volume, 'real'), { recursive: true });
    chmodSync(volume, 0o777);
    // A file named like the executor's node binary, so a read that escaped into /.hyrun would get an ELF header.
    writeFileSync(join(volume, 'real/node'), 'inside\n');
    podman.mustPodman(['pod', 'create', '--infra=false', '--name', pod]);
    const loop = 'cd /shared && while true; do mv real flip; mv flip real; ln -s /.hyrun flip; rm flip; done';
    podman.mustPodman(['run', '-d', '--pod', pod, '--name', `${pod}-sidecar`, '-v', `${volume}:/shared`, sidecar, 'sh', '-c', loop]);
    const r = podman.podman(['run', '--rm', '--pod', pod, '-v', `${volume}:/shared`, tag, '/race.wasm', 'read', '/shared/flip/node', '20000'], { timeout: 300_000 });
    const out = `${r.stdout}${cleanStderr(r.stderr)}`;
    assert.equal(r.status, 0, explain(r));
    const c = counts(r.stdout.split('\n').find((l) => l.startsWith('read ')));
    process.stdout.write(`# pod: ${r.stdout.trim().split('\n').at(-1)}\n`);
    assert.equal(c.inside + c.failed + c.escaped, 20000, out);
    assert.equal(c.escaped, 0, `reads that returned something else than the file inside: ${out}`);
    // The sidecar was running the whole time (the race was on).
    const state = podman.podman(['inspect', '--format', '{{.State.Running}}', `${pod}-sidecar`]);
    assert.equal(state.stdout.trim(), 'true', explain(state));
  });
});
