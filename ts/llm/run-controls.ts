import type { Budget } from '../run/budget.js';
import type { ResponseCache } from '../run/cache.js';
import { budgetMiddleware } from './budget-middleware.js';
import { cacheMiddleware } from './cache-middleware.js';
import { wrapLanguageModel, type LanguageModelMiddleware } from './middleware.js';
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
  const middleware: LanguageModelMiddleware[] = [];
  if (cache) middleware.push(cacheMiddleware(cache, budget ? (hit) => budget.record(hit) : undefined));
  if (budget) middleware.push(budgetMiddleware(budget));
  return middleware.length === 0 ? model : wrapLanguageModel(model, ...middleware);
}
