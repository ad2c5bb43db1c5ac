// Tier report: what V8 did with hyrun's tier hints. Tests check hyrun's decision (the
// HYRUN_TRACE_TIERS line, src/wasm/flags.ts); whether V8 compiled each function in the hinted tier
// first, and what it tiered up before exit, depends on V8 and its timing, so it is reported here
// (node --trace-wasm-compilation-times), not asserted.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Section } from '../run.js';
import { benchEnv, guestWasm, progress, repoRoot } from '../lib.js';
import { engineFlags, LIFTOFF_ABOVE } from '../../src/wasm/flags.js';

const RUNS = 5;

interface RunReport { compiled: number; unlikeHint: number; tieredUp: number; bigTieredUp: number }

/** One `hyrun run` under V8's compilation trace, compared with hyrun's hints for the same run. */
function traceOnce(wasm: string, importedFunctions: number, stdin: 'ignore' | 'pipe', extraEnv: Record<string, string>): RunReport {
  const r = spawnSync(process.execPath, ['--trace-wasm-compilation-times', join(repoRoot, 'dist/hyrun.cjs'), 'run', wasm], {
    encoding: 'utf8', maxBuffer: 64 << 20, stdio: [stdin, 'pipe', 'pipe'], env: benchEnv({ HYRUN_TRACE_TIERS: '1', ...extraEnv }),
  });
  if (r.status !== 0) throw new Error(`${wasm} exited ${r.status}: ${r.stderr}`);
  const hints = /^\[tiers\] flags: .*; first tiers: (\w+)$/m.exec(r.stderr)?.[1];
  if (hints === undefined) throw new Error(`no tier decision on stderr: ${r.stderr}`);
  // V8 numbers functions after the imported ones; hints cover the defined ones.
  const first = new Map<number, string>();
  const report: RunReport = { compiled: 0, unlikeHint: 0, tieredUp: 0, bigTieredUp: 0 };
  for (const m of r.stdout.matchAll(/Compiled function \S+#(\d+) using (Liftoff|TurboFan), .*?bodysize (\d+)/g)) {
    const index = Number(m[1]);
    const tier = m[2];
    const earlier = first.get(index);
    if (earlier === undefined) {
      first.set(index, tier);
      report.compiled++;
      const hint = hints === 'none' ? undefined : hints[index - importedFunctions];
      if (hint !== undefined && hint !== tier[0]) report.unlikeHint++;
    } else if (earlier === 'Liftoff' && tier === 'TurboFan') {
      report.tieredUp++;
      if (Number(m[3]) > LIFTOFF_ABOVE) report.bigTieredUp++;
    }
  }
  return report;
}

export async function run(): Promise<Section> {
  const hintsOnly = engineFlags().filter((f) => !f.startsWith('--wasm-tiering-budget')).join(' ');
  const cases: { guest: string; thread: string; stdin: 'ignore' | 'pipe'; flags: string; env: Record<string, string> }[] = [];
  for (const guest of ['hello', 'hello_rust', 'diff_format']) {
    // stdin from /dev/null keeps the guest on the main thread; a socket (node's pipes) puts it on a worker.
    cases.push({ guest, thread: 'main', stdin: 'ignore', flags: "hyrun's", env: {} });
    cases.push({ guest, thread: 'worker', stdin: 'pipe', flags: "hyrun's", env: {} });
  }
  if (hintsOnly !== engineFlags().join(' ')) cases.push({ guest: 'diff_format', thread: 'main', stdin: 'ignore', flags: 'hints only (V8\'s budget)', env: { HYRUN_V8_FLAGS: hintsOnly } });
  const rows: string[][] = [];
  for (const c of cases) {
    const wasm = guestWasm(c.guest);
    const imported = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasm))).filter((i) => i.kind === 'function').length;
    const runs = Array.from({ length: RUNS }, () => traceOnce(wasm, imported, c.stdin, c.env));
    const range = (pick: (r: RunReport) => number): string => {
      const xs = runs.map(pick);
      const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
      return lo === hi ? String(lo) : `${lo}–${hi}`;
    };
    progress(`${c.guest} (${c.thread} thread, ${c.flags} flags): first tier unlike the hint ${range((r) => r.unlikeHint)}`);
    rows.push([c.guest, c.thread, c.flags, range((r) => r.compiled), range((r) => r.unlikeHint), range((r) => r.tieredUp), range((r) => r.bigTieredUp)]);
  }
  return {
    title: 'Tiers: what V8 compiled, against hyrun\'s hints',
    method: `\`node --trace-wasm-compilation-times dist/hyrun.cjs run GUEST\` with HYRUN_TRACE_TIERS=1, ${RUNS} runs per row (min–max over the runs). "unlike the hint": functions whose first compilation used another tier than hyrun's hint asked for; "tiered up": Liftoff functions V8 recompiled with TurboFan before exit ("big": above LIFTOFF_ABOVE = ${LIFTOFF_ABOVE} bytes). Flags: ${engineFlags().join(' ')}.`,
    columns: ['guest', 'guest thread', 'flags', 'functions compiled', 'first tier unlike the hint', 'tiered up', 'big tiered up'],
    rows,
    notes: ['A report, not a test: tests check the hints hyrun writes (test/e2e/executor.test.ts), since the tier V8 reaches depends on its timing.'],
  };
}
