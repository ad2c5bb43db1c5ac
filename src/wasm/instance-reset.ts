// Putting a component instance back into the state it had when it was made, so that the next
// request meets what a newly made instance would show it: the same memory bytes, globals, table
// entries and resource handle numbers. Making an instance from jco's glue costs ~0.5 ms of the
// serving thread (three core instances, and the glue's own runtime built again in each); a reset
// costs a copy of the memory (128 KiB for the C handler). An instance whose memory or tables grew
// cannot shrink back: it is not reset but replaced.
import { STATE_EXPORT_PREFIX } from './state-exports.js';

/** The glue's per-instance state, handed over through the import object (glue.ts adds the hook). */
export interface GlueState {
  /** The glue's resource handle tables: `[free-list head, 0, (rep | flag, next)…]` per resource type. */
  handleTables?: HandleTable[];
  /** The glue's maps from a host resource's rep to the host object. */
  captures: Map<unknown, unknown>[];
}

type HandleTable = unknown[] & { _createdReps?: Set<unknown> };

/** A table's entries as JavaScript reads and writes them (the DOM typings leave these out). */
type Entries = { length: number; get(i: number): unknown; set(i: number, value: unknown): void };
const entriesOf = (t: WebAssembly.Table): Entries => t as unknown as Entries;

/** The import object key under which the glue finds its GlueState. */
export const GLUE_STATE_KEY = Symbol.for('hyrun.instance-state');

interface MemoryImage { memory: WebAssembly.Memory; byteLength: number; bytes: Uint8Array }
interface TableImage { table: WebAssembly.Table; entries: unknown[] }
interface GlobalImage { global: WebAssembly.Global; value: unknown }
interface HandleTableImage { table: HandleTable; entries: unknown[]; reps: unknown[] }

export class InstanceImage {
  private constructor(
    private readonly memories: MemoryImage[],
    private readonly tables: TableImage[],
    private readonly globals: GlobalImage[],
    private readonly handleTables: HandleTableImage[],
    private readonly captures: [Map<unknown, unknown>, [unknown, unknown][]][],
  ) {}

  /**
   * The state of a just-made instance: its core instances (their modules rewritten by
   * withStateExports, so that everything they define is exported) and the glue's state. Undefined
   * when the glue did not hand its state over. `like`: an earlier image whose memory bytes, when equal,
   * are shared rather than copied again.
   */
  static take(cores: WebAssembly.Instance[], glue: GlueState, like?: InstanceImage): InstanceImage | undefined {
    if (glue.handleTables === undefined) return undefined;
    const memories = new Set<WebAssembly.Memory>();
    const tables = new Set<WebAssembly.Table>();
    const globals = new Set<WebAssembly.Global>();
    for (const core of cores) {
      for (const [name, value] of Object.entries(core.exports)) {
        if (value instanceof WebAssembly.Memory) memories.add(value);
        else if (value instanceof WebAssembly.Table) tables.add(value);
        else if (value instanceof WebAssembly.Global && name.startsWith(STATE_EXPORT_PREFIX)) globals.add(value);
      }
    }
    const memoryImages = [...memories].map((memory, i): MemoryImage => {
      const now = new Uint8Array(memory.buffer);
      const earlier = like?.memories[i]?.bytes;
      const bytes = earlier !== undefined && Buffer.from(earlier.buffer, earlier.byteOffset, earlier.byteLength).equals(now) ? earlier : now.slice();
      return { memory, byteLength: now.byteLength, bytes };
    });
    const tableImages = [...tables].map((table): TableImage => {
      const entries: unknown[] = [];
      for (let i = 0; i < table.length; i++) entries.push(entriesOf(table).get(i));
      return { table, entries };
    });
    const globalImages = [...globals].map((global): GlobalImage => ({ global, value: global.value }));
    const handleTables = glue.handleTables.filter((t) => Array.isArray(t)).map((table): HandleTableImage =>
      ({ table, entries: [...table], reps: [...(table._createdReps ?? [])] }));
    const captures = glue.captures.map((m): [Map<unknown, unknown>, [unknown, unknown][]] => [m, [...m]]);
    return new InstanceImage(memoryImages, tableImages, globalImages, handleTables, captures);
  }

  /** Puts the instance back into the imaged state; false (and nothing changed) when it cannot be: memory or a table grew. */
  restore(): boolean {
    for (const m of this.memories) if (m.memory.buffer.byteLength !== m.byteLength) return false;
    for (const t of this.tables) if (t.table.length !== t.entries.length) return false;
    for (const m of this.memories) new Uint8Array(m.memory.buffer).set(m.bytes);
    for (const t of this.tables) {
      const table = entriesOf(t.table);
      for (let i = 0; i < t.entries.length; i++) if (table.get(i) !== t.entries[i]) table.set(i, t.entries[i]);
    }
    for (const g of this.globals) g.global.value = g.value;
    for (const h of this.handleTables) {
      h.table.length = 0;
      h.table.push(...h.entries);
      if (h.table._createdReps !== undefined) {
        h.table._createdReps.clear();
        for (const rep of h.reps) h.table._createdReps.add(rep);
      }
    }
    for (const [map, entries] of this.captures) {
      map.clear();
      for (const [k, v] of entries) map.set(k, v);
    }
    return true;
  }
}
