import { OptNativeError } from '../errors.js';
import { systemClock, type Clock } from './clock.js';

export interface RetryOptions {
  /** Retries after the first attempt (so at most maxRetries + 1 attempts). */
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Uniform [0, 1) source for jitter; seed it in tests. */
  random?: () => number;
  clock?: Clock;
  signal?: AbortSignal;
  isRetryable?: (error: unknown) => boolean;
  /** A server-requested delay (Retry-After) overrides the backoff, capped at maxRetryAfterMs. */
  retryAfterMs?: (error: unknown) => number | undefined;
  maxRetryAfterMs?: number;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

export const DEFAULT_RETRY = { maxRetries: 4, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 120_000 } as const;

/**
 * Exponential backoff with "equal jitter": half the capped exponential delay is fixed, half is random, so retries
 * of many clients spread out but never collapse to zero.
 */
export function backoffDelayMs(
  attempt: number,
  random: () => number,
  baseDelayMs: number = DEFAULT_RETRY.baseDelayMs,
  maxDelayMs: number = DEFAULT_RETRY.maxDelayMs,
): number {
  const capped = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return capped / 2 + random() * (capped / 2);
}

/** Runs `attempt(n)` until it succeeds, fails with a non-retryable error, or retries run out. */
export async function retryWithBackoff<T>(attempt: (n: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxRetries = options.maxRetries ?? DEFAULT_RETRY.maxRetries;
  const random = options.random ?? Math.random;
  const clock = options.clock ?? systemClock;
  const isRetryable = options.isRetryable ?? (() => true);
  for (let n = 0; ; n += 1) {
    if (options.signal?.aborted) throw new OptNativeError('E_ABORTED', 'the request was aborted');
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= maxRetries || !isRetryable(error) || options.signal?.aborted) throw error;
      const requested = options.retryAfterMs?.(error);
      const delayMs =
        requested !== undefined
          ? Math.min(requested, options.maxRetryAfterMs ?? DEFAULT_RETRY.maxRetryAfterMs)
          : backoffDelayMs(n, random, options.baseDelayMs, options.maxDelayMs);
      options.onRetry?.({ attempt: n + 1, delayMs, error });
      await clock.sleep(delayMs, options.signal);
    }
  }
}
