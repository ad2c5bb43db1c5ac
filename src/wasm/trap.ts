// Turns what V8 throws when a guest traps into one line naming the trap and where it happened:
//   wasm trap: unreachable executed at crash_now <- main <- _start
// Function names come from V8's stack, which uses the module's name section when present
// (otherwise `wasm-function[N]`).

const TRAP_TEXT: [RegExp, string][] = [
  [/^unreachable$/i, 'unreachable executed'],
  // The component glue's wording (wasmtime's), once its `wasm trap: ` prefix is dropped.
  [/^wasm `unreachable` instruction executed$/i, 'unreachable executed'],
  [/divide by zero/i, 'integer divide by zero'],
  [/remainder by zero/i, 'integer divide by zero'],
  [/integer overflow|divide result unrepresentable/i, 'integer overflow'],
  [/float unrepresentable|invalid conversion/i, 'invalid conversion to integer'],
  [/memory access out of bounds|^out of bounds memory access$/i, 'out of bounds memory access'],
  [/table index is out of bounds|table access out of bounds/i, 'undefined element: table index out of bounds'],
  [/null function|signature mismatch/i, 'indirect call type mismatch'],
  [/invalid index into function table/i, 'undefined element: table index out of bounds'],
  [/Maximum call stack size exceeded/i, 'call stack exhausted'],
  [/(data|element) segment.*out of bounds/i, 'out of bounds memory access (segment initialisation)'],
];

/** True for errors that mean the guest trapped (as opposed to a host bug). */
export function isTrap(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.constructor?.name === 'RuntimeError') return true;
  // Stack overflow inside wasm surfaces as a RangeError whose stack holds wasm frames.
  return error instanceof RangeError && /Maximum call stack size exceeded/.test(error.message);
}

/** The wasm function names on a V8 stack trace, innermost first. */
export function wasmFrames(stack: string, exportNames: Record<number, string> = {}): string[] {
  const names: string[] = [];
  for (const line of stack.split('\n')) {
    const m = /^\s*at (?:(.*?) \()?(?:wasm:\/\/wasm\/[^:]*):wasm-function\[(\d+)\]:0x[0-9a-f]+\)?\s*$/.exec(line);
    if (m === null) continue;
    const name = m[1];
    names.push(name !== undefined && name !== '' ? name : exportNames[Number(m[2])] ?? `wasm-function[${m[2]}]`);
  }
  return names;
}

/** Collapses runs of the same name (deep recursion) into `name ×N`. */
function collapse(names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < names.length;) {
    let j = i;
    while (j < names.length && names[j] === names[i]) j++;
    out.push(j - i > 1 ? `${names[i]} ×${j - i}` : names[i]);
    i = j;
  }
  return out;
}

/** One line, without the `hyrun: ` prefix, e.g. `wasm trap: integer divide by zero at div <- main <- _start`. */
export function formatTrap(error: unknown, exportNames: Record<number, string> = {}): string {
  const err = error as Error;
  const raw = String(err?.message ?? error).replace(/^wasm trap: /, '');
  let what = raw;
  for (const [re, text] of TRAP_TEXT) {
    if (re.test(raw)) {
      what = text;
      break;
    }
  }
  const frames = collapse(wasmFrames(String(err?.stack ?? ''), exportNames));
  const where = frames.length > 0 ? ` at ${frames.join(' <- ')}` : '';
  return `wasm trap: ${what}${where}`.replace(/\s*\n\s*/g, ' ');
}
