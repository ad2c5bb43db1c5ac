// Go's path.Match, the function containerd applies to each annotation key with each pattern of a
// runtime's pod_annotations / container_annotations. Its `*` and `?` never match '/', so
// `module.wasm.image/*` passes `module.wasm.image/variant` while the pattern many guides give,
// `module.wasm.image/variant.*`, does not. Written from Go's documented grammar:
//   pattern: { term }
//   term: '*' (any sequence of non-'/' characters) | '?' (one non-'/' character)
//       | '[' [ '^' ] { character-range } ']' | c (matches c, c != '*', '?', '\\', '[') | '\\' c
//   character-range: c | c '-' c
// A malformed pattern (unclosed class, trailing backslash) is an error, as Go's ErrBadPattern.

export class BadPatternError extends Error {}

/** True when `name` matches `pattern` as Go's path.Match says; throws BadPatternError when malformed. */
export function pathMatch(pattern: string, name: string): boolean {
  checkPattern(pattern);
  return matchFrom([...pattern], 0, [...name], 0);
}

function matchFrom(p: string[], pi: number, n: string[], ni: number): boolean {
  while (pi < p.length) {
    const c = p[pi]!;
    if (c === '*') {
      // Collapse runs of stars; then try every split that does not cross a '/'.
      while (p[pi] === '*') pi++;
      for (let k = ni; ; k++) {
        if (matchFrom(p, pi, n, k)) return true;
        if (k >= n.length || n[k] === '/') return false;
      }
    }
    if (ni >= n.length) return false;
    if (c === '?') {
      if (n[ni] === '/') return false;
      pi++; ni++;
      continue;
    }
    if (c === '[') {
      const { matched, next } = matchClass(p, pi, n[ni]!);
      if (!matched) return false;
      pi = next; ni++;
      continue;
    }
    const literal = c === '\\' ? p[pi + 1]! : c;
    if (n[ni] !== literal) return false;
    pi += c === '\\' ? 2 : 1;
    ni++;
  }
  return ni === n.length;
}

/** Matches one character against the class starting at p[pi] === '['; Go's classes never match '/'. */
function matchClass(p: string[], pi: number, ch: string): { matched: boolean; next: number } {
  let i = pi + 1;
  const negated = p[i] === '^';
  if (negated) i++;
  let inRange = false;
  let first = true;
  while (first || p[i] !== ']') {
    first = false;
    let lo = p[i]!;
    if (lo === '\\') lo = p[++i]!;
    i++;
    let hi = lo;
    if (p[i] === '-' && p[i + 1] !== ']') {
      hi = p[i + 1]!;
      if (hi === '\\') { hi = p[i + 2]!; i++; }
      i += 2;
    }
    if (lo <= ch && ch <= hi) inRange = true;
  }
  return { matched: ch !== '/' && inRange !== negated, next: i + 1 };
}

function checkPattern(pattern: string): void {
  const p = [...pattern];
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\') {
      if (i + 1 >= p.length) throw new BadPatternError(`pattern "${pattern}" ends in a backslash`);
      i++;
    } else if (p[i] === '[') {
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']') throw new BadPatternError(`pattern "${pattern}" has an empty character class`);
      while (j < p.length && p[j] !== ']') {
        if (p[j] === '\\') j++;
        else if (p[j] === '-' && (j === i + 1 || p[j + 1] === undefined)) throw new BadPatternError(`pattern "${pattern}" has a bad range`);
        j++;
      }
      if (j >= p.length) throw new BadPatternError(`pattern "${pattern}" has an unclosed '['`);
      i = j;
    }
  }
}

/** The annotation keys a Wasm pod needs to reach hyrun (docs/kubernetes.md). */
export const WASM_ANNOTATION_KEYS = ['module.wasm.image/variant', 'run.oci.handler'] as const;

/** Which of `keys` pass at least one of `patterns` (bad patterns count as matching nothing, as in containerd). */
export function passedKeys(patterns: readonly string[], keys: readonly string[]): string[] {
  return keys.filter((key) => patterns.some((pattern) => {
    try {
      return pathMatch(pattern, key);
    } catch {
      return false;
    }
  }));
}
