// Low-memory mode: of several heavy resources (the optimizer LLM, the evaluator), at most one is held in memory.
// A call for a resource that is not resident waits for the calls on the resident one to finish, disposes it and
// loads its own; calls on the resident one run as usual, concurrently if the caller wishes.

/** Something that holds memory until disposed (a loaded model). */
export interface Resident {
  dispose?(): Promise<void>;
}

/** How a resource is made resident again: called at each switch back to it. */
export type ResidentLoader<R extends Resident> = () => Promise<R>;

/** One switch: `unloaded` (absent when nothing was resident) went out of memory, `loaded` came in. */
export interface ResidencySwitch {
  readonly unloaded?: string;
  readonly loaded: string;
  readonly loadMs: number;
}

interface Held {
  readonly key: string;
  readonly resource: Resident;
}

/**
 * Keeps at most one resource loaded. Keys name resources: `use` with the resident key runs at once, another key
 * swaps (dispose, then load) once no call is running. Nothing is loaded before it is used, so calls answered
 * elsewhere (a response cache, a replayed step) never cause a load.
 */
export class ExclusiveResidency {
  private held: Held | undefined;
  private running = 0;
  private switching = false;
  private waiters: (() => void)[] = [];

  /** `onSwitch` hears of every completed switch (the CLI prints them: a user sees where the time goes). */
  constructor(private readonly onSwitch?: (change: ResidencySwitch) => void) {}

  /** The key of the resource in memory now, if any. */
  get residentKey(): string | undefined {
    return this.held?.key;
  }

  /** Runs `work` with the resource `key`, making it resident first (the caller's `load` builds it). */
  async use<R extends Resident, T>(
    key: string,
    load: ResidentLoader<R>,
    work: (resource: R) => Promise<T>,
  ): Promise<T> {
    // The key decides the type: a key always comes with the same loader.
    const resource = (await this.acquire(key, load)) as R;
    try {
      return await work(resource);
    } finally {
      this.running -= 1;
      if (this.running === 0) this.wakeWaiters();
    }
  }

  /** Disposes the resource `key` if it is resident and idle (a later `use` loads it again). */
  async evict(key: string): Promise<void> {
    for (;;) {
      if (this.held?.key !== key) return;
      if (!this.switching && this.running === 0) return this.withSwitch(() => this.disposeHeld());
      await this.nextChange();
    }
  }

  /** Disposes whatever is resident, once idle. */
  async evictAll(): Promise<void> {
    const key = this.held?.key;
    if (key !== undefined) await this.evict(key);
  }

  private async acquire(key: string, load: ResidentLoader<Resident>): Promise<Resident> {
    for (;;) {
      if (!this.switching) {
        if (this.held?.key === key) {
          this.running += 1;
          return this.held.resource;
        }
        if (this.running === 0) {
          await this.withSwitch(() => this.switchTo(key, load));
          continue;
        }
      }
      await this.nextChange();
    }
  }

  /** Dispose first, then load: the two are never in memory together. A failed load leaves nothing resident. */
  private async switchTo(key: string, load: ResidentLoader<Resident>): Promise<void> {
    const unloaded = this.held?.key;
    await this.disposeHeld();
    const started = performance.now();
    this.held = { key, resource: await load() };
    this.onSwitch?.({ unloaded, loaded: key, loadMs: performance.now() - started });
  }

  private async disposeHeld(): Promise<void> {
    const previous = this.held;
    this.held = undefined;
    await previous?.resource.dispose?.();
  }

  private async withSwitch(step: () => Promise<void>): Promise<void> {
    this.switching = true;
    try {
      await step();
    } finally {
      this.switching = false;
      this.wakeWaiters();
    }
  }

  private nextChange(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
