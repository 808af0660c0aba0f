import { OptNativeError } from '../errors.js';
import { systemClock, type Clock } from './clock.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** What the breaker protects, for messages ("openai-compatible:http://…#qwen"). */
  name: string;
  /** Consecutive failures that open the circuit. */
  failureThreshold?: number;
  /** How long the circuit stays open before one probe request is let through. */
  cooldownMs?: number;
  clock?: Clock;
}

/**
 * Stops calling a backend that keeps failing: after `failureThreshold` consecutive failures every call fails fast
 * with E_CIRCUIT_OPEN (saying why) until `cooldownMs` has passed; then one probe decides between closing and
 * re-opening.
 */
export class CircuitBreaker {
  readonly name: string;
  private readonly failureThreshold: number;
  private readonly cooldownMs: number;
  private readonly clock: Clock;
  private consecutiveFailures = 0;
  private openedAt: number | undefined;
  private probeInFlight = false;
  private lastFailure = '';

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name;
    this.failureThreshold = options.failureThreshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
  }

  get state(): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return this.clock.now() - this.openedAt >= this.cooldownMs ? 'half-open' : 'open';
  }

  /** Why the circuit is open, or undefined when closed. */
  get reason(): string | undefined {
    if (this.openedAt === undefined) return undefined;
    return `${this.consecutiveFailures} consecutive failures, last: ${this.lastFailure}`;
  }

  /** Throws E_CIRCUIT_OPEN unless a call may go through now. */
  ensureCanPass(): void {
    const state = this.state;
    if (state === 'closed') return;
    if (state === 'half-open' && !this.probeInFlight) {
      this.probeInFlight = true;
      return;
    }
    const openedAt = this.openedAt ?? this.clock.now();
    const retryInMs = Math.max(0, openedAt + this.cooldownMs - this.clock.now());
    throw new OptNativeError(
      'E_CIRCUIT_OPEN',
      `circuit open for ${this.name}: ${this.reason ?? 'failing'}; next probe in ${Math.ceil(retryInMs / 1000)}s`,
    );
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0;
    this.openedAt = undefined;
    this.probeInFlight = false;
  }

  /** An outcome that says nothing about the backend's health (our bad request, a 429, an abort). */
  recordNeutral(): void {
    this.probeInFlight = false;
  }

  recordFailure(error: unknown): void {
    this.consecutiveFailures += 1;
    this.lastFailure = error instanceof Error ? error.message : String(error);
    const probeFailed = this.probeInFlight;
    this.probeInFlight = false;
    if (probeFailed || this.consecutiveFailures >= this.failureThreshold) this.openedAt = this.clock.now();
  }
}
