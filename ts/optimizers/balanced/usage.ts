import { addUsage, EMPTY_USAGE, type OptimizationBudget, type OptimizationUsage } from '../contract.js';
import type { GenerateResult } from '../../llm/types.js';

/** Calls, tokens and dollars spent by one role of a run. */
export type RoleUsage = OptimizationUsage;

/**
 * Counts one role's calls and reports them to the run's shared budget, which may stop the run (E_BUDGET). Unlike the
 * engine's UsageMeter, a cache hit counts as a call here too (balanced's reports have always counted it so).
 */
export class CallMeter {
  private total: RoleUsage = EMPTY_USAGE;

  constructor(private readonly budget?: OptimizationBudget) {}

  get usage(): RoleUsage {
    return this.total;
  }

  /** Call before each request: throws E_BUDGET once a limit is reached. */
  beforeCall(): void {
    this.budget?.check();
  }

  /** Adds calls replayed from a run directory (already paid and charged to the budget by an earlier session). */
  add(usage: RoleUsage): void {
    this.total = addUsage(this.total, usage);
  }

  afterCall(result: GenerateResult): void {
    const cost = this.budget?.record({ modelId: result.modelId, usage: result.usage, cached: result.cached }) ?? 0;
    this.add({
      calls: 1,
      promptTokens: result.usage.promptTokens,
      completionTokens: result.usage.completionTokens,
      cost,
      cacheHits: result.cached ? 1 : 0,
    });
  }
}
