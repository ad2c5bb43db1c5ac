// The sandbox without the native addon (HYRUN_NO_NATIVE=1): every rule must hold on the portable
// paths alone (resolve.ts, node's readdir/lstat/utimes), as on a machine where the addon could not
// be built. Runs the sandbox and filesystem suites again in this process, before anything loads it.
process.env.HYRUN_NO_NATIVE = '1';
await import('./sandbox-escape.test.js');
await import('./sandbox-special-files.test.js');
await import('./wasi-fs-conformance.test.js');
await import('../unit/wasi-fs-resolve.test.js');
