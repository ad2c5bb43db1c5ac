// A core module rewritten so that all of its mutable state is reachable from JavaScript: every
// memory, table and mutable global it defines is exported under a `hyrun:state:` name. An HTTP
// component's instance can then be put back into the state it had when it was made (instance-reset.ts)
// instead of being made again for every request. Modules whose state cannot be restored that way
// (passive segments that `data.drop`/`elem.drop` consume, shared memories, v128 or GC-typed globals)
// are left alone: their instances are made afresh.
import { readLimits, readULeb, sections, skipImportDesc, skipName, writeULeb, type Section } from './binary.js';

/** The export names this rewrite adds: `hyrun:state:<kind>:<index>`. */
export const STATE_EXPORT_PREFIX = 'hyrun:state:';

const KIND_TABLE = 0x01;
const KIND_MEMORY = 0x02;
const KIND_GLOBAL = 0x03;

/** Number value types and the two basic reference types: what a JS global can read and write. */
const READABLE_VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x70, 0x6f]);

/** Skips a constant expression (global, segment offset or element initialiser); undefined if it holds an opcode not known here. */
function skipConstExpr(bytes: Uint8Array, pos: number): number | undefined {
  for (;;) {
    const op = bytes[pos++];
    switch (op) {
      case 0x0b: return pos; // end
      case 0x41: case 0x42: case 0x23: case 0xd2: // i32/i64.const (LEB: continuation bits end it either way), global.get, ref.func
        pos = readULeb(bytes, pos).next;
        break;
      case 0x43: pos += 4; break;
      case 0x44: pos += 8; break;
      case 0xd0: pos = readULeb(bytes, pos).next; break; // ref.null heap type
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break; // extended-const arithmetic
      case 0xfd: // v128.const
        if (bytes[pos] !== 0x0c) return undefined;
        pos += 17;
        break;
      default: return undefined;
    }
  }
}

const vecLength = (bytes: Uint8Array, pos: number): { count: number; next: number } => {
  const c = readULeb(bytes, pos);
  return { count: c.value, next: c.next };
};

/** Whether an element section holds a passive segment (one `table.init` copies from and `elem.drop` consumes). */
function hasPassiveElements(bytes: Uint8Array, s: Section): boolean | undefined {
  let { count, next: pos } = vecLength(bytes, s.start);
  for (let i = 0; i < count; i++) {
    const flags = readULeb(bytes, pos);
    pos = flags.next;
    if (flags.value === 1 || flags.value === 5) return true;
    if (flags.value === 2 || flags.value === 6) pos = readULeb(bytes, pos).next; // table index
    if (flags.value === 0 || flags.value === 2 || flags.value === 4 || flags.value === 6) {
      const after = skipConstExpr(bytes, pos);
      if (after === undefined) return undefined;
      pos = after;
    }
    if (flags.value === 2 || flags.value === 3 || flags.value === 6 || flags.value === 7) pos++; // elemkind or reftype
    const items = vecLength(bytes, pos);
    pos = items.next;
    for (let j = 0; j < items.count; j++) {
      if (flags.value < 4) pos = readULeb(bytes, pos).next;
      else {
        const after = skipConstExpr(bytes, pos);
        if (after === undefined) return undefined;
        pos = after;
      }
    }
  }
  return false;
}

/** Whether a data section holds a passive segment (`memory.init` copies from it, `data.drop` consumes it). */
function hasPassiveData(bytes: Uint8Array, s: Section): boolean | undefined {
  let { count, next: pos } = vecLength(bytes, s.start);
  for (let i = 0; i < count; i++) {
    const flags = readULeb(bytes, pos);
    pos = flags.next;
    if (flags.value === 1) return true;
    if (flags.value === 2) pos = readULeb(bytes, pos).next;
    const after = skipConstExpr(bytes, pos);
    if (after === undefined) return undefined;
    const size = readULeb(bytes, after);
    pos = size.next + size.value;
  }
  return false;
}

/**
 * The module with its defined memories, tables and mutable globals exported as
 * `hyrun:state:memory:N`, `hyrun:state:table:N`, `hyrun:state:global:N` (N: index in its index
 * space); undefined when its state cannot be put back from JavaScript (see the file comment) or it
 * has a shape not parsed here.
 */
export function withStateExports(bytes: Uint8Array): Uint8Array | undefined {
  try {
    return rewrite(bytes);
  } catch {
    return undefined;
  }
}

function rewrite(bytes: Uint8Array): Uint8Array | undefined {
  const all = sections(bytes);
  const imported = { [KIND_TABLE]: 0, [KIND_MEMORY]: 0, [KIND_GLOBAL]: 0 } as Record<number, number>;
  const added: [string, number, number][] = [];
  let exportSection: Section | undefined;
  for (const s of all) {
    switch (s.id) {
      case 2: {
        let { count, next: pos } = vecLength(bytes, s.start);
        for (let i = 0; i < count; i++) {
          const field = skipName(bytes, skipName(bytes, pos).next);
          const kind = bytes[field.next]!;
          if (kind in imported) imported[kind]!++;
          pos = skipImportDesc(bytes, kind, field.next + 1);
        }
        break;
      }
      case 4: {
        const { count } = vecLength(bytes, s.start);
        for (let i = 0; i < count; i++) added.push([`table:${imported[KIND_TABLE]! + i}`, KIND_TABLE, imported[KIND_TABLE]! + i]);
        break;
      }
      case 5: {
        let { count, next: pos } = vecLength(bytes, s.start);
        for (let i = 0; i < count; i++) {
          const { limits, next } = readLimits(bytes, pos);
          if ((limits.flags & 0x02) !== 0) return undefined; // shared: other threads write it
          pos = next;
          added.push([`memory:${imported[KIND_MEMORY]! + i}`, KIND_MEMORY, imported[KIND_MEMORY]! + i]);
        }
        break;
      }
      case 6: {
        let { count, next: pos } = vecLength(bytes, s.start);
        for (let i = 0; i < count; i++) {
          const valtype = bytes[pos]!;
          const mutable = bytes[pos + 1] === 1;
          // v128 cannot cross into JavaScript; a typed reference's heap type is not parsed here.
          if (!READABLE_VALTYPES.has(valtype)) return undefined;
          const after = skipConstExpr(bytes, pos + 2);
          if (after === undefined) return undefined;
          pos = after;
          if (mutable) added.push([`global:${imported[KIND_GLOBAL]! + i}`, KIND_GLOBAL, imported[KIND_GLOBAL]! + i]);
        }
        break;
      }
      case 7: exportSection = s; break;
      case 9: if (hasPassiveElements(bytes, s) !== false) return undefined; break;
      case 11: if (hasPassiveData(bytes, s) !== false) return undefined; break;
    }
  }
  const entries: number[] = [];
  for (const [name, kind, index] of added) {
    const encoded = new TextEncoder().encode(STATE_EXPORT_PREFIX + name);
    entries.push(...writeULeb(encoded.length), ...encoded, kind, ...writeULeb(index));
  }
  let count = added.length;
  let oldEntries: Uint8Array = new Uint8Array(0);
  if (exportSection !== undefined) {
    const c = vecLength(bytes, exportSection.start);
    count += c.count;
    oldEntries = bytes.subarray(c.next, exportSection.end);
  }
  const payload = new Uint8Array([...writeULeb(count), ...oldEntries, ...entries]);
  const section = new Uint8Array([7, ...writeULeb(payload.length), ...payload]);
  // The export section goes where it was, or else before the first section that must follow it.
  const at = exportSection?.headerStart ?? all.find((s) => s.id >= 8 && s.id <= 12)?.headerStart ?? bytes.length;
  const cutEnd = exportSection?.end ?? at;
  const out = new Uint8Array(at + section.length + (bytes.length - cutEnd));
  out.set(bytes.subarray(0, at), 0);
  out.set(section, at);
  out.set(bytes.subarray(cutEnd), at + section.length);
  return out;
}
