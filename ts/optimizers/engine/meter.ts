import type {
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  ScoreChoicesRequest,
  ScoreChoicesResult,
  StreamChunk,
  Usage,
} from '../../llm/types.js';
import type { OptimizationBudget, OptimizationUsage } from '../contract.js';

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
    const now = this.totals;
    return {
      calls: now.calls - earlier.calls,
      promptTokens: now.promptTokens - earlier.promptTokens,
      completionTokens: now.completionTokens - earlier.completionTokens,
      cost: now.cost - earlier.cost,
      cacheHits: now.cacheHits - earlier.cacheHits,
    };
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

  wrap(model: LanguageModel): LanguageModel {
    const checkBudget = () => this.budget?.check();
    const recordResult = (result: GenerateResult) => {
      this.record(result.modelId, result.usage, result.cached);
      return result;
    };
    const wrapped: LanguageModel = {
      specificationVersion: model.specificationVersion,
      provider: model.provider,
      modelId: model.modelId,
      async generate(request: GenerateRequest) {
        checkBudget();
        return recordResult(await model.generate(request));
      },
      stream(request: GenerateRequest): AsyncIterable<StreamChunk> & { result: Promise<GenerateResult> } {
        checkBudget();
        const inner = model.stream(request);
        return Object.assign(inner, { result: inner.result.then(recordResult) });
      },
      async generateBatch(requests: GenerateRequest[]) {
        checkBudget();
        return (await model.generateBatch(requests)).map(recordResult);
      },
      dispose: model.dispose?.bind(model),
    };
    const scoreChoices = model.scoreChoices?.bind(model);
    if (scoreChoices) {
      wrapped.scoreChoices = async (request: ScoreChoicesRequest): Promise<ScoreChoicesResult> => {
        checkBudget();
        const result = await scoreChoices(request);
        this.record(result.modelId, result.usage, result.cached);
        return result;
      };
    }
    const scoreChoicesBatch = model.scoreChoicesBatch?.bind(model);
    if (scoreChoicesBatch) {
      // One native call, but one counted call per scored prompt, as the budgeted model counts them.
      wrapped.scoreChoicesBatch = async (requests: ScoreChoicesRequest[]): Promise<ScoreChoicesResult[]> => {
        checkBudget();
        const results = await scoreChoicesBatch(requests);
        for (const result of results) this.record(result.modelId, result.usage, result.cached);
        return results;
      };
    }
    return wrapped;
  }
}
