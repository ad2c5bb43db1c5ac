// The instances an HTTP component's requests run in. By default each request gets a fresh
// instance (requests never see each other's state, as with wasmtime serve and Spin); instances are
// made ahead, from the compiled core modules, between requests, so a request seldom waits for one.
// With reuse (opt-in) an instance that ended its request normally serves the next one.

/** One instance's `handle`: resolves when the guest's handler returns. */
export type Handle = (request: unknown, outparam: unknown) => Promise<void>;

/** How many instances are kept made ahead. */
const AHEAD = 8;

export class InstancePool {
  private readonly idle: Handle[] = [];
  private refilling = false;

  constructor(private readonly make: () => Handle, private readonly reuse: boolean) {
    this.idle.push(make());
    // Reused instances are made as concurrency asks for them; fresh ones are kept ready ahead.
    if (!reuse) this.refillSoon();
  }

  /** An instance for a request: a prepared one when there is, else made now. */
  take(): Handle {
    const handle = this.idle.pop() ?? this.make();
    if (!this.reuse) this.refillSoon();
    return handle;
  }

  /** The request ended normally: with reuse the instance serves again (the most recent first); else it is dropped. */
  release(handle: Handle): void {
    if (this.reuse) this.idle.push(handle);
  }

  /** Makes instances ahead once the current turn's work is done (requests first). */
  private refillSoon(): void {
    if (this.refilling || this.idle.length >= AHEAD) return;
    this.refilling = true;
    setImmediate(() => {
      this.refilling = false;
      if (this.idle.length < AHEAD) {
        this.idle.push(this.make());
        this.refillSoon();
      }
    });
  }
}
