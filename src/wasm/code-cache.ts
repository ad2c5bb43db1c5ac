// What the entry that started this thread (scripts/cached-entry.cjs, written to dist/hyrun.cjs,
// executor.cjs and worker.cjs by the build) did with V8's code cache of its bundle: "used",
// "refused by V8" (node or its flags changed since the build), "absent", or "not used" when the
// bundle was started some other way (tests of the per-file build). Start-up speed only.
export const codeCacheStatus = (): string => {
  const status = (globalThis as Record<symbol, unknown>)[Symbol.for('hyrun.codeCache')];
  return typeof status === 'string' ? status : 'not used';
};

/**
 * During the build's training run only: writes this thread's cache now. A worker thread is ended by
 * terminate(), which runs no exit handler, so it calls this before it reports its result.
 */
export const writeCodeCacheForTraining = (): void => {
  (globalThis as Record<symbol, (() => void) | undefined>)[Symbol.for('hyrun.writeCodeCache')]?.();
};
