import { OptNativeError } from '../errors.js';

export interface AdaptiveLimiterOptions {
  /** Concurrency at start. */
  initial?: number;
  min?: number;
  max?: number;
}

export type PermitOutcome = 'success' | 'throttled' | 'failure';

export interface Permit {
  release(outcome: PermitOutcome): void;
}

/**
 * A concurrency limit that adapts to the server (AIMD, like TCP congestion control): it halves on a 429 and grows
 * by one after a full window of successes. Throttles from requests started before the last cut are ignored, so one
 * burst of 429s halves the limit once, not once per request.
 */
export class AdaptiveLimiter {
  readonly min: number;
  readonly max: number;
  private currentLimit: number;
  private active = 0;
  private epoch = 0;
  private successesInWindow = 0;
  private readonly waiting: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];

  constructor(options: AdaptiveLimiterOptions = {}) {
    this.min = Math.max(1, options.min ?? 1);
    this.max = Math.max(this.min, options.max ?? 64);
    this.currentLimit = Math.min(this.max, Math.max(this.min, options.initial ?? 8));
  }

  get limit(): number {
    return this.currentLimit;
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async acquire(signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) throw new OptNativeError('E_ABORTED', 'aborted before it started');
    // A woken waiter has its slot counted by wakeWaiters, so a newcomer can never steal it.
    if (this.active < this.currentLimit && this.waiting.length === 0) this.active += 1;
    else await this.waitForSlot(signal);
    const startedInEpoch = this.epoch;
    let released = false;
    return {
      release: (outcome) => {
        if (released) return;
        released = true;
        this.active -= 1;
        this.adapt(outcome, startedInEpoch);
        this.wakeWaiters();
      },
    };
  }

  /** Runs `fn` under a permit; `classify` maps its error to an outcome (default: failure). */
  async run<T>(
    fn: () => Promise<T>,
    classify: (error: unknown) => PermitOutcome = () => 'failure',
    signal?: AbortSignal,
  ): Promise<T> {
    const permit = await this.acquire(signal);
    try {
      const value = await fn();
      permit.release('success');
      return value;
    } catch (error) {
      permit.release(classify(error));
      throw error;
    }
  }

  private adapt(outcome: PermitOutcome, startedInEpoch: number): void {
    if (outcome === 'throttled') {
      if (startedInEpoch !== this.epoch) return;
      this.currentLimit = Math.max(this.min, Math.floor(this.currentLimit / 2));
      this.epoch += 1;
      this.successesInWindow = 0;
    } else if (outcome === 'success') {
      this.successesInWindow += 1;
      if (this.successesInWindow >= this.currentLimit) {
        this.successesInWindow = 0;
        this.currentLimit = Math.min(this.max, this.currentLimit + 1);
      }
    }
  }

  private waitForSlot(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new OptNativeError('E_ABORTED', 'aborted while queued'));
      const entry = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(entry);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new OptNativeError('E_ABORTED', 'aborted while queued'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private wakeWaiters(): void {
    while (this.active < this.currentLimit && this.waiting.length > 0) {
      const next = this.waiting.shift();
      this.active += 1;
      next?.resolve();
    }
  }
}
