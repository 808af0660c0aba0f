import type { Budget } from '../run/budget.js';
import type { ResponseCache } from '../run/cache.js';
import { BudgetedLanguageModel } from './budgeted-model.js';
import { CachedLanguageModel } from './cached-model.js';
import type { LanguageModel } from './types.js';

/** Puts a model behind the run's cache and budget, in the order that makes cache hits free: budget(cache(model)). */
export function withRunControls(
  model: LanguageModel,
  controls: { cache?: ResponseCache; budget?: Budget },
): LanguageModel {
  const cached = controls.cache ? new CachedLanguageModel(model, controls.cache) : model;
  return controls.budget ? new BudgetedLanguageModel(cached, controls.budget) : cached;
}
