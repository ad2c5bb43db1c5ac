// What hyrun makes of the transpiler's glue (transpile.ts), apart from the transpiler itself so
// that it can be read and tested without loading jco-transpile.

/** The transpiler's error, as one line. */
export class TranspileError extends Error {}

/** The import object key under which the glue hands over its per-instance state (instance-reset.ts). */
const STATE_HOOK = "Symbol.for('hyrun.instance-state')";

/**
 * The ES module glue as a CommonJS body (node loads that from a code cache, and faster), with its
 * per-call debug hook (`_debugLog` reads process.env.JCO_DEBUG on every host call: about half the
 * cost of a small call) turned into an immediate return, and its resource handle tables and host
 * resource maps handed to the caller when the import object asks for them (so that an HTTP
 * component's instance can be reset rather than made again). Glue of another shape still works: it
 * hands over nothing, and its instances are made afresh.
 */
export function toCommonJs(glue: string): string {
  let out = glue.replace(/^export function instantiate\((.*)\) \{$/m, (_, params: string) =>
    `function instantiate(${params}) {\n  const hyrunState = imports[${STATE_HOOK}];`);
  out = out.replace(/^(\s*)const HANDLE_TABLES\s*=\s*\[\];$/m, '$1const HANDLE_TABLES = [];\n$1if (hyrunState) hyrunState.handleTables = HANDLE_TABLES;');
  out = out.replace(/^(\s*)const (captureTable\d+)\s*=\s*new Map\(\);$/gm, '$1const $2 = new Map();\n$1if (hyrunState) hyrunState.captures.push($2);');
  out = out.replace(/^export const _util =/m, 'const _util =');
  out = out.replace(/if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}/, 'return;');
  if (/^(export|import) /m.test(out) || !/^function instantiate\(/m.test(out)) {
    throw new TranspileError('the transpiler produced glue of an unexpected shape');
  }
  return `${out}\nmodule.exports = { instantiate };\n`;
}
