import type { Budget } from '../run/budget.js';
import { createModelStream, type ModelStream } from './stream-result.js';
import {
  LANGUAGE_MODEL_SPEC_VERSION,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type ScoreChoicesRequest,
  type ScoreChoicesResult,
} from './types.js';

/**
 * Refuses calls once the budget is exhausted (BudgetExceeded, E_BUDGET) and records each result's usage and cost.
 * Put it outside the cache so that cache hits are counted as free hits.
 */
export class BudgetedLanguageModel implements LanguageModel {
  readonly specificationVersion = LANGUAGE_MODEL_SPEC_VERSION;
  readonly provider: string;
  readonly modelId: string;
  readonly budget: Budget;
  readonly scoreChoices?: (request: ScoreChoicesRequest) => Promise<ScoreChoicesResult>;
  private readonly inner: LanguageModel;

  constructor(inner: LanguageModel, budget: Budget) {
    this.inner = inner;
    this.budget = budget;
    this.provider = inner.provider;
    this.modelId = inner.modelId;
    const scorer = inner.scoreChoices?.bind(inner);
    if (scorer) {
      this.scoreChoices = async (request) => {
        budget.check();
        const result = await scorer(request);
        budget.record(result);
        return result;
      };
    }
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    this.budget.check();
    const result = await this.inner.generate(request);
    this.budget.record(result);
    return result;
  }

  stream(request: GenerateRequest): ModelStream {
    return createModelStream(async (emit) => {
      this.budget.check();
      const stream = this.inner.stream(request);
      for await (const chunk of stream) emit(chunk.delta);
      const result = await stream.result;
      this.budget.record(result);
      return result;
    });
  }

  async generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]> {
    return Promise.all(requests.map((request) => this.generate(request)));
  }

  async dispose(): Promise<void> {
    await this.inner.dispose?.();
  }
}
