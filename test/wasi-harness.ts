// Runs a WASI guest in this process with WasiHost directly (no worker, no CLI): the quickest way
// to exercise the host's import functions from tests. stdout/stderr go to temp files through the
// real stdio descriptors and are returned as strings.
import { closeSync, openSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasiHost } from '../src/wasi/host.js';
import type { Preopen } from '../src/wasi/context.js';
import type { PreopenDescriptor } from '../src/wasi/preopen.js';

export interface HarnessOptions {
  args?: string[];
  env?: string[];
  preopens?: Preopen[];
  hiddenPaths?: string[];
}

export interface HarnessResult {
  exitCode: number; stdout: string; stderr: string;
  /** Per preopen, whether its lookups may take the addon's openat2 path (src/wasi/fast.ts). */
  fastLookups: boolean[];
}

const modules = new Map<string, WebAssembly.Module>();

export async function runGuestInProcess(wasmPath: string, options: HarnessOptions = {}): Promise<HarnessResult> {
  let module = modules.get(wasmPath);
  if (module === undefined) {
    module = await WebAssembly.compile(readFileSync(wasmPath));
    modules.set(wasmPath, module);
  }
  const dir = mkdtempSync(join(tmpdir(), 'hyrun-harness-'));
  const stdin = openSync('/dev/null', 'r');
  const out = openSync(join(dir, 'out'), 'w+');
  const err = openSync(join(dir, 'err'), 'w+');
  let host: WasiHost | undefined;
  try {
    host = new WasiHost({
      args: options.args ?? ['guest'], env: options.env ?? [], preopens: options.preopens ?? [],
      hiddenPaths: options.hiddenPaths, stdio: [stdin, out, err],
    });
    const instance = await WebAssembly.instantiate(module, host.importObject());
    host.bind(instance);
    const fastLookups = (options.preopens ?? []).map((_, i) => (host!.context.fds.get(3 + i) as PreopenDescriptor).root.fastLookups);
    const exitCode = WasiHost.start(instance);
    return { exitCode, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8'), fastLookups };
  } finally {
    host?.dispose();
    for (const fd of [stdin, out, err]) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
