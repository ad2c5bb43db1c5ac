// Test setup only (scripts/build-guests.mjs): wit-component's `component embed` and `component new`,
// from jco-transpile's copy of wasm-tools. Bundled like the transpiler (dist/test-component-tools.cjs,
// scripts/build.mjs), so this component too runs on hyrun's own WASI 0.2 host, not preview2-shim.
export { componentEmbed, componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';
