// `npm run bench`: runs the suites in bench/suites/, prints their tables, rewrites docs/benchmarks.md.
//
//   node dist/bench/run.js [SUITE...]     run only the named suites (docs are then NOT rewritten)
//
// Suite interface. A suite is a module bench/suites/NAME.ts exporting
//
//   export async function run(): Promise<Section>
//
// where Section (below) is one table plus notes and the targets it checks. Suites run one after
// another (never concurrently: two cores), in file-name order. They print progress to stderr only;
// this runner prints every table to stdout and writes all of them into docs/benchmarks.md. Keep a
// suite under ~3 minutes on 2 cores (scale iteration counts, not the number of runs below 5).
import { writeFileSync, readdirSync } from 'node:fs';
import { cpus, availableParallelism, loadavg as osLoadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot, STRIPPED_NODE_VARS } from './lib.js';

export interface Target {
  /** What is promised, e.g. "hyrun geo-mean ≥ 0.7× native". */
  description: string;
  /** What was measured, e.g. "0.74×". */
  measured: string;
  met: boolean;
}

export interface Section {
  title: string;
  /** One paragraph saying what is measured and how (runs, statistic, ratio direction). */
  method: string;
  columns: string[];
  rows: string[][];
  notes?: string[];
  targets?: Target[];
}

export function markdownTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ')} |`;
  return [line(columns), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

function sectionMarkdown(s: Section): string {
  const parts = [`## ${s.title}`, '', s.method, '', markdownTable(s.columns, s.rows)];
  if (s.targets?.length) {
    parts.push('', ...s.targets.map((t) => `- Target: ${t.description}: measured ${t.measured}: **${t.met ? 'met' : 'NOT met'}**`));
  }
  if (s.notes?.length) parts.push('', ...s.notes.map((n) => `- ${n}`));
  return parts.join('\n');
}

// The figures are hyrun's pinned node's (npm run bench puts it first on PATH); the system's node
// (20 on this machine kind) lacks JSPI and zstd, and its figures would say nothing of hyrun's.
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`bench: run it with npm run bench (hyrun's pinned node), not on node ${process.version}`);
  process.exit(1);
}

const setHere = STRIPPED_NODE_VARS.filter((v) => process.env[v] !== undefined);
const loadavg = (): string => osLoadavg().map((x) => x.toFixed(2)).join(' ');

function machine(loadBefore: string): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return [
    `- Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `- Machine: ${availableParallelism()} CPUs (nproc), ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}`,
    `- Node ${process.versions.node}, V8 ${process.versions.v8}`,
    // Other work on the machine shows up as noise; the load average says how much there was.
    `- Load average (1/5/15 min) before the run: ${loadBefore}; after: ${loadavg()}`,
    `- Commands run without ${STRIPPED_NODE_VARS.join(', ')}${setHere.length ? ` (this machine sets ${setHere.join(', ')})` : ''}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const dir = join(repoRoot, 'dist/bench/suites');
  const all = readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.replace(/\.js$/, '')).sort();
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length) {
    process.stderr.write(`bench: no suite named ${unknown.join(', ')}; available: ${all.join(', ')}\n`);
    process.exit(2);
  }
  const names = wanted.length ? wanted : all;
  const loadBefore = loadavg();
  const sections: Section[] = [];
  const failures: string[] = [];
  for (const name of names) {
    const started = Date.now();
    process.stderr.write(`bench: suite ${name}\n`);
    try {
      const mod = (await import(join(dir, `${name}.js`))) as { run: () => Promise<Section> };
      const section = await mod.run();
      sections.push(section);
      process.stdout.write(`\n${sectionMarkdown(section)}\n`);
    } catch (error) {
      // One broken suite must not hide the others' numbers.
      failures.push(`${name}: ${(error as Error).message}`);
      process.stderr.write(`bench: suite ${name} failed: ${(error as Error).stack}\n`);
    }
    process.stderr.write(`bench: suite ${name} took ${((Date.now() - started) / 1000).toFixed(0)}s\n`);
  }
  if (wanted.length) {
    process.stderr.write('bench: partial run (suites named): docs/benchmarks.md left unchanged\n');
  } else {
    const targets = sections.flatMap((s) => (s.targets ?? []).map((t) => `| ${s.title} | ${t.description} | ${t.measured} | ${t.met ? 'met' : '**NOT met**'} |`));
    const doc = [
      '# Benchmarks',
      '',
      'Written by `npm run bench` (bench/run.ts); do not edit by hand. Ratios, not absolute times, are',
      'the results: each table says which way its ratio points.',
      '',
      machine(loadBefore),
      '',
      '## Targets',
      '',
      '| suite | target | measured | |',
      '| --- | --- | --- | --- |',
      ...targets,
      ...(failures.length ? ['', ...failures.map((f) => `- Suite failed, no numbers: ${f}`)] : []),
      '',
      ...sections.map((s) => `${sectionMarkdown(s)}\n`),
    ].join('\n');
    writeFileSync(join(repoRoot, 'docs/benchmarks.md'), doc);
    process.stderr.write('bench: wrote docs/benchmarks.md\n');
  }
  if (failures.length) process.exitCode = 1;
}

await main();
