import { OptNativeError } from '../errors.js';
import { responseCacheKey } from '../run/cache-key.js';
import type { ResponseCache } from '../run/cache.js';
import { createModelStream, type ModelStream } from './stream-result.js';
import {
  LANGUAGE_MODEL_SPEC_VERSION,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type ScoreChoicesRequest,
  type ScoreChoicesResult,
} from './types.js';

/** What a cache hit reports to `onHit` (a budget records it as a free hit). */
export type CachedAnswer = Pick<GenerateResult, 'modelId' | 'usage' | 'cached'>;

/**
 * Answers from the response cache when it can (result.cached = true, so budgets count it as a free hit) and stores
 * every successful answer of the wrapped model, generations and choice scores alike (scores are keyed by model,
 * messages and choices). Failed calls reach the caller and are never stored.
 */
export class CachedLanguageModel implements LanguageModel {
  readonly specificationVersion = LANGUAGE_MODEL_SPEC_VERSION;
  readonly provider: string;
  readonly modelId: string;
  readonly scoreChoices?: (request: ScoreChoicesRequest) => Promise<ScoreChoicesResult>;
  readonly scoreChoicesBatch?: (requests: ScoreChoicesRequest[]) => Promise<ScoreChoicesResult[]>;
  private readonly inner: LanguageModel;
  private readonly cache: ResponseCache;
  private readonly inFlight = new Map<string, Promise<GenerateResult>>();
  private readonly onHit: ((result: CachedAnswer) => void) | undefined;

  /** `onHit` hears every answer served without a call (cache hits and shared in-flight calls). */
  constructor(inner: LanguageModel, cache: ResponseCache, onHit?: (result: CachedAnswer) => void) {
    this.inner = inner;
    this.cache = cache;
    this.onHit = onHit;
    this.provider = inner.provider;
    this.modelId = inner.modelId;
    const scorer = inner.scoreChoices?.bind(inner);
    if (scorer) {
      this.scoreChoices = async (request) => {
        const [result] = await this.scoreThroughCache([request], (misses) => Promise.all(misses.map(scorer)));
        if (!result) throw new OptNativeError('E_INTERNAL', `${this.provider}: the scorer returned nothing`);
        return result;
      };
    }
    const batchScorer = inner.scoreChoicesBatch?.bind(inner);
    if (batchScorer) this.scoreChoicesBatch = (requests) => this.scoreThroughCache(requests, batchScorer);
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const hit = this.cache.get(this.provider, this.modelId, request);
    if (hit) return this.served(hit);
    // Identical requests in flight at once are paid once: later callers share the first call's answer.
    const key = responseCacheKey(this.provider, this.modelId, request);
    const pending = this.inFlight.get(key);
    if (pending) {
      try {
        return this.served({ ...(await pending), cached: true });
      } catch (error) {
        // The first caller's abort is not ours: ask again on our own account.
        const abortedElsewhere =
          error instanceof OptNativeError && error.code === 'E_ABORTED' && !request.signal?.aborted;
        if (abortedElsewhere) return this.generate(request);
        throw error;
      }
    }
    const call = this.inner
      .generate(request)
      .then((result) => {
        this.cache.put(this.provider, this.modelId, request, result);
        return result;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, call);
    return call;
  }

  stream(request: GenerateRequest): ModelStream {
    return createModelStream(async (emit) => {
      const hit = this.cache.get(this.provider, this.modelId, request);
      if (hit) {
        emit(hit.text);
        return this.served(hit);
      }
      const stream = this.inner.stream(request);
      for await (const chunk of stream) emit(chunk.delta);
      const result = await stream.result;
      this.cache.put(this.provider, this.modelId, request, result);
      return result;
    });
  }

  async generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]> {
    return Promise.all(requests.map((request) => this.generate(request)));
  }

  private served<T extends CachedAnswer>(result: T): T {
    this.onHit?.(result);
    return result;
  }

  /** Serves the stored scores it has, asks `scoreMisses` for the rest in one go, stores what comes back. */
  private async scoreThroughCache(
    requests: ScoreChoicesRequest[],
    scoreMisses: (misses: ScoreChoicesRequest[]) => Promise<ScoreChoicesResult[]>,
  ): Promise<ScoreChoicesResult[]> {
    const results = requests.map((request) => this.cache.getScores(this.provider, this.modelId, request));
    const missing = results.flatMap((result, index) => (result ? [] : [index]));
    results.forEach((result) => result && this.served(result));
    if (missing.length === 0) return results as ScoreChoicesResult[];
    const fresh = await scoreMisses(missing.map((index) => requests[index] as ScoreChoicesRequest));
    missing.forEach((requestIndex, k) => {
      const result = fresh[k];
      if (!result) throw new OptNativeError('E_INTERNAL', `${this.provider}: a batch scoring returned too few results`);
      this.cache.putScores(this.provider, this.modelId, requests[requestIndex] as ScoreChoicesRequest, result);
      results[requestIndex] = result;
    });
    return results as ScoreChoicesResult[];
  }

  async dispose(): Promise<void> {
    await this.inner.dispose?.();
  }
}
