import { AdaptiveLimiter } from '../run/limiter.js';
import { anySignal } from './any-signal.js';
import type { LanguageModelMiddleware } from './middleware.js';
import { createModelStream } from './stream-result.js';

/** The concurrency-limit middleware, with the limiter it queues on. */
export interface ConcurrencyLimitMiddleware extends LanguageModelMiddleware {
  readonly name: 'concurrency-limit';
  readonly limiter: AdaptiveLimiter;
}

/**
 * At most `limit` calls of the model at once; the rest wait in arrival order, and a request whose caller goes away
 * leaves the queue without ever reaching the model (a local model has one GPU, not a pool). A stream holds its turn
 * until it ends; a generation batch is that many requests, each taking its own turn; a scoring batch is one call.
 */
export function concurrencyLimitMiddleware(limit: number): ConcurrencyLimitMiddleware {
  const limiter = new AdaptiveLimiter({ initial: limit, min: limit, max: limit });
  return {
    name: 'concurrency-limit',
    limiter,
    wrapGenerate: ({ request, next }) => limiter.run(() => next(), undefined, request.signal),
    wrapStream: ({ request, next }) =>
      createModelStream(async (emit) => {
        const permit = await limiter.acquire(request.signal);
        try {
          const stream = next();
          for await (const chunk of stream) emit(chunk.delta);
          return await stream.result;
        } finally {
          permit.release('success');
        }
      }),
    wrapGenerateBatch: ({ requests, model }) =>
      Promise.all(requests.map((request) => limiter.run(() => model.generate(request), undefined, request.signal))),
    wrapScoreChoices: ({ request, next }) => limiter.run(() => next(), undefined, request.signal),
    wrapScoreChoicesBatch: ({ requests, next }) =>
      limiter.run(() => next(), undefined, anySignal(requests.map((request) => request.signal))),
  };
}
