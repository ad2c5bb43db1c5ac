import { ERRNO } from './constants.js';
import { WasiError } from './errors.js';
import type { Descriptor } from './descriptor.js';

/** The guest's descriptor numbers. The lowest free number is reused, as POSIX does. */
export class FdTable {
  private readonly slots: (Descriptor | undefined)[] = [];

  get(fd: number): Descriptor {
    const d = this.slots[fd >>> 0];
    if (d === undefined) throw new WasiError(ERRNO.BADF);
    return d;
  }

  has(fd: number): boolean { return this.slots[fd >>> 0] !== undefined; }

  /** Places d at the lowest free number and returns it. */
  add(d: Descriptor): number {
    let fd = this.slots.indexOf(undefined);
    if (fd < 0) fd = this.slots.length;
    this.slots[fd] = d;
    return fd;
  }

  set(fd: number, d: Descriptor): void { this.slots[fd] = d; }

  /** Removes fd from the table without closing it; returns it. */
  take(fd: number): Descriptor {
    const d = this.get(fd);
    this.slots[fd] = undefined;
    while (this.slots.length > 0 && this.slots[this.slots.length - 1] === undefined) this.slots.pop();
    return d;
  }

  /** fd_renumber: `to` is closed (if open) and replaced by `from`; `from` becomes free. */
  renumber(from: number, to: number): void {
    const d = this.get(from);
    this.get(to);
    if (from === to) return;
    this.slots[to]!.close();
    this.slots[to] = d;
    this.take(from);
  }

  closeAll(): void {
    for (const d of this.slots) d?.close();
    this.slots.length = 0;
  }
}
