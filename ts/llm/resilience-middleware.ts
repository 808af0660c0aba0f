import { OptNativeError } from '../errors.js';
import { CircuitBreaker } from '../run/breaker.js';
import { systemClock, type Clock } from '../run/clock.js';
import { AdaptiveLimiter, type PermitOutcome } from '../run/limiter.js';
import { retryWithBackoff, type RetryOptions } from '../run/retry.js';
import { anySignal } from './any-signal.js';
import { settleBatch } from './batch-outcome.js';
import { ProviderError } from './provider-error.js';
import type { LanguageModelMiddleware } from './middleware.js';
import { createModelStream, type ModelStream } from './stream-result.js';
import type { GenerateRequest, LanguageModel } from './types.js';

export interface ResilienceOptions {
  /** What the default breaker protects, for its messages ("openai-compatible:qwen"). */
  name?: string;
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

/** The resilience middleware, with the limiter and breaker it uses (shared or its own). */
export interface ResilienceMiddleware extends LanguageModelMiddleware {
  readonly name: 'resilience';
  readonly limiter: AdaptiveLimiter;
  readonly breaker: CircuitBreaker;
}

/**
 * Puts a provider behind the shared concurrency limit (AIMD), retries with backoff and Retry-After, a per-attempt
 * timeout and a circuit breaker. Streams are retried only until their first delta. A generation batch is that many
 * requests, each with its own permit and retries (an HTTP provider's batch is that many HTTP calls, and one failed
 * answer must not lose the others: see `settleBatch`); a scoring batch is one call.
 */
export function resilienceMiddleware(options: ResilienceOptions = {}): ResilienceMiddleware {
  const clock = options.clock ?? systemClock;
  const limiter = options.limiter ?? new AdaptiveLimiter();
  const breaker = options.breaker ?? new CircuitBreaker({ name: options.name ?? 'language model', clock });
  const resilient = <T>(model: LanguageModel, callerSignal: AbortSignal | undefined, call: Attempt<T>) =>
    withResilience({ options, clock, limiter, breaker, model }, callerSignal, call);
  const generate = (model: LanguageModel, request: GenerateRequest) =>
    resilient(model, request.signal, (signal) => model.generate({ ...request, signal }));
  return {
    name: 'resilience',
    limiter,
    breaker,
    wrapGenerate: ({ request, model }) => generate(model, request),
    wrapStream: ({ request, model }) =>
      createModelStream((emit) =>
        resilient(model, request.signal, (signal) => streamOnce(model, request, signal, emit)),
      ),
    wrapGenerateBatch: ({ requests, model }) => settleBatch(requests.map((request) => generate(model, request))),
    wrapScoreChoices: ({ request, model, next }) =>
      resilient(model, request.signal, (signal) => next({ ...request, signal })),
    wrapScoreChoicesBatch: ({ requests, model, next }) =>
      resilient(model, anySignal(requests.map((request) => request.signal)), (signal) =>
        next(requests.map((request) => ({ ...request, signal }))),
      ),
  };
}

type Attempt<T> = (signal: AbortSignal) => Promise<T>;

interface Resilience {
  options: ResilienceOptions;
  clock: Clock;
  limiter: AdaptiveLimiter;
  breaker: CircuitBreaker;
  model: LanguageModel;
}

async function streamOnce(
  model: LanguageModel,
  request: GenerateRequest,
  signal: AbortSignal,
  emit: (delta: string) => void,
) {
  let emitted = false;
  try {
    const stream: ModelStream = model.stream({ ...request, signal });
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
}

function withResilience<T>(resilience: Resilience, callerSignal: AbortSignal | undefined, call: Attempt<T>) {
  const { options, clock, limiter, breaker } = resilience;
  return retryWithBackoff(
    () =>
      limiter.run(
        () => {
          // Checked after the queue: the circuit may have opened while this request waited for a slot.
          breaker.ensureCanPass();
          return attempt(resilience, callerSignal, call);
        },
        permitOutcome,
        callerSignal,
      ),
    {
      ...options.retry,
      signal: callerSignal,
      clock,
      isRetryable,
      retryAfterMs: (error) => (error instanceof ProviderError ? error.retryAfterMs : undefined),
      onRetry: options.onRetry ?? options.retry?.onRetry,
    },
  );
}

/** One attempt with its own timeout; records the outcome in the breaker. */
async function attempt<T>(
  { options, breaker, model }: Resilience,
  callerSignal: AbortSignal | undefined,
  call: Attempt<T>,
): Promise<T> {
  const label = `${model.provider}:${model.modelId}`;
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onCallerAbort();
  callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  let timedOut = false;
  const timeoutMs = options.timeoutMs;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs);
  try {
    const value = await call(controller.signal);
    breaker.recordSuccess();
    return value;
  } catch (caught) {
    const error = callerSignal?.aborted
      ? new OptNativeError('E_ABORTED', `${label}: the request was aborted`, { cause: caught })
      : timedOut
        ? new ProviderError('timeout', `${label}: no answer within ${timeoutMs} ms`, { cause: caught })
        : caught;
    if (countsAgainstBreaker(error)) breaker.recordFailure(error);
    else breaker.recordNeutral();
    throw error;
  } finally {
    if (timer) clearTimeout(timer);
    callerSignal?.removeEventListener('abort', onCallerAbort);
  }
}
