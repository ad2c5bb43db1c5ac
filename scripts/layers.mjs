// Prints every import between the folders of src/ and checks hyrun's layer rule:
//  - a folder imports only folders on lower rows of LAYERS, never one above or beside it. Every
//    import counts here, type-only and lazy (`import()`) ones too: they still tie a lower layer to
//    an upper one;
//  - no files import values from each other in a circle. Type-only imports are left out of this
//    one: the compiler erases them, so they cannot decide which module loads first.
//   node scripts/layers.mjs            the cross-folder imports, then the problems (exit 1 if any)
//   node scripts/layers.mjs --quiet    the problems only
//   node scripts/layers.mjs --src DIR  another tree (test/unit/layers.test.ts checks the checker)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Top to bottom; docs/architecture.md shows the same rows. */
const LAYERS = [
  ['cli'],
  ['engine', 'containers'],
  ['runtime', 'image'],
  ['handlers'],
  ['wasm', 'oci'],
  ['wasi'],
  ['types'],
];

const args = process.argv.slice(2);
const srcAt = args.indexOf('--src');
const src = resolve(srcAt >= 0 ? args[srcAt + 1] : join(new URL('..', import.meta.url).pathname, 'src'));
const quiet = args.includes('--quiet');

const rowOf = new Map(LAYERS.flatMap((row, i) => row.map((folder) => [folder, i])));
const walk = (dir) => readdirSync(dir).flatMap((name) => {
  const p = join(dir, name);
  return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
});
const folderOf = (file) => relative(src, file).split('/')[0];
const show = (file) => `src/${relative(src, file)}`;

/** `./x.js` as written in an import, to the .ts file it names (undefined: a package or node: module). */
function target(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.d.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c)) ?? base;
}

/** Every module a file names: static imports and re-exports, `import()` calls, `typeof import()` types. */
function importsOf(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = [];
  const add = (specifier, typeOnly) => {
    if (specifier && ts.isStringLiteralLike(specifier)) found.push({ spec: specifier.text, typeOnly });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const onlyTypes = clause !== undefined && (clause.isTypeOnly || (!clause.name && named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, onlyTypes);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = walk(src).sort();
/** file -> [{ to, typeOnly }], one entry per imported file (a value import wins over a type-only one) */
const graph = new Map(files.map((file) => {
  const edges = new Map();
  for (const { spec, typeOnly } of importsOf(file)) {
    const to = target(file, spec);
    if (to !== undefined) edges.set(to, (edges.get(to) ?? true) && typeOnly);
  }
  return [file, [...edges].map(([to, typeOnly]) => ({ to, typeOnly }))];
}));

const problems = [];
for (const folder of new Set(files.map(folderOf))) {
  if (!rowOf.has(folder)) problems.push(`src/${folder} has no place in LAYERS (scripts/layers.mjs): put it on a row`);
}
const crossing = [];
for (const [file, edges] of graph) {
  for (const { to, typeOnly } of edges) {
    const [a, b] = [folderOf(file), folderOf(to)];
    if (a === b) continue;
    crossing.push(`${show(file)} -> ${show(to)}${typeOnly ? ' (types)' : ''}`);
    if (!rowOf.has(a) || !rowOf.has(b)) continue;
    if (rowOf.get(b) < rowOf.get(a)) problems.push(`upward: ${show(file)} imports ${show(to)} (src/${b} is above src/${a})`);
    else if (rowOf.get(b) === rowOf.get(a)) problems.push(`sideways: ${show(file)} imports ${show(to)} (src/${a} and src/${b} share a row)`);
  }
}
const values = new Map([...graph].map(([file, edges]) => [file, edges.filter((e) => !e.typeOnly).map((e) => e.to)]));
for (const circle of circles(values)) problems.push(`circle: ${circle.map(show).join(', ')} import values from each other (directly or through one another)`);

if (!quiet) {
  console.log(`imports between folders of ${src} (${crossing.length}):`);
  for (const line of crossing) console.log(`  ${line}`);
  console.log(`layers, top to bottom: ${LAYERS.map((row) => row.join(' ')).join(' | ')}`);
}
for (const p of problems) console.log(p);
if (!quiet && problems.length === 0) console.log('no upward or sideways import, no circle');
process.exitCode = problems.length > 0 ? 1 : 0;

/** The files that import each other in a circle: strongly connected components of more than one file (Tarjan). */
function circles(g) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}
