import { wrapLanguageModel, type LanguageModelMiddleware } from '../../llm/middleware.js';
import { answersOfFailedBatch } from '../../llm/batch-outcome.js';
import type { GenerateResult, LanguageModel, Usage } from '../../llm/types.js';
import { subtractUsage, type OptimizationBudget, type OptimizationUsage } from '../contract.js';

type MeteredResult = { modelId: string; usage: Usage; cached?: boolean };

/**
 * Counts every call of the models it wraps (cache hits apart, as the Budget does) and enforces the budget before
 * each call, so that usage per step is the difference of two snapshots.
 */
export class UsageMeter {
  private totals = { calls: 0, promptTokens: 0, completionTokens: 0, cost: 0, cacheHits: 0 };

  constructor(private readonly budget?: OptimizationBudget) {}

  snapshot(): OptimizationUsage {
    return { ...this.totals };
  }

  /** Usage between an earlier snapshot and now. */
  since(earlier: OptimizationUsage): OptimizationUsage {
    return subtractUsage(this.totals, earlier);
  }

  private record(modelId: string, usage: Usage, cached: boolean | undefined): void {
    const cost = this.budget?.record({ modelId, usage, cached }) ?? 0;
    if (cached) {
      this.totals.cacheHits += 1;
      return;
    }
    this.totals.calls += 1;
    this.totals.promptTokens += usage.promptTokens;
    this.totals.completionTokens += usage.completionTokens;
    this.totals.cost += cost;
  }

  /** Checks the budget before each call of the model it wraps and records each result (batches per request). */
  readonly middleware: LanguageModelMiddleware = {
    name: 'usage-meter',
    wrapGenerate: async ({ next }) => {
      this.budget?.check();
      return this.recorded(await next());
    },
    wrapStream: ({ next }) => {
      this.budget?.check();
      const stream = next();
      return Object.assign(stream, { result: stream.result.then((result) => this.recorded(result)) });
    },
    // One call of the model, but one counted call per request, as the budget middleware counts them.
    wrapGenerateBatch: async ({ next }) => {
      this.budget?.check();
      try {
        return (await next()).map((result) => this.recorded(result));
      } catch (error) {
        // What arrived before the batch failed was paid for (and cached) all the same.
        answersOfFailedBatch<GenerateResult>(error).forEach((result) => result && this.recorded(result));
        throw error;
      }
    },
    wrapScoreChoices: async ({ next }) => {
      this.budget?.check();
      return this.recorded(await next());
    },
    wrapScoreChoicesBatch: async ({ next }) => {
      this.budget?.check();
      return (await next()).map((result) => this.recorded(result));
    },
  };

  /** `model` behind this meter. */
  wrap(model: LanguageModel): LanguageModel {
    return wrapLanguageModel(model, this.middleware);
  }

  private recorded<T extends MeteredResult>(result: T): T {
    this.record(result.modelId, result.usage, result.cached);
    return result;
  }
}
