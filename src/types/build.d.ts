// Constants scripts/build.mjs defines at build time.
/** The component transpiler that built this hyrun (`@bytecodealliance/jco-transpile@VERSION`): part of the transpile cache's key. */
declare const __HYRUN_TRANSPILER__: string;
