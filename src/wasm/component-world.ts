// What a WASI 0.2 component imports and exports at its top level, read from its binary (the
// component model's import and export sections): the names the CNCF TAG Runtime Wasm OCI artifact
// puts in its config's `component` field (`wasi:cli/environment@0.2.0`, or a plain function name),
// and what engines use to decide whether they can run it. Nested components' sections are skipped
// whole: only the outer component's world counts.
import { readULeb, sections } from './binary.js';

export interface ComponentWorld {
  imports: string[];
  exports: string[];
}

const IMPORT_SECTION = 10;
const EXPORT_SECTION = 11;

/** A cursor over one section's bytes; every read throws on a truncated or unknown encoding. */
class Reader {
  constructor(private readonly bytes: Uint8Array, public pos: number, private readonly end: number) {}

  byte(): number {
    if (this.pos >= this.end) throw new Error('truncated section');
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    const r = readULeb(this.bytes, this.pos);
    if (r.next > this.end) throw new Error('truncated section');
    this.pos = r.next;
    return r.value;
  }

  string(): string {
    const length = this.u32();
    if (this.pos + length > this.end) throw new Error('truncated name');
    const text = new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }

  /** importname' / exportname': 0x00 then the name; 0x01 (older encoders) adds a second string, which is not part of the name. */
  externName(): string {
    const kind = this.byte();
    if (kind !== 0x00 && kind !== 0x01) throw new Error(`unknown name encoding 0x${kind.toString(16)}`);
    const name = this.string();
    if (kind === 0x01) this.string();
    return name;
  }

  /** externdesc: what an import or export is (a core module, a function, a value, a type, a component, an instance). */
  skipExternDesc(): void {
    const kind = this.byte();
    switch (kind) {
      case 0x00: // core module: 0x11 then its core type index
        if (this.byte() !== 0x11) throw new Error('bad core module type');
        this.u32();
        return;
      case 0x01: case 0x04: case 0x05: // func, component, instance: a type index
        this.u32();
        return;
      case 0x02: // value: a value index, or a value type (a type index or a primitive: both one LEB)
        this.byte();
        this.u32();
        return;
      case 0x03: // type: equal to a type index, or a fresh resource
        if (this.byte() === 0x00) this.u32();
        return;
      default:
        throw new Error(`unknown extern kind 0x${kind.toString(16)}`);
    }
  }

  /** sortidx: a sort (a core sort is two bytes) and an index. */
  skipSortIdx(): void {
    if (this.byte() === 0x00) this.byte();
    this.u32();
  }
}

/**
 * The names the component imports and exports, in the order its binary declares them. Throws
 * (an Error saying what is wrong) when the bytes are not a component or do not parse.
 */
export function componentWorld(bytes: Uint8Array): ComponentWorld {
  const world: ComponentWorld = { imports: [], exports: [] };
  for (const s of sections(bytes)) {
    if (s.id !== IMPORT_SECTION && s.id !== EXPORT_SECTION) continue;
    const r = new Reader(bytes, s.start, s.end);
    for (let n = r.u32(); n > 0; n--) {
      const name = r.externName();
      if (s.id === IMPORT_SECTION) {
        r.skipExternDesc();
        world.imports.push(name);
      } else {
        r.skipSortIdx();
        if (r.byte() === 0x01) r.skipExternDesc(); // the export's optional ascribed type
        world.exports.push(name);
      }
    }
    if (r.pos !== s.end) throw new Error('section longer than its entries');
  }
  return world;
}
