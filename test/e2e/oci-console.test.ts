// Console sockets with REAL crun and runc: the delegate makes the pty and sends its master over the
// socket (SCM_RIGHTS); a python3 receiver (fixtures/recvtty.py) stands in for conmon/the shim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrunBin, repoRoot, run, tempDir } from '../helpers.js';
import { haveBusybox, makeBusyboxBundle } from './fixtures/rootfs.js';
import { DELEGATES, oci, stateOf, waitFor } from './fixtures/oci.js';

const RECVTTY = join(repoRoot, 'test/e2e/fixtures/recvtty.py');

/**
 * Start the receiver; resolves once it listens. `output()` is what it printed so far. `after`: type
 * the line once the terminal shows that text; `raw`: the file that gets the terminal's bytes.
 */
async function receiver(socket: string, typed?: string, o: { after?: string; raw?: string } = {}): Promise<{ child: ChildProcess; output: () => string; done: Promise<number | null> }> {
  const options = [...(o.after === undefined ? [] : ['--after', o.after]), ...(o.raw === undefined ? [] : ['--raw', o.raw])];
  const child = spawn('python3', [RECVTTY, socket, ...(typed === undefined ? [] : [typed]), ...options], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const done = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  await waitFor('the console receiver to listen', () => out.includes('listening'));
  return { child, output: () => out, done };
}

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed' : false;

  test(`${d.name}: create and exec --tty hand a pty to the console socket`, { skip, timeout: 120_000 }, async () => {
    const t = tempDir('hyrun-tty-');
    const o = oci(join(t.path, 'root'), d.path!);
    const id = 'tty';
    const kids: ChildProcess[] = [];
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), {
        tty: true,
        args: ['sh', '-c', 'read line; echo "got:$line"; tty; sleep 1000'],
      });
      const rx = await receiver(join(t.path, 'c.sock'), 'typed-by-test');
      kids.push(rx.child);
      let r = o(['create', '--bundle', bundle, '--console-socket', join(t.path, 'c.sock'), id], { stdio: 'ignore' });
      assert.equal(r.status, 0);
      await waitFor('the pty to arrive', () => /pty:/.test(rx.output()));
      r = o(['start', id]);
      assert.equal(r.status, 0, r.stderr);
      await waitFor('the container to answer through the pty', () => /got:typed-by-test/.test(rx.output()) && /\/dev\/pts\/\d+/.test(rx.output()));
      assert.equal(stateOf(o, id).status, 'running');

      // exec --tty --detach with its own console socket (as conmon does for `podman exec -t`).
      const ex = await receiver(join(t.path, 'e.sock'));
      kids.push(ex.child);
      r = o(['exec', '--tty', '--detach', '--console-socket', join(t.path, 'e.sock'), id, 'sh', '-c', 'echo exec-on-tty; tty'], { stdio: 'ignore' });
      assert.equal(r.status, 0);
      await ex.done;
      assert.match(ex.output(), /pty:/);
      assert.match(ex.output(), /exec-on-tty/);
      assert.match(ex.output(), /\/dev\/pts\/\d+/);
    } finally {
      o(['delete', '--force', id]);
      for (const k of kids) if (k.exitCode === null) k.kill('SIGKILL');
      t.cleanup();
    }
  });
}

/**
 * The bytes a terminal receives from one run of the bundle: `runtime` (crun itself, or hyrun with
 * crun as its delegate) creates the container with a console socket, as conmon and the shim do,
 * then starts it; the line is typed once the prompt shows, so the order of the bytes is fixed.
 */
async function terminalBytes(runtime: string[], bundle: string, dir: string, id: string, prompt: string): Promise<Buffer> {
  const sock = join(dir, `${id}.sock`);
  const raw = join(dir, `${id}.bytes`);
  const rx = await receiver(sock, 'typed-by-test', { after: prompt, raw });
  try {
    let r = run(runtime[0]!, [...runtime.slice(1), 'create', '--bundle', bundle, '--console-socket', sock, id], { stdio: 'ignore' });
    assert.equal(r.status, 0, `${runtime.join(' ')} create`);
    r = run(runtime[0]!, [...runtime.slice(1), 'start', id]);
    assert.equal(r.status, 0, r.stderr);
    await rx.done;
    return readFileSync(raw);
  } finally {
    run(runtime[0]!, [...runtime.slice(1), 'delete', '--force', id]);
    if (rx.child.exitCode === null) rx.child.kill('SIGKILL');
  }
}

/** A line that shows every byte: a NUL as \0, control characters escaped. */
const shown = (b: Buffer): string => JSON.stringify(b.toString('latin1'));

for (const d of DELEGATES) {
  const skip = !d.path ? `${d.name} is not installed` : !haveBusybox() ? 'busybox-static is not installed' : false;
  const direct = (t: { path: string }): string[] => [d.path!, '--root', join(t.path, `${d.name}-root`)];
  const viaHyrun = (t: { path: string }): string[] => [hyrunBin, '--root', join(t.path, 'root'), '--delegate', d.path!];

  test(`${d.name}: a terminal gets the same bytes from a Linux container through hyrun as from ${d.name} itself`, { skip, timeout: 120_000 }, async () => {
    const t = tempDir('hyrun-tty-bytes-');
    try {
      const bundle = makeBusyboxBundle(join(t.path, 'bundle'), {
        tty: true,
        args: ['sh', '-c', 'echo "prompt:"; read line; printf "got [%s]\\tand no newline" "$line"'],
      });
      const itself = await terminalBytes(direct(t), bundle, t.path, 'direct', 'prompt:');
      const hyrun = await terminalBytes(viaHyrun(t), bundle, t.path, 'hyrun', 'prompt:');
      assert.equal(shown(itself), shown(Buffer.from('prompt:\r\ntyped-by-test\r\ngot [typed-by-test]\tand no newline')), `${d.name} itself`);
      assert.equal(shown(hyrun), shown(itself));
    } finally {
      t.cleanup();
    }
  });

  test(`${d.name}: a terminal gets the same bytes from a Wasm container through hyrun as from the native build of that program`, { skip, timeout: 120_000 }, async (tt) => {
    const t = tempDir('hyrun-tty-bytes-');
    try {
      // eng_tty: says whether stdin and stdout are terminals, asks for a line, echoes it. Built
      // static, the native program needs nothing from the busybox rootfs.
      const nativeTty = join(t.path, 'tty-native');
      const cc = run('cc', ['-static', '-O2', '-o', nativeTty, join(repoRoot, 'test/guests/c/eng_tty.c')]);
      if (cc.status !== 0) return tt.skip(`cannot build a static program here: ${cc.stderr}`);
      const native = makeBusyboxBundle(join(t.path, 'native'), { tty: true, args: ['/tty'], files: { tty: readFileSync(nativeTty) } });
      chmodSync(join(native, 'rootfs/tty'), 0o755);
      const wasm = makeBusyboxBundle(join(t.path, 'wasm'), {
        tty: true, args: ['/tty.wasm'], annotations: { 'module.wasm.image/variant': 'compat' }, files: { 'tty.wasm': readFileSync(guest('eng_tty')) },
      });
      const nativeBytes = await terminalBytes(direct(t), native, t.path, 'native', 'type a line:');
      const wasmBytes = await terminalBytes(viaHyrun(t), wasm, t.path, 'wasm', 'type a line:');
      assert.equal(shown(nativeBytes), shown(Buffer.from('stdin tty: yes, stdout tty: yes\r\ntype a line:\r\ntyped-by-test\r\necho: [typed-by-test]\r\n')), 'the native program');
      assert.equal(shown(wasmBytes), shown(nativeBytes));
    } finally {
      t.cleanup();
    }
  });
}
