// wasi:http/types `fields` (headers and trailers): names and values checked as the WIT asks
// (header-error invalid-syntax / forbidden / immutable). Names are kept lower-case, as HTTP/2 and
// wasmtime have them; values are bytes.

/** `header-error` as the glue throws it from a result. */
type HeaderError = { tag: 'invalid-syntax' } | { tag: 'forbidden' } | { tag: 'immutable' };
const invalidSyntax: HeaderError = { tag: 'invalid-syntax' };
const forbidden: HeaderError = { tag: 'forbidden' };
const immutable: HeaderError = { tag: 'immutable' };

/**
 * Headers a guest may not set: the hop-by-hop ones the host's HTTP stack owns, and `host`, which
 * the request's authority sets (the names wasmtime's wasi-http refuses by default).
 */
export const FORBIDDEN_HEADERS = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'host']);

/** RFC 9110 token: the characters a field name may have. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export const validName = (name: string): boolean => TOKEN.test(name);

/** RFC 9110 field-value: visible ASCII, obs-text, spaces and tabs inside, no CR, LF or NUL; no leading or trailing whitespace. */
export function validValue(value: Uint8Array): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === 0x7f || (c < 0x20 && c !== 0x09)) return false;
  }
  if (value.length > 0) {
    const first = value[0]!, last = value[value.length - 1]!;
    if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  }
  return true;
}

function checked(name: string, value?: Uint8Array): string {
  if (!validName(name)) throw invalidSyntax;
  const lower = name.toLowerCase();
  if (FORBIDDEN_HEADERS.has(lower)) throw forbidden;
  if (value !== undefined && !validValue(value)) throw invalidSyntax;
  return lower;
}

const encoder = new TextEncoder();

export class Fields {
  /** In insertion order; a name may repeat. */
  private entriesList: [string, Uint8Array][] = [];
  /** Set on headers a request or response owns (incoming ones, and a body's once it is sent). */
  private frozen = false;

  static fromList(entries: [string, Uint8Array][]): Fields {
    const f = new Fields();
    for (const [name, value] of entries) f.entriesList.push([checked(name, value), value.slice()]);
    return f;
  }

  /** Fields the host made from what it received (node's raw header list): immutable to the guest. */
  static received(raw: string[]): Fields {
    const f = new Fields();
    for (let i = 0; i + 1 < raw.length; i += 2) f.entriesList.push([raw[i]!.toLowerCase(), encoder.encode(raw[i + 1]!)]);
    f.frozen = true;
    return f;
  }

  /** Makes these fields immutable (once a request, response or body owns them). */
  freeze(): this {
    this.frozen = true;
    return this;
  }

  get(name: string): Uint8Array[] {
    const lower = name.toLowerCase();
    return this.entriesList.filter(([n]) => n === lower).map(([, v]) => v.slice());
  }

  has(name: string): boolean {
    const lower = name.toLowerCase();
    return this.entriesList.some(([n]) => n === lower);
  }

  set(name: string, values: Uint8Array[]): void {
    if (this.frozen) throw immutable;
    const lower = checked(name);
    for (const v of values) if (!validValue(v)) throw invalidSyntax;
    this.entriesList = this.entriesList.filter(([n]) => n !== lower);
    for (const v of values) this.entriesList.push([lower, v.slice()]);
  }

  delete(name: string): void {
    if (this.frozen) throw immutable;
    const lower = checked(name);
    this.entriesList = this.entriesList.filter(([n]) => n !== lower);
  }

  append(name: string, value: Uint8Array): void {
    if (this.frozen) throw immutable;
    this.entriesList.push([checked(name, value), value.slice()]);
  }

  entries(): [string, Uint8Array][] {
    return this.entriesList.map(([n, v]) => [n, v.slice()]);
  }

  /** A mutable copy. */
  clone(): Fields {
    const f = new Fields();
    f.entriesList = this.entries();
    return f;
  }

  /** As node's http takes headers: a flat [name, value, …] list, values as latin1 strings (bytes kept). */
  toRaw(): string[] {
    return this.entriesList.flatMap(([n, v]) => [n, Buffer.from(v).toString('latin1')]);
  }

  /** As an object of name -> value(s), for node's client (which adds Host only to object headers). */
  toObject(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [n, v] of this.entriesList) {
      const text = Buffer.from(v).toString('latin1');
      const had = out[n];
      out[n] = had === undefined ? text : Array.isArray(had) ? [...had, text] : [had, text];
    }
    return out;
  }

  [Symbol.dispose](): void {}
}
