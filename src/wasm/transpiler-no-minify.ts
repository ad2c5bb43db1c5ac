// What the transpiler bundle has in place of jco-transpile's minifier, oxc-minify (a native
// package, loaded when the transpiler loads): hyrun never asks jco to minify, and an installed
// hyrun (hyrun install, the release) has no node_modules to find it in (scripts/build.mjs).
export function minify(): never {
  throw new Error("hyrun's component transpiler does not minify");
}
