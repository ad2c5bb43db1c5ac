import { WasiError } from './errors.js';
import { ERRNO } from './constants.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * Typed views over the guest's linear memory. The underlying buffer changes when memory grows,
 * so views are re-derived lazily whenever the buffer identity changes.
 * Every access is bounds-checked: an out-of-range pointer is the guest's bug and becomes EFAULT.
 */
export class GuestMemory {
  private buffer: ArrayBuffer | SharedArrayBuffer | null = null;
  private view!: DataView;
  private bytes!: Uint8Array;

  constructor(private readonly memory: WebAssembly.Memory) {}

  private refresh(): void {
    const current = this.memory.buffer;
    if (current !== this.buffer) {
      this.buffer = current;
      this.view = new DataView(current);
      this.bytes = new Uint8Array(current);
    }
  }

  private check(ptr: number, len: number): void {
    if (ptr < 0 || len < 0 || ptr + len > this.bytes.length) throw new WasiError(ERRNO.FAULT, 'pointer out of bounds');
  }

  u8(ptr: number): Uint8Array { this.refresh(); return this.bytes; }
  dv(): DataView { this.refresh(); return this.view; }

  /** Copies `data` to guest memory at `ptr` without making a view (hot paths: one per stat). */
  writeAt(ptr: number, data: Uint8Array): void {
    this.refresh();
    ptr >>>= 0;
    this.check(ptr, data.length);
    this.bytes.set(data, ptr);
  }

  /** A live view of guest bytes [ptr, ptr+len) — valid until the guest's memory grows. */
  slice(ptr: number, len: number): Uint8Array {
    this.refresh();
    ptr >>>= 0; len >>>= 0;
    this.check(ptr, len);
    return this.bytes.subarray(ptr, ptr + len);
  }

  getU8(ptr: number): number { this.refresh(); this.check(ptr >>>= 0, 1); return this.view.getUint8(ptr); }
  getU16(ptr: number): number { this.refresh(); this.check(ptr >>>= 0, 2); return this.view.getUint16(ptr, true); }
  getU32(ptr: number): number { this.refresh(); this.check(ptr >>>= 0, 4); return this.view.getUint32(ptr, true); }
  getU64(ptr: number): bigint { this.refresh(); this.check(ptr >>>= 0, 8); return this.view.getBigUint64(ptr, true); }
  setU8(ptr: number, v: number): void { this.refresh(); this.check(ptr >>>= 0, 1); this.view.setUint8(ptr, v); }
  setU16(ptr: number, v: number): void { this.refresh(); this.check(ptr >>>= 0, 2); this.view.setUint16(ptr, v, true); }
  setU32(ptr: number, v: number): void { this.refresh(); this.check(ptr >>>= 0, 4); this.view.setUint32(ptr, v >>> 0, true); }
  setU64(ptr: number, v: bigint): void { this.refresh(); this.check(ptr >>>= 0, 8); this.view.setBigUint64(ptr, BigInt.asUintN(64, v), true); }

  /** Reads a guest string (ptr, len) as UTF-8; invalid UTF-8 is ILSEQ, as the spec's `string` type requires. */
  getString(ptr: number, len: number): string {
    const raw = this.slice(ptr, len);
    // Paths are short and mostly ASCII: building those directly skips TextDecoder's per-call cost
    // (about a microsecond, paid once per path_* call).
    if (raw.length <= 256) {
      let ascii = true;
      for (let i = 0; i < raw.length; i++) if (raw[i]! >= 0x80) { ascii = false; break; }
      if (ascii) return String.fromCharCode.apply(null, raw as unknown as number[]);
    }
    try {
      return utf8.decode(raw);
    } catch {
      throw new WasiError(ERRNO.ILSEQ, 'path is not valid UTF-8');
    }
  }

  /** Copies bytes into guest memory at ptr (bounds-checked). */
  write(ptr: number, data: Uint8Array): void {
    this.slice(ptr, data.length).set(data);
  }

  static encode(text: string): Uint8Array { return encoder.encode(text); }

  /** The iovec/ciovec arrays of fd_read/fd_write: [{buf: u32, buf_len: u32}] × count. */
  iovecs(iovsPtr: number, count: number): Uint8Array[] {
    this.refresh();
    this.check(iovsPtr >>>= 0, (count >>>= 0) * 8);
    const list: Uint8Array[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const buf = this.view.getUint32(iovsPtr + i * 8, true);
      const len = this.view.getUint32(iovsPtr + i * 8 + 4, true);
      this.check(buf, len);
      list[i] = this.bytes.subarray(buf, buf + len);
    }
    return list;
  }
}
