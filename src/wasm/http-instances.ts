// The instances an HTTP component's requests run in. By default each request gets a fresh
// instance (requests never see each other's state, as with wasmtime serve and Spin): one newly made,
// or one that served a request and was then put back into the state it had when it was made
// (instance-reset.ts), which costs a copy of its memory instead of a whole instantiation. Instances
// are made ahead, between requests, so a request seldom waits for one. With reuse (opt-in) an
// instance that ended its request normally serves the next one as it is.

/** One instance's `handle`: resolves when the guest's handler returns. */
export type Handle = (request: unknown, outparam: unknown) => Promise<void>;

/** An instance as the pool holds it: its handler and, when it can be, the way back to its first state. */
export interface PooledInstance {
  handle: Handle;
  /** Puts the instance back as it was made; false when it cannot be (it is then dropped). */
  reset?: () => boolean;
  /** With reuse: drops what the glue keeps of ended requests and never reads again. */
  tidy?: () => void;
}

/** How many instances are kept made ahead. */
const AHEAD = 8;
/** How many reset instances are kept at most (as many as requests ran at once, up to this). */
const MAX_IDLE = 64;

export class InstancePool {
  private readonly idle: PooledInstance[] = [];
  /** Instances whose request ended, reset once the turn's work (the glue's own after-call steps) is done. */
  private toReset: PooledInstance[] = [];
  private refilling = false;
  /** Instances put back into their first state rather than made again (for the tests and the bench). */
  resets = 0;

  constructor(private readonly make: () => PooledInstance, private readonly reuse: boolean) {
    this.idle.push(make());
    // Reused instances are made as concurrency asks for them; fresh ones are kept ready ahead.
    if (!reuse) this.refillSoon();
  }

  /** An instance for a request: a prepared one when there is, else made now. */
  take(): PooledInstance {
    const instance = this.idle.pop() ?? this.make();
    if (!this.reuse) this.refillSoon();
    return instance;
  }

  /**
   * The request ended normally: with reuse the instance serves again as it is (the most recent
   * first); else it serves again once reset, or is dropped.
   */
  release(instance: PooledInstance): void {
    if (this.reuse) {
      instance.tidy?.();
      this.idle.push(instance);
    }
    else if (instance.reset !== undefined) {
      if (this.toReset.push(instance) === 1) setImmediate(() => this.resetReleased());
    }
  }

  private resetReleased(): void {
    const released = this.toReset;
    this.toReset = [];
    for (const instance of released) {
      if (this.idle.length < MAX_IDLE && instance.reset!()) {
        this.resets++;
        this.idle.push(instance);
      }
    }
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
