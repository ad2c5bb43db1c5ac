// The transpile cache's per-transpiler directory name (component.ts keeps its output under
// <cache>/components/<TRANSPILER_TAG>/<sha256>). Alone in its file so that the cache's collection
// (src/handlers/component-gc.ts, run by creates) knows it without loading the component code.

/**
 * The transpiler's version and the shape of what hyrun keeps of its output (bump GLUE_FORMAT when
 * glue.ts's toCommonJs or component.ts's meta.json change).
 */
const GLUE_FORMAT = 3;
export const TRANSPILER_TAG = `${typeof __HYRUN_TRANSPILER__ === 'string' ? __HYRUN_TRANSPILER__ : 'jco-transpile'}.g${GLUE_FORMAT}`.replace(/[^\w.@-]/g, '_');
