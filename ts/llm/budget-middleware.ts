import type { Budget } from '../run/budget.js';
import { answersOfFailedBatch } from './batch-outcome.js';
import type { LanguageModelMiddleware } from './middleware.js';
import { createModelStream } from './stream-result.js';
import type { Usage } from './types.js';

type PaidResult = { modelId: string; usage: Usage };

/**
 * Refuses calls once the budget is exhausted (BudgetExceeded, E_BUDGET) and records each result's usage and cost.
 * Each call holds its place while in flight, so concurrent calls never overshoot the call limit; a batch holds one
 * place per request, is refused whole when they do not all fit, and records the answers of a failed batch that did
 * arrive. Put it inside the cache (see withRunControls): it then sees only paid calls.
 */
export function budgetMiddleware(budget: Budget): LanguageModelMiddleware {
  async function paidCall<T extends PaidResult>(call: () => Promise<T>): Promise<T> {
    const [result] = await paidCalls(1, async () => [await call()]);
    return result as T;
  }

  /** One call that answers `count` requests: holds `count` places, records each result as one call. */
  async function paidCalls<T extends PaidResult>(count: number, call: () => Promise<T[]>): Promise<T[]> {
    const settles: ((finished?: PaidResult) => void)[] = [];
    try {
      for (let i = 0; i < count; i += 1) settles.push(budget.reserveCall());
      const results = await call();
      results.forEach((result, index) => settles[index]?.(result));
      return results;
    } catch (error) {
      // Answers that arrived before a batch failed were paid for all the same.
      answersOfFailedBatch<T>(error).forEach((result, index) => result && settles[index]?.(result));
      throw error;
    } finally {
      for (const settle of settles) settle();
    }
  }

  return {
    name: 'budget',
    wrapGenerate: ({ next }) => paidCall(() => next()),
    wrapStream: ({ next }) =>
      createModelStream((emit) =>
        paidCall(async () => {
          const stream = next();
          for await (const chunk of stream) emit(chunk.delta);
          return stream.result;
        }),
      ),
    wrapGenerateBatch: ({ requests, next }) => paidCalls(requests.length, () => next()),
    wrapScoreChoices: ({ next }) => paidCall(() => next()),
    wrapScoreChoicesBatch: ({ requests, next }) => paidCalls(requests.length, () => next()),
  };
}
