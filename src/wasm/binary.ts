// Just enough of the Wasm binary format to (1) say what a file is when it is not a module, and
// (2) cap linear memory: the memory section's (and a memory import's) `limits` get a maximum of at
// most the cap, so memory.grow beyond it returns -1 to the guest instead of the host running out.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Whether bytes begin with the `\0asm` magic (any version: describeNonModule tells them apart). */
export const hasWasmMagic = (head: Uint8Array): boolean => head.length >= 4 && WASM_MAGIC.every((b, i) => head[i] === b);

/** Whether a file's first 8 bytes are a component's: the Wasm magic, any version, layer 1 (the binary says so, not the file name). */
export const isComponentHeader = (head: Uint8Array): boolean => head.length >= 8 && hasWasmMagic(head) && head[6] === 1 && head[7] === 0;

/**
 * Up to `length` first bytes of a regular file; undefined when it is not one or cannot be read.
 * The type is checked before opening: opening a FIFO named by a container's or user's path would block.
 */
export function readFileHead(path: string, length: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    if (!statSync(path).isFile()) return undefined;
    fd = openSync(path, 'r');
    const head = Buffer.alloc(length);
    return head.subarray(0, readSync(fd, head, 0, length, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
export const PAGE = 65536;

/** Reads an unsigned LEB128 at pos; values up to 2^53 are exact (enough for memory64 limits). */
export function readULeb(bytes: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length) throw new Error('truncated LEB128');
    const b = bytes[pos++];
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return { value, next: pos };
    scale *= 128;
  }
  throw new Error('LEB128 too long');
}

/** Encodes an unsigned LEB128 (minimal length). */
export function writeULeb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

export interface Section { id: number; start: number; end: number; headerStart: number }

/** The top-level sections of a module (start/end delimit the payload). */
export function sections(bytes: Uint8Array): Section[] {
  const out: Section[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const headerStart = pos;
    const id = bytes[pos++];
    const size = readULeb(bytes, pos);
    const start = size.next;
    const end = start + size.value;
    if (end > bytes.length) throw new Error('section extends past the end of the module');
    out.push({ id, start, end, headerStart });
    pos = end;
  }
  return out;
}

export interface Limits { flags: number; min: number; max?: number }

/** Parses a memory type's limits at pos. */
export function readLimits(bytes: Uint8Array, pos: number): { limits: Limits; next: number } {
  const flags = bytes[pos++];
  const min = readULeb(bytes, pos);
  pos = min.next;
  let max: number | undefined;
  if ((flags & 1) !== 0) {
    const m = readULeb(bytes, pos);
    max = m.value;
    pos = m.next;
  }
  return { limits: { flags, min: min.value, max }, next: pos };
}

function encodeLimits(l: Limits): number[] {
  return [l.flags, ...writeULeb(l.min), ...(l.max !== undefined ? writeULeb(l.max) : [])];
}

export const skipName = (bytes: Uint8Array, pos: number): { name: string; next: number } => {
  const len = readULeb(bytes, pos);
  const name = new TextDecoder().decode(bytes.subarray(len.next, len.next + len.value));
  return { name, next: len.next + len.value };
};

/** Skips an import description of the given kind, returning the position after it. */
export function skipImportDesc(bytes: Uint8Array, kind: number, pos: number): number {
  switch (kind) {
    case 0x00: return readULeb(bytes, pos).next; // function: type index
    case 0x01: { // table: reftype + limits
      return readLimits(bytes, pos + 1).next;
    }
    case 0x02: return readLimits(bytes, pos).next;
    case 0x03: return pos + 2; // global: valtype + mut
    case 0x04: return readULeb(bytes, pos + 1).next; // tag: attribute + type index
    default: throw new Error(`unknown import kind ${kind}`);
  }
}

export interface MemoryImport { module: string; name: string; limits: Limits }

/** Memories the module imports (at most one in practice), with their declared limits. */
export function memoryImports(bytes: Uint8Array): MemoryImport[] {
  const out: MemoryImport[] = [];
  for (const s of sections(bytes)) {
    if (s.id !== 2) continue;
    const count = readULeb(bytes, s.start);
    let pos = count.next;
    for (let i = 0; i < count.value; i++) {
      const mod = skipName(bytes, pos);
      const field = skipName(bytes, mod.next);
      const kind = bytes[field.next];
      if (kind === 0x02) out.push({ module: mod.name, name: field.name, limits: readLimits(bytes, field.next + 1).limits });
      pos = skipImportDesc(bytes, kind, field.next + 1);
    }
  }
  return out;
}

/** Raised when the module's initial memory alone is above the cap. */
export class MemoryCapError extends Error {
  constructor(readonly initialBytes: number, readonly capBytes: number) {
    super(`initial memory ${initialBytes} bytes exceeds the memory limit of ${capBytes} bytes`);
  }
}

/**
 * Returns the module with every defined memory's maximum lowered to at most capBytes (rounded down to
 * whole 64 KiB pages). Memories without a maximum get one. Throws MemoryCapError when a memory's
 * initial size is already above the cap. Imported memories are left as declared: the executor
 * creates them itself with the capped maximum.
 */
export function capMemory(bytes: Uint8Array, capBytes: number): Uint8Array {
  const capPages = Math.floor(capBytes / PAGE);
  for (const imp of memoryImports(bytes)) {
    if (imp.limits.min > capPages) throw new MemoryCapError(imp.limits.min * PAGE, capBytes);
  }
  const memSection = sections(bytes).find((s) => s.id === 5);
  if (memSection === undefined) return bytes;
  const count = readULeb(bytes, memSection.start);
  let pos = count.next;
  const payload: number[] = [...writeULeb(count.value)];
  for (let i = 0; i < count.value; i++) {
    const { limits, next } = readLimits(bytes, pos);
    pos = next;
    if (limits.min > capPages) throw new MemoryCapError(limits.min * PAGE, capBytes);
    const max = limits.max === undefined ? capPages : Math.min(limits.max, capPages);
    payload.push(...encodeLimits({ flags: limits.flags | 1, min: limits.min, max }));
  }
  if (pos !== memSection.end) throw new Error('malformed memory section');
  const header = [5, ...writeULeb(payload.length)];
  const out = new Uint8Array(bytes.length - (memSection.end - memSection.headerStart) + header.length + payload.length);
  out.set(bytes.subarray(0, memSection.headerStart), 0);
  let at = memSection.headerStart;
  out.set(header, at);
  at += header.length;
  out.set(payload, at);
  at += payload.length;
  out.set(bytes.subarray(memSection.end), at);
  return out;
}

/** The maximum (in pages) an imported memory should be created with under a cap. */
export function cappedImportMax(limits: Limits, capBytes?: number): number | undefined {
  if (capBytes === undefined) return limits.max;
  const capPages = Math.floor(capBytes / PAGE);
  return limits.max === undefined ? capPages : Math.min(limits.max, capPages);
}

/**
 * What a file that is not a core Wasm module looks like, in a few words for an error message;
 * null when it starts like a module (version 1) and should be handed to the compiler.
 */
export function describeNonModule(bytes: Uint8Array): string | null {
  if (bytes.length === 0) return 'an empty file';
  const startsWith = (sig: number[], at = 0): boolean => sig.every((b, i) => bytes[at + i] === b);
  if (startsWith(WASM_MAGIC)) {
    if (bytes.length < 8) return 'a truncated WebAssembly file (shorter than its 8-byte header)';
    const version = bytes[4] | (bytes[5] << 8);
    const layer = bytes[6] | (bytes[7] << 8);
    if (version === 1 && layer === 0) return null;
    if (layer === 1) return 'a WebAssembly component (component model), which hyrun runs only through `hyrun run FILE` so far';
    return `a WebAssembly binary of unsupported version ${version}`;
  }
  if (startsWith([0x7f, 0x45, 0x4c, 0x46])) return 'an ELF executable (a native program)';
  if (startsWith([0x23, 0x21])) {
    const line = new TextDecoder().decode(bytes.subarray(0, 80)).split('\n', 1)[0];
    return `a script (${line})`;
  }
  if (startsWith([0x1f, 0x8b])) return 'gzip-compressed data';
  if (startsWith([0x50, 0x4b, 0x03, 0x04])) return 'a zip archive';
  if (startsWith([0x28, 0xb5, 0x2f, 0xfd])) return 'zstd-compressed data';
  if (startsWith([0x42, 0x5a, 0x68])) return 'bzip2-compressed data';
  if (startsWith([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz-compressed data';
  if (bytes.length > 262 && startsWith([0x75, 0x73, 0x74, 0x61, 0x72], 257)) return 'a tar archive';
  if (startsWith([0xcf, 0xfa, 0xed, 0xfe]) || startsWith([0xca, 0xfe, 0xba, 0xbe])) return 'a Mach-O executable';
  if (startsWith([0x4d, 0x5a])) return 'a Windows (PE) executable';
  if (looksLikeText(bytes)) return 'a text file';
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `binary data of an unknown kind (starts with ${head})`;
}

/** True when the first KiB is valid UTF-8 without control characters other than whitespace. */
export function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 1024);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head);
  } catch {
    // A multi-byte character cut at the 1 KiB boundary is still text.
    if (head.length < 1024) return false;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, 1020));
    } catch {
      return false;
    }
  }
  // eslint-disable-next-line no-control-regex
  return !/[\x00-\x08\x0e-\x1f\x7f]/.test(text);
}

/** True when a text file looks like WebAssembly text format (starts with `(module`, or a comment then `(`). */
export function looksLikeWat(bytes: Uint8Array): boolean {
  if (!looksLikeText(bytes)) return false;
  const text = new TextDecoder().decode(bytes.subarray(0, 4096));
  const stripped = text.replace(/^(\s+|;;[^\n]*\n|\(;[\s\S]*?;\))*/, '');
  return /^\((module|component)\b/.test(stripped);
}

/** Function index -> export name, to name frames of functions the name section does not cover. */
export function functionExportNames(bytes: Uint8Array): Record<number, string> {
  const out: Record<number, string> = {};
  for (const s of sections(bytes)) {
    if (s.id !== 7) continue;
    const count = readULeb(bytes, s.start);
    let pos = count.next;
    for (let i = 0; i < count.value; i++) {
      const name = skipName(bytes, pos);
      const kind = bytes[name.next];
      const index = readULeb(bytes, name.next + 1);
      pos = index.next;
      if (kind === 0x00 && !(index.value in out)) out[index.value] = name.name;
    }
  }
  return out;
}

/** Body size in bytes of every defined function, in index order (from the code section). */
export function functionBodySizes(bytes: Uint8Array, code = sections(bytes).find((s) => s.id === 10)): number[] {
  if (code === undefined) return [];
  const count = readULeb(bytes, code.start);
  const sizes: number[] = [];
  let pos = count.next;
  for (let i = 0; i < count.value; i++) {
    const size = readULeb(bytes, pos);
    sizes.push(size.value);
    pos = size.next + size.value;
  }
  if (pos !== code.end) throw new Error('malformed code section');
  return sizes;
}

/**
 * The module as the engine gets it: custom sections other than `name` (which trap messages use)
 * dropped — DWARF and the like are often most of a Rust module's megabytes, and V8 would copy and
 * hash them.
 */
export function moduleForEngine(bytes: Uint8Array): Uint8Array {
  const all = sections(bytes);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const s of all) {
    if (s.id === 0 && skipName(bytes, s.start).name !== 'name') continue;
    parts.push(bytes.subarray(s.headerStart, s.end));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
