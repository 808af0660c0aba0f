import { OptNativeError } from '../errors.js';
import { CircuitBreaker } from '../run/breaker.js';
import { systemClock, type Clock } from '../run/clock.js';
import { AdaptiveLimiter, type PermitOutcome } from '../run/limiter.js';
import { retryWithBackoff, type RetryOptions } from '../run/retry.js';
import { anySignal } from './any-signal.js';
import { ProviderError } from './provider-error.js';
import { createModelStream, type ModelStream } from './stream-result.js';
import {
  LANGUAGE_MODEL_SPEC_VERSION,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type ScoreChoicesRequest,
  type ScoreChoicesResult,
} from './types.js';

export interface ResilienceOptions {
  /** Shared by every model of one provider endpoint (see `sharedLimiter`). */
  limiter?: AdaptiveLimiter;
  breaker?: CircuitBreaker;
  retry?: Omit<RetryOptions, 'signal' | 'isRetryable' | 'retryAfterMs' | 'clock'>;
  /** Per-attempt timeout, ms. */
  timeoutMs?: number;
  clock?: Clock;
  onRetry?: RetryOptions['onRetry'];
}

const sharedLimiters = new Map<string, AdaptiveLimiter>();

/** One adaptive concurrency limit per provider endpoint, shared by every model created for it in this process. */
export function sharedLimiter(key: string, initial = 8): AdaptiveLimiter {
  let limiter = sharedLimiters.get(key);
  if (!limiter) {
    limiter = new AdaptiveLimiter({ initial, max: Math.max(64, initial) });
    sharedLimiters.set(key, limiter);
  }
  return limiter;
}

function isRetryable(error: unknown): boolean {
  return error instanceof ProviderError && error.retryable;
}

function permitOutcome(error: unknown): PermitOutcome {
  return error instanceof ProviderError && error.kind === 'rate-limit' ? 'throttled' : 'failure';
}

/** Failures that say the backend is unwell (not our request, not our abort). */
function countsAgainstBreaker(error: unknown): boolean {
  return error instanceof ProviderError && error.kind !== 'client' && error.kind !== 'rate-limit';
}

/**
 * Wraps a provider with the shared concurrency limit (AIMD), retries with backoff and Retry-After, a per-attempt
 * timeout and a circuit breaker. Streams are retried only until their first delta.
 */
export class ResilientLanguageModel implements LanguageModel {
  readonly specificationVersion = LANGUAGE_MODEL_SPEC_VERSION;
  readonly provider: string;
  readonly modelId: string;
  readonly limiter: AdaptiveLimiter;
  readonly breaker: CircuitBreaker;
  readonly scoreChoices?: (request: ScoreChoicesRequest) => Promise<ScoreChoicesResult>;
  readonly scoreChoicesBatch?: (requests: ScoreChoicesRequest[]) => Promise<ScoreChoicesResult[]>;
  private readonly inner: LanguageModel;
  private readonly options: ResilienceOptions;
  private readonly clock: Clock;

  constructor(inner: LanguageModel, options: ResilienceOptions = {}) {
    this.inner = inner;
    this.options = options;
    this.provider = inner.provider;
    this.modelId = inner.modelId;
    this.clock = options.clock ?? systemClock;
    this.limiter = options.limiter ?? new AdaptiveLimiter();
    this.breaker =
      options.breaker ?? new CircuitBreaker({ name: `${inner.provider}:${inner.modelId}`, clock: this.clock });
    const scorer = inner.scoreChoices?.bind(inner);
    if (scorer) {
      this.scoreChoices = (request) => this.withResilience(request.signal, (signal) => scorer({ ...request, signal }));
    }
    const batchScorer = inner.scoreChoicesBatch?.bind(inner);
    if (batchScorer) {
      this.scoreChoicesBatch = (requests) =>
        this.withResilience(anySignal(requests.map((request) => request.signal)), (signal) =>
          batchScorer(requests.map((request) => ({ ...request, signal }))),
        );
    }
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    return this.withResilience(request.signal, (signal) => this.inner.generate({ ...request, signal }));
  }

  stream(request: GenerateRequest): ModelStream {
    return createModelStream((emit) =>
      this.withResilience(request.signal, async (signal) => {
        let emitted = false;
        try {
          const stream = this.inner.stream({ ...request, signal });
          for await (const chunk of stream) {
            emitted = true;
            emit(chunk.delta);
          }
          return await stream.result;
        } catch (error) {
          // Text already handed out cannot be taken back: a failure after it is final.
          if (emitted && error instanceof ProviderError) {
            throw new ProviderError(error.kind, `${error.message} (after partial output)`, {
              status: error.status,
              final: true,
              cause: error,
            });
          }
          throw error;
        }
      }),
    );
  }

  async generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]> {
    return Promise.all(requests.map((request) => this.generate(request)));
  }

  async dispose(): Promise<void> {
    await this.inner.dispose?.();
  }

  private withResilience<T>(
    callerSignal: AbortSignal | undefined,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return retryWithBackoff(
      () =>
        this.limiter.run(
          () => {
            // Checked after the queue: the circuit may have opened while this request waited for a slot.
            this.breaker.ensureCanPass();
            return this.attempt(callerSignal, call);
          },
          permitOutcome,
          callerSignal,
        ),
      {
        ...this.options.retry,
        signal: callerSignal,
        clock: this.clock,
        isRetryable,
        retryAfterMs: (error) => (error instanceof ProviderError ? error.retryAfterMs : undefined),
        onRetry: this.options.onRetry ?? this.options.retry?.onRetry,
      },
    );
  }

  /** One attempt with its own timeout; records the outcome in the breaker. */
  private async attempt<T>(
    callerSignal: AbortSignal | undefined,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(callerSignal?.reason);
    if (callerSignal?.aborted) onCallerAbort();
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    let timedOut = false;
    const timeoutMs = this.options.timeoutMs;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutMs);
    try {
      const value = await call(controller.signal);
      this.breaker.recordSuccess();
      return value;
    } catch (caught) {
      const error = callerSignal?.aborted
        ? new OptNativeError('E_ABORTED', `${this.provider}:${this.modelId}: the request was aborted`, {
            cause: caught,
          })
        : timedOut
          ? new ProviderError('timeout', `${this.provider}:${this.modelId}: no answer within ${timeoutMs} ms`, {
              cause: caught,
            })
          : caught;
      if (countsAgainstBreaker(error)) this.breaker.recordFailure(error);
      else this.breaker.recordNeutral();
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }
  }
}
