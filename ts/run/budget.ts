import { OptNativeError } from '../errors.js';
import type { Usage } from '../language-model.js';
import { systemClock, type Clock } from './clock.js';
import { DEFAULT_PRICES, costOfCall, type ModelPrice } from './prices.js';

export interface BudgetLimits {
  maxCalls?: number;
  maxTokens?: number;
  maxDollars?: number;
  maxWallMs?: number;
}

export interface BudgetOptions extends BudgetLimits {
  /** Merged over DEFAULT_PRICES. */
  prices?: Record<string, ModelPrice>;
  clock?: Clock;
}

export interface BudgetSpent {
  calls: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  dollars: number;
  wallMs: number;
}

/** Thrown when a call would exceed the budget; optimizers catch it, stop cleanly and report why. */
export class BudgetExceeded extends OptNativeError {
  readonly spent: BudgetSpent;

  constructor(reason: string, spent: BudgetSpent) {
    super('E_BUDGET', `budget exhausted: ${reason}`);
    this.name = 'BudgetExceeded';
    this.spent = spent;
  }
}

/** One object for every limit of a run: paid calls, tokens, dollars and wall time. Cache hits are free. */
export class Budget {
  readonly limits: BudgetLimits;
  private readonly prices: Record<string, ModelPrice>;
  private readonly clock: Clock;
  private readonly startedAt: number;
  private calls = 0;
  /** Paid calls started but not yet recorded (so concurrent callers cannot overshoot maxCalls). */
  private callsInFlight = 0;
  private cacheHits = 0;
  private promptTokens = 0;
  private completionTokens = 0;
  private dollars = 0;

  constructor(options: BudgetOptions = {}) {
    const { prices, clock, ...limits } = options;
    this.limits = limits;
    this.prices = { ...DEFAULT_PRICES, ...prices };
    this.clock = clock ?? systemClock;
    this.startedAt = this.clock.now();
  }

  /** Records one finished call; `cached` calls count as hits and cost nothing. Returns the call's dollar cost. */
  record(call: { modelId: string; usage: Usage; cached?: boolean }): number {
    if (call.cached) {
      this.cacheHits += 1;
      return 0;
    }
    const cost = costOfCall(this.prices, call.modelId, call.usage);
    this.calls += 1;
    this.promptTokens += call.usage.promptTokens;
    this.completionTokens += call.usage.completionTokens;
    this.dollars += cost;
    return cost;
  }

  spent(): BudgetSpent {
    return {
      calls: this.calls,
      cacheHits: this.cacheHits,
      promptTokens: this.promptTokens,
      completionTokens: this.completionTokens,
      dollars: this.dollars,
      wallMs: this.clock.now() - this.startedAt,
    };
  }

  /** Which limit is reached, or undefined while there is budget left. */
  exhaustedReason(): string | undefined {
    const spent = this.spent();
    const { maxCalls, maxTokens, maxDollars, maxWallMs } = this.limits;
    if (maxCalls !== undefined && spent.calls + this.callsInFlight >= maxCalls) {
      const inFlight = this.callsInFlight > 0 ? ` (${this.callsInFlight} in flight)` : '';
      return `${spent.calls + this.callsInFlight} of ${maxCalls} calls used${inFlight}`;
    }
    const tokens = spent.promptTokens + spent.completionTokens;
    if (maxTokens !== undefined && tokens >= maxTokens) return `${tokens} of ${maxTokens} tokens used`;
    if (maxDollars !== undefined && spent.dollars >= maxDollars) {
      return `$${spent.dollars.toFixed(4)} of $${maxDollars} spent`;
    }
    if (maxWallMs !== undefined && spent.wallMs >= maxWallMs) return `${spent.wallMs} ms of ${maxWallMs} ms elapsed`;
    return undefined;
  }

  exhausted(): boolean {
    return this.exhaustedReason() !== undefined;
  }

  /**
   * Checks the budget and holds one paid call's place until the returned `settle` is called (with the finished
   * call to record it, or with nothing when it failed). Use it around calls that run concurrently.
   */
  reserveCall(): (call?: { modelId: string; usage: Usage }) => void {
    this.check();
    this.callsInFlight += 1;
    let settled = false;
    return (call) => {
      if (settled) return;
      settled = true;
      this.callsInFlight -= 1;
      if (call) this.record(call);
    };
  }

  /** Throws BudgetExceeded (E_BUDGET) when any limit is reached. */
  check(): void {
    const reason = this.exhaustedReason();
    if (reason !== undefined) throw new BudgetExceeded(reason, this.spent());
  }
}
