import type { Budget } from '../run/budget.js';
import type { ResponseCache } from '../run/cache.js';
import { BudgetedLanguageModel } from './budgeted-model.js';
import { CachedLanguageModel } from './cached-model.js';
import type { LanguageModel } from './types.js';

/**
 * Puts a model behind the run's cache and budget: cache(budget(model)). Cache hits never reach the budget's checks
 * and are recorded as free hits; paid calls are checked, held in flight and recorded.
 */
export function withRunControls(
  model: LanguageModel,
  controls: { cache?: ResponseCache; budget?: Budget },
): LanguageModel {
  const { cache, budget } = controls;
  const budgeted = budget ? new BudgetedLanguageModel(model, budget) : model;
  if (!cache) return budgeted;
  return new CachedLanguageModel(budgeted, cache, budget ? (hit) => budget.record(hit) : undefined);
}
