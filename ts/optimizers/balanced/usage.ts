import type { OptimizationBudget } from '../contract.js';
import type { GenerateResult } from '../../llm/types.js';

/** Calls, tokens and dollars spent by one role of a run. */
export interface RoleUsage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  cacheHits: number;
}

export function emptyRoleUsage(): RoleUsage {
  return { calls: 0, promptTokens: 0, completionTokens: 0, cost: 0, cacheHits: 0 };
}

/** Counts one role's calls and reports them to the run's shared budget, which may stop the run (E_BUDGET). */
export class CallMeter {
  readonly usage: RoleUsage = emptyRoleUsage();
  private readonly budget: OptimizationBudget | undefined;

  constructor(budget?: OptimizationBudget) {
    this.budget = budget;
  }

  /** Call before each request: throws E_BUDGET once a limit is reached. */
  beforeCall(): void {
    this.budget?.check();
  }

  /** Adds calls replayed from a run directory (already paid and charged to the budget by an earlier session). */
  add(usage: RoleUsage): void {
    this.usage.calls += usage.calls;
    this.usage.promptTokens += usage.promptTokens;
    this.usage.completionTokens += usage.completionTokens;
    this.usage.cacheHits += usage.cacheHits;
    this.usage.cost += usage.cost;
  }

  afterCall(result: GenerateResult): void {
    this.usage.calls += 1;
    this.usage.promptTokens += result.usage.promptTokens;
    this.usage.completionTokens += result.usage.completionTokens;
    if (result.cached) this.usage.cacheHits += 1;
    const cost = this.budget?.record({ modelId: result.modelId, usage: result.usage, cached: result.cached }) ?? 0;
    this.usage.cost += cost;
  }
}

export function sumUsage(a: RoleUsage, b: RoleUsage): RoleUsage {
  return {
    calls: a.calls + b.calls,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    cost: a.cost + b.cost,
    cacheHits: a.cacheHits + b.cacheHits,
  };
}

/** Usage between an earlier copy of a meter's totals and now. */
export function usageSince(now: RoleUsage, earlier: RoleUsage): RoleUsage {
  return {
    calls: now.calls - earlier.calls,
    promptTokens: now.promptTokens - earlier.promptTokens,
    completionTokens: now.completionTokens - earlier.completionTokens,
    cost: now.cost - earlier.cost,
    cacheHits: now.cacheHits - earlier.cacheHits,
  };
}
