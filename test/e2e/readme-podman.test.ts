// The README's main flow, "Wasm containers with Podman", run as its commands are written: the test
// reads them out of README.md, so a README that drifts from what works fails here. The only
// changes, each required to apply exactly once: `sudo` goes (the tests run as root), `hyrun install
// podman` gets --prefix (a temporary copy instead of /usr/local), and `podman … run` gets this
// machine's ulimits (Podman's defaults are above what this VM allows: crun fails setrlimit).
// The commands run in a temporary directory holding links to this checkout's bin/hyrun and examples/,
// in a private mount namespace whose /etc/containers is a temporary copy (the drop-in lands there),
// with the image store of a PodmanEnv: the machine's configuration and store stay untouched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';
import { copyEtcContainers, PodmanEnv, runWithEtcContainers } from './engines/podman.js';
import { cannotRun, engineFiles, explain } from './engines/tools.js';

const skip = cannotRun(['podman', 'buildah', 'crun', 'unshare', 'mount', 'clang-14']);
const HEADING = '## Wasm containers with Podman (the main flow)';
const MACHINE_ULIMITS = '--ulimit nofile=20000:20000 --ulimit nproc=1000:1000';

/** The first indented code block under `heading` in README.md, without its indentation. */
function readmeCommands(readme: string, heading: string): string {
  const lines = readme.split('\n');
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `README.md has no section "${heading}"`);
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    if (line.startsWith('    ')) block.push(line.slice(4));
    else if (block.length > 0 && line.trim() !== '') break;
    else if (block.length > 0) block.push('');
  }
  assert.ok(block.length > 0, `no commands under "${heading}"`);
  return `${block.join('\n').trimEnd()}\n`;
}

/** `text` with `pattern` replaced; the README must contain it exactly once. */
function edit(text: string, pattern: RegExp, replacement: string, what: string): string {
  const hits = text.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))?.length ?? 0;
  assert.equal(hits, 1, `the README's flow should have exactly one ${what} (found ${hits}):\n${text}`);
  return text.replace(pattern, replacement);
}

describe('README: Wasm containers with Podman (the main flow)', { skip, timeout: 600_000 }, () => {
  let env: PodmanEnv;
  let etc = '';

  before(() => {
    env = new PodmanEnv({ prefix: 'hyrun-readme-podman-' });
    // The harness's settings (no network, cgroupfs, file events) and this env's tmpdir, but not its
    // ulimits: the flow's command line brings them, as a user of this machine would type them.
    const conf = readFileSync(join(engineFiles, 'containers.conf'), 'utf8')
      .replace(/^default_ulimits = .*\n/m, '')
      .replace(/^\[engine\]\n/m, `[engine]\ntmp_dir = "${env.tmp}"\n`);
    etc = copyEtcContainers(env.dir, conf);
  });
  after(() => env?.cleanup());

  test('the commands as written build the image, install hyrun for Podman and end in a greeting', () => {
    const written = readmeCommands(readFileSync(join(repoRoot, 'README.md'), 'utf8'), HEADING);
    const prefix = join(env.dir, 'prefix');
    let script = edit(written, /^sudo +/m, '', '`sudo`');
    script = edit(script, /(\.\/bin\/hyrun install podman)/, `$1 --prefix '${prefix}'`, '`hyrun install podman`');
    script = edit(script, /^(podman .*?\brun\b)/m, `$1 ${MACHINE_ULIMITS}`, '`podman … run`');
    const work = join(env.dir, 'readme');
    mkdirSync(work);
    // bin/hyrun as a link (it follows a link to itself to find dist/; a linked bin/ directory
    // would send node to <work>/dist), examples/ as a linked directory.
    mkdirSync(join(work, 'bin'));
    symlinkSync(join(repoRoot, 'bin/hyrun'), join(work, 'bin/hyrun'));
    symlinkSync(join(repoRoot, 'examples'), join(work, 'examples'));
    writeFileSync(join(work, 'flow.sh'), script);
    const r = runWithEtcContainers(etc, env.env, ['sh', '-ec', 'cd "$0" && . ./flow.sh', work], { timeout: 300_000 });
    assert.equal(r.status, 0, `${script}\n${explain(r)}`);
    // The last command's output: the greeting the image's CMD asks for.
    assert.match(r.stdout, /\nHello, world!\n$/, explain(r));
  });
});
