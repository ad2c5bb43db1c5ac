// Transfer progress: bars on a terminal (cli-progress), otherwise one line per blob.
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Descriptor } from './media.js';

const short = (d: Descriptor): string => d.digest.slice(7, 19);
const mib = (n: number): string => `${(n / 2 ** 20).toFixed(2)} MiB`;

export class Progress {
  private multi?: MultiBar;
  private bars = new Map<string, SingleBar>();

  constructor(private readonly log: (line: string) => void, tty: boolean = process.stderr.isTTY === true) {
    if (tty) this.multi = new MultiBar({ format: '{id} [{bar}] {value}/{total} bytes', hideCursor: true, clearOnComplete: false, stream: process.stderr }, Presets.shades_classic);
  }

  skip(d: Descriptor, why: string): void {
    if (!this.multi) this.log(`blob ${short(d)}: ${why}`);
  }

  /** Starts a transfer; the returned function adds bytes. */
  start(d: Descriptor): (bytes: number) => void {
    if (!this.multi) return () => {};
    const bar = this.multi.create(d.size, 0, { id: short(d) });
    this.bars.set(d.digest, bar);
    return (n) => bar.increment(n);
  }

  done(d: Descriptor): void {
    if (!this.multi) this.log(`blob ${short(d)}: ${mib(d.size)} done`);
    else this.bars.get(d.digest)?.update(d.size);
  }

  fail(d: Descriptor): void {
    this.bars.get(d.digest)?.stop();
  }

  finish(): void {
    this.multi?.stop();
  }
}
