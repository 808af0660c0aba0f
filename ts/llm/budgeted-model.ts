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
 * Each call holds its place while in flight, so concurrent calls never overshoot the call limit. Put it inside the
 * cache (see withRunControls): it then sees only paid calls.
 */
export class BudgetedLanguageModel implements LanguageModel {
  readonly specificationVersion = LANGUAGE_MODEL_SPEC_VERSION;
  readonly provider: string;
  readonly modelId: string;
  readonly budget: Budget;
  readonly scoreChoices?: (request: ScoreChoicesRequest) => Promise<ScoreChoicesResult>;
  readonly scoreChoicesBatch?: (requests: ScoreChoicesRequest[]) => Promise<ScoreChoicesResult[]>;
  private readonly inner: LanguageModel;

  constructor(inner: LanguageModel, budget: Budget) {
    this.inner = inner;
    this.budget = budget;
    this.provider = inner.provider;
    this.modelId = inner.modelId;
    const scorer = inner.scoreChoices?.bind(inner);
    if (scorer) {
      this.scoreChoices = (request) => this.paidCall(() => scorer(request));
    }
    const batchScorer = inner.scoreChoicesBatch?.bind(inner);
    if (batchScorer) {
      this.scoreChoicesBatch = (requests) => this.paidCalls(requests.length, () => batchScorer(requests));
    }
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    return this.paidCall(() => this.inner.generate(request));
  }

  stream(request: GenerateRequest): ModelStream {
    return createModelStream((emit) =>
      this.paidCall(async () => {
        const stream = this.inner.stream(request);
        for await (const chunk of stream) emit(chunk.delta);
        return stream.result;
      }),
    );
  }

  async generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]> {
    return Promise.all(requests.map((request) => this.generate(request)));
  }

  private async paidCall<T extends { modelId: string; usage: GenerateResult['usage'] }>(
    call: () => Promise<T>,
  ): Promise<T> {
    const settle = this.budget.reserveCall();
    try {
      const result = await call();
      settle(result);
      return result;
    } finally {
      settle();
    }
  }

  /** One call that answers `count` requests: holds `count` places, records each result as one call. */
  private async paidCalls<T extends { modelId: string; usage: GenerateResult['usage'] }>(
    count: number,
    call: () => Promise<T[]>,
  ): Promise<T[]> {
    const settles: ((finished?: T) => void)[] = [];
    try {
      for (let i = 0; i < count; i += 1) settles.push(this.budget.reserveCall());
      const results = await call();
      results.forEach((result, index) => settles[index]?.(result));
      return results;
    } finally {
      for (const settle of settles) settle();
    }
  }

  async dispose(): Promise<void> {
    await this.inner.dispose?.();
  }
}
