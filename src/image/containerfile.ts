// Containerfile parsing (dockerfile-ast) into a list of steps, with `$VAR`/`${VAR}` expansion where
// Docker expands it (FROM, COPY, ADD, ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL, ARG),
// and .containerignore/.dockerignore matching. dockerfile-ast does not expand variables.
import { DockerfileParser } from 'dockerfile-ast';
import { ImageError } from './errors.js';

export interface Step {
  keyword: string;
  /** 1-based line number, for messages. */
  line: number;
  /** Flags such as --from, --chown, --chmod (COPY/ADD) or --platform (FROM). */
  flags: Record<string, string>;
  /** Raw argument text after the keyword and flags. */
  text: string;
  /** Whitespace-separated arguments (quotes kept as written). */
  args: string[];
  /** KEY=VALUE pairs for ENV, LABEL, ARG (dockerfile-ast's reading of quotes and the legacy `ENV K V`). */
  properties: [string, string | null][];
  /** FROM: image name, stage name. */
  from?: { image: string; stage?: string };
}

const SUPPORTED = new Set(['FROM', 'COPY', 'ADD', 'CMD', 'ENTRYPOINT', 'ENV', 'WORKDIR', 'LABEL', 'USER', 'ARG', 'EXPOSE', 'VOLUME', 'STOPSIGNAL', 'RUN', 'MAINTAINER', 'SHELL', 'HEALTHCHECK', 'ONBUILD']);

export function parseContainerfile(text: string, file = 'Containerfile'): Step[] {
  const doc = DockerfileParser.parse(text);
  const steps: Step[] = [];
  for (const ins of doc.getInstructions()) {
    const keyword = ins.getKeyword().toUpperCase();
    const line = ins.getRange().start.line + 1;
    if (!SUPPORTED.has(keyword)) throw new ImageError(`${file}:${line}: unknown instruction ${JSON.stringify(ins.getKeyword())}; see 'hyrun help build' for the instructions hyrun supports`);
    const flags: Record<string, string> = {};
    const withFlags = ins as unknown as { getFlags?: () => { getName(): string; getValue(): string | null }[] };
    for (const f of withFlags.getFlags?.() ?? []) flags[f.getName()] = f.getValue() ?? '';
    const argsAll = ins.getArguments().map((a) => a.getValue());
    // Arguments after the flags: dockerfile-ast lists flags separately only for some instructions.
    const args = argsAll.filter((a) => !(a.startsWith('--') && Object.keys(flags).some((k) => a.startsWith(`--${k}`))));
    const content = ins.getArgumentsContent() ?? '';
    const text2 = stripFlags(content, Object.keys(flags).length);
    const withProps = ins as unknown as { getProperties?: () => { getName(): string; getValue(): string | null }[] };
    const properties: [string, string | null][] = (withProps.getProperties?.() ?? []).map((p) => [p.getName(), p.getValue()]);
    const step: Step = { keyword, line, flags, text: text2, args, properties };
    if (keyword === 'FROM') {
      if (args.length === 0) throw new ImageError(`${file}:${line}: FROM needs an image name, e.g. FROM scratch`);
      if (args.length !== 1 && !(args.length === 3 && args[1].toUpperCase() === 'AS')) {
        throw new ImageError(`${file}:${line}: malformed FROM: write FROM IMAGE [AS NAME]`);
      }
      step.from = { image: args[0], stage: args[2] };
    }
    if ((keyword === 'COPY' || keyword === 'ADD') && args.length < 2) {
      throw new ImageError(`${file}:${line}: ${keyword} needs at least one source and a destination`);
    }
    if (['CMD', 'ENTRYPOINT', 'WORKDIR', 'USER', 'STOPSIGNAL'].includes(keyword) && content.trim() === '' && keyword !== 'CMD' && keyword !== 'ENTRYPOINT') {
      throw new ImageError(`${file}:${line}: ${keyword} needs an argument`);
    }
    steps.push(step);
  }
  const firstReal = steps.find((s) => s.keyword !== 'ARG');
  if (!firstReal) throw new ImageError(`${file}: no FROM instruction; a Containerfile starts with FROM (e.g. FROM scratch)`);
  if (firstReal.keyword !== 'FROM') throw new ImageError(`${file}:${firstReal.line}: ${firstReal.keyword} before FROM; the first instruction must be FROM (only ARG may precede it)`);
  return steps;
}

/** The argument text with its first `count` `--flag[=value]` words removed. */
function stripFlags(content: string, count: number): string {
  let rest = content.trimStart();
  for (let i = 0; i < count; i++) {
    const m = /^--\S+\s*/.exec(rest);
    if (!m) break;
    rest = rest.slice(m[0].length);
  }
  return rest.trim();
}

/**
 * Expands $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alternative}; `\$` keeps a literal dollar. Unknown
 * variables expand to the empty string, as Docker does. Single-quoted text is not expanded.
 */
export function expand(text: string, vars: Map<string, string>): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && text[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (c === "'" && quote !== '"') quote = quote === "'" ? undefined : "'";
    else if (c === '"' && quote !== "'") quote = quote === '"' ? undefined : '"';
    if (c !== '$' || quote === "'") {
      out += c;
      continue;
    }
    if (text[i + 1] === '{') {
      const end = text.indexOf('}', i + 2);
      if (end < 0) throw new ImageError(`unterminated \${ in ${JSON.stringify(text)}`);
      const body = text.slice(i + 2, end);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(body);
      if (!m) throw new ImageError(`bad substitution \${${body}} in ${JSON.stringify(text)}`);
      const value = vars.get(m[1]);
      if (m[2] === '-') out += value === undefined || value === '' ? expand(m[3], vars) : value;
      else if (m[2] === '+') out += value === undefined || value === '' ? '' : expand(m[3], vars);
      else out += value ?? '';
      i = end;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (!m) {
      out += c;
      continue;
    }
    out += vars.get(m[0]) ?? '';
    i += m[0].length;
  }
  return out;
}

/** Removes one level of surrounding quotes from a word (for values like "a b"). */
export const unquote = (s: string): string => (s.length >= 2 && ((s[0] === '"' && s.at(-1) === '"') || (s[0] === "'" && s.at(-1) === "'")) ? s.slice(1, -1) : s);

/** Exec form (JSON array of strings) or undefined when the text is shell form. */
export function execForm(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // Docker treats a malformed JSON array as shell form
  }
  return undefined;
}

// ---- globs and ignore files

/** A glob (`*`, `?`, `[…]`, and `**` for any number of path segments) as a RegExp over a whole path. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more directories; a trailing `**` matches everything below
        if (pattern[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!') || body.startsWith('^')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export const hasGlob = (s: string): boolean => /[*?[]/.test(s);

/** Normalises a relative path: no leading ./ or /, no trailing /, `.` segments removed. */
export function cleanRelative(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

export interface IgnoreRule { re: RegExp; negate: boolean }

/** Reads .containerignore/.dockerignore text: one pattern a line, `#` comments, `!` re-includes. */
export function parseIgnore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    const pattern = cleanRelative(line);
    if (pattern === '') continue;
    rules.push({ re: globToRegExp(pattern), negate });
  }
  return rules;
}

/** True when the context-relative path is excluded (a path is also excluded when a parent is). */
export function isIgnored(path: string, rules: IgnoreRule[]): boolean {
  if (rules.length === 0) return false;
  const segs = path.split('/');
  let ignored = false;
  for (const rule of rules) {
    for (let n = 1; n <= segs.length; n++) {
      if (rule.re.test(segs.slice(0, n).join('/'))) {
        ignored = !rule.negate;
        break;
      }
    }
  }
  return ignored;
}
