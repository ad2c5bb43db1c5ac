// The sandbox without openat2 (HYRUN_NO_OPENAT2=1, as on a kernel before 5.6 or under a seccomp
// profile that refuses it): every lookup walks component by component on held descriptors
// (resolve.ts alone, no fast.ts shortcut), and every rule must hold the same. Runs the sandbox and
// filesystem suites again in this process, before anything loads the addon.
process.env.HYRUN_NO_OPENAT2 = '1';
await import('./sandbox-escape.test.js');
await import('./sandbox-special-files.test.js');
await import('./wasi-fs-conformance.test.js');
await import('../unit/wasi-fs-resolve.test.js');
