import { OptNativeError } from '../errors.js';
import { responseCacheKey } from '../run/cache-key.js';
import type { ResponseCache } from '../run/cache.js';
import { answersOfFailedBatch, settleBatch } from './batch-outcome.js';
import type { LanguageModelMiddleware, WrapBatchCall, WrapCall } from './middleware.js';
import { createModelStream } from './stream-result.js';
import type {
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  ScoreChoicesRequest,
  ScoreChoicesResult,
} from './types.js';

/** What a cache hit reports to `onHit` (a budget records it as a free hit). */
export type CachedAnswer = Pick<GenerateResult, 'modelId' | 'usage' | 'cached'>;

type Generate = WrapCall<GenerateRequest, Promise<GenerateResult>>;

/**
 * Answers from the response cache when it can (result.cached = true, so budgets count it as a free hit) and stores
 * every successful answer of the wrapped model, generations and choice scores alike (scores are keyed by model,
 * messages and choices). Identical generations in flight at once are paid once. A batch sends only its misses on,
 * in one call; the answers that arrived before a batch failed are stored. Failed calls reach the caller and are
 * never stored. `onHit` hears every answer served without a call (cache hits and shared in-flight calls).
 */
export function cacheMiddleware(cache: ResponseCache, onHit?: (answer: CachedAnswer) => void): LanguageModelMiddleware {
  const inFlight = new Map<string, Promise<GenerateResult>>();
  const served = <T extends CachedAnswer>(result: T): T => {
    onHit?.(result);
    return result;
  };

  /** Later callers of an identical request share the first call's answer. */
  async function share(pending: Promise<GenerateResult>, again: Generate): Promise<GenerateResult> {
    try {
      return served({ ...(await pending), cached: true });
    } catch (error) {
      // The first caller's abort is not ours: ask again on our own account.
      const abortedElsewhere =
        error instanceof OptNativeError && error.code === 'E_ABORTED' && !again.request.signal?.aborted;
      if (abortedElsewhere) return generate(again);
      throw error;
    }
  }

  /** Registers a paid call as in flight until it settles, storing its answer. */
  function track(key: string, model: LanguageModel, request: GenerateRequest, call: Promise<GenerateResult>) {
    const stored = call
      .then((result) => {
        cache.put(model.provider, model.modelId, request, result);
        return result;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, stored);
    return stored;
  }

  /** A hit, a share of an identical call in flight, or undefined when the model must be asked. */
  function answered(model: LanguageModel, request: GenerateRequest, again: Generate) {
    const hit = cache.get(model.provider, model.modelId, request);
    if (hit) return { key: '', answer: Promise.resolve(served(hit)) };
    const key = responseCacheKey(model.provider, model.modelId, request);
    const pending = inFlight.get(key);
    return { key, answer: pending && share(pending, again) };
  }

  function generate(call: Generate): Promise<GenerateResult> {
    const { request, model } = call;
    const { key, answer } = answered(model, request, call);
    return answer ?? track(key, model, request, call.next(request));
  }

  async function generateBatch({ requests, model, next }: WrapBatchCall<GenerateRequest, GenerateResult>) {
    let sendMisses!: (results: Promise<GenerateResult[]>) => void;
    const missBatch = new Promise<GenerateResult[]>((resolve) => (sendMisses = resolve));
    const misses: GenerateRequest[] = [];
    const answers = requests.map((request) => {
      const again = { request, model, next: (changed = request) => model.generate(changed) };
      const { key, answer: known } = answered(model, request, again);
      if (known) return known;
      const slot = misses.push(request) - 1;
      // Registered before the batch goes out, so a duplicate later in this batch shares it.
      const answer = missBatch.then(
        (results) => pickResult(results, slot, model),
        // An answer that arrived before its batch failed is stored all the same.
        (error: unknown) => answersOfFailedBatch<GenerateResult>(error)[slot] ?? Promise.reject(error),
      );
      return track(key, model, request, answer);
    });
    sendMisses(misses.length === 0 ? Promise.resolve([]) : new Promise((resolve) => resolve(next(misses))));
    // Settled as a batch of its own, so the layers above learn which of *their* requests were answered.
    return settleBatch(answers);
  }

  /** Serves the stored scores it has, asks `scoreMisses` for the rest in one go, stores what comes back. */
  async function scoreThroughCache(
    model: LanguageModel,
    requests: ScoreChoicesRequest[],
    scoreMisses: (misses: ScoreChoicesRequest[]) => Promise<ScoreChoicesResult[]>,
  ): Promise<ScoreChoicesResult[]> {
    const results = requests.map((request) => cache.getScores(model.provider, model.modelId, request));
    const missing = results.flatMap((result, index) => (result ? [] : [index]));
    results.forEach((result) => result && served(result));
    if (missing.length === 0) return results as ScoreChoicesResult[];
    const fresh = await scoreMisses(missing.map((index) => requests[index] as ScoreChoicesRequest));
    missing.forEach((requestIndex, k) => {
      const result = pickResult(fresh, k, model);
      cache.putScores(model.provider, model.modelId, requests[requestIndex] as ScoreChoicesRequest, result);
      results[requestIndex] = result;
    });
    return results as ScoreChoicesResult[];
  }

  return {
    name: 'cache',
    wrapGenerate: generate,
    wrapStream: ({ request, model, next }) =>
      createModelStream(async (emit) => {
        const hit = cache.get(model.provider, model.modelId, request);
        if (hit) {
          emit(hit.text);
          return served(hit);
        }
        const stream = next();
        for await (const chunk of stream) emit(chunk.delta);
        const result = await stream.result;
        cache.put(model.provider, model.modelId, request, result);
        return result;
      }),
    wrapGenerateBatch: generateBatch,
    wrapScoreChoices: async ({ request, model, next }) =>
      pickResult(await scoreThroughCache(model, [request], async () => [await next()]), 0, model),
    wrapScoreChoicesBatch: ({ requests, model, next }) => scoreThroughCache(model, requests, next),
  };
}

function pickResult<T>(results: T[], index: number, model: LanguageModel): T {
  const result = results[index];
  if (!result) throw new OptNativeError('E_INTERNAL', `${model.provider}: a batch call returned too few results`);
  return result;
}
