// What hyrun makes of the transpiler's glue (transpile.ts), apart from the transpiler itself so
// that it can be read and tested without loading jco-transpile.

/** The transpiler's error, as one line. */
export class TranspileError extends Error {}

/**
 * The ES module glue as a CommonJS body (node loads that from a code cache, and faster), with its
 * per-call debug hook (`_debugLog` reads process.env.JCO_DEBUG on every host call: about half the
 * cost of a small call) turned into an immediate return.
 */
export function toCommonJs(glue: string): string {
  let out = glue.replace(/^export function instantiate\(/m, 'function instantiate(');
  out = out.replace(/^export const _util =/m, 'const _util =');
  out = out.replace(/if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}/, 'return;');
  if (/^(export|import) /m.test(out) || !/^function instantiate\(/m.test(out)) {
    throw new TranspileError('the transpiler produced glue of an unexpected shape');
  }
  return `${out}\nmodule.exports = { instantiate };\n`;
}
