'use strict';
// Written by scripts/build.mjs from scripts/cached-entry.cjs: do not edit in dist/.
// Starts __BODY__ (the bundle) from V8's code cache, __BODY__.cache, which `npm run build` makes by
// running the bundle once: V8 then skips parsing and compiling what that run compiled (~7 ms of a
// hyrun start). The cache is used only with the build it was made from (the bundle's first line
// names the build, and so does the cache's header); V8 refuses it itself when node, V8 or its
// flags differ, and the bundle is then compiled as `require` would. HYRUN_CODE_CACHE=write (the
// build's training runs) writes the cache at exit; write:BODY only BODY's. The same entry serves the CLI, the executor
// and its worker thread.
// hyrun needs node 24 or newer (HYRUN_NODE may name any node): written so that older ones parse it.
if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write('hyrun: node ' + process.versions.node + ' at ' + process.execPath + ' is too old: hyrun needs node 24 or newer (unset HYRUN_NODE to use its own)\n');
  process.exit(125);
}
const fs = require('node:fs');
const { Script } = require('node:vm');
const body = `${__dirname}/__BODY__`;
const source = fs.readFileSync(body, 'utf8');
const firstLine = source.slice(0, source.indexOf('\n'));
const build = firstLine.startsWith('// hyrun build ') ? firstLine : undefined;
let cachedData;
if (build !== undefined) {
  try {
    const cache = fs.readFileSync(`${body}.cache`);
    const headerEnd = cache.indexOf(10);
    if (headerEnd > 0 && cache.toString('latin1', 0, headerEnd) === build) cachedData = cache.subarray(headerEnd + 1);
  } catch {
    // no cache: compile from source
  }
}
// import() in the bundle (wabt, loaded on demand) resolves as it would in a file node loaded itself.
const { USE_MAIN_CONTEXT_DEFAULT_LOADER } = require('node:vm').constants ?? {};
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`,
  { filename: body, cachedData, importModuleDynamically: USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((specifier) => import(specifier)) });
globalThis[Symbol.for('hyrun.codeCache')] = cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'refused by V8' : 'used';
const writeCache = process.env.HYRUN_CODE_CACHE;
if ((writeCache === 'write' || writeCache === 'write:__BODY__') && build !== undefined) {
  const write = () => {
    const tmp = `${body}.cache.${process.pid}.${require('node:worker_threads').threadId}`;
    fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${build}\n`, 'latin1'), script.createCachedData()]));
    fs.renameSync(tmp, `${body}.cache`);
  };
  process.on('exit', write);
  // A worker thread may be ended by terminate(), which runs no exit handler: it calls this instead.
  globalThis[Symbol.for('hyrun.writeCodeCache')] = write;
}
script.runInThisContext()(module.exports, require, module, __filename, __dirname);
