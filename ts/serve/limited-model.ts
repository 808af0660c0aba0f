import { AdaptiveLimiter } from '../run/limiter.js';
import { createModelStream, type ModelStream } from '../llm/stream-result.js';
import {
  LANGUAGE_MODEL_SPEC_VERSION,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
} from '../llm/types.js';

/**
 * At most `limit` generations of `model` at once; the rest wait in arrival order, and a request whose client goes
 * away leaves the queue without ever reaching the model (a local model has one GPU, not a pool).
 */
export class ConcurrencyLimitedModel implements LanguageModel {
  readonly specificationVersion = LANGUAGE_MODEL_SPEC_VERSION;
  readonly provider: string;
  readonly modelId: string;
  private readonly inner: LanguageModel;
  private readonly limiter: AdaptiveLimiter;

  constructor(inner: LanguageModel, limit: number) {
    this.inner = inner;
    this.provider = inner.provider;
    this.modelId = inner.modelId;
    this.limiter = new AdaptiveLimiter({ initial: limit, min: limit, max: limit });
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    return this.limiter.run(() => this.inner.generate(request), undefined, request.signal);
  }

  stream(request: GenerateRequest): ModelStream {
    return createModelStream(async (emit) => {
      const permit = await this.limiter.acquire(request.signal);
      try {
        const stream = this.inner.stream(request);
        for await (const chunk of stream) emit(chunk.delta);
        return await stream.result;
      } finally {
        permit.release('success');
      }
    });
  }

  async generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]> {
    return Promise.all(requests.map((request) => this.generate(request)));
  }
}
