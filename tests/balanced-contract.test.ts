import { describe, expect, it } from 'vitest';
import { BalancedOptimizer } from '../ts/optimizers/balanced/index.js';
import { Budget } from '../ts/run/budget.js';
import { createTextTask } from '../ts/tasks/text-task.js';
import { STEP_BY_STEP, toyOptimizerModel, toyTask, toyTaskModel } from './balanced-toy.js';

function toyTextTask() {
  const { train, validation, test } = toyTask();
  return createTextTask({ name: 'toy-addition', defaultMetric: 'numeric_match', train, validation, test });
}

describe('BalancedOptimizer (shared optimizer contract)', () => {
  it('returns a frozen result with the kept prompt, its valset accuracy and one history entry per epoch', async () => {
    const task = toyTextTask();
    const events: { type: string }[] = [];
    const progress: number[] = [];
    const optimizer = new BalancedOptimizer({
      initialPrompt: 'Solve it.',
      weights: { accuracy: 1, efficiency: 0 },
      maxEpochs: 2,
      evalSamples: 4,
    });
    const result = await optimizer.optimize({
      task,
      trainset: task.splits.train,
      valset: task.splits.validation,
      model: toyTaskModel(),
      optimizerModel: toyOptimizerModel(),
      metric: task.metric,
      seed: 3,
      runDir: { dir: '/unused', runStep: (_key, fn) => fn(), appendEvent: (event) => events.push(event) },
      onProgress: (update) => progress.push(update.iteration),
    });
    expect(result.bestPrompt).toBe(`Solve it. ${STEP_BY_STEP} ${STEP_BY_STEP}`);
    expect(result.score).toBe(1);
    expect(result.stopReason).toBe('completed');
    expect(result.history.map((entry) => [entry.iteration, entry.score])).toEqual([
      [0, 0],
      [1, 1],
      [2, 1],
    ]);
    // 4 initial + per epoch (3 batch + 4 new prompt) on the task model; 3 losses + gradient + update per epoch.
    expect(result.usage.calls).toBe(4 + 2 * 7 + 2 * 5);
    expect(result.usage).toEqual({
      calls: result.run.usage.total.calls,
      promptTokens: result.run.usage.total.promptTokens,
      completionTokens: result.run.usage.total.completionTokens,
      cost: 0,
      cacheHits: 0,
    });
    expect(Object.isFrozen(result) && Object.isFrozen(result.history[1])).toBe(true);
    expect(events.map((event) => event.type)).toEqual(['balanced_epoch', 'balanced_epoch']);
    expect(progress).toEqual([1, 2]);
  });

  it('stops cleanly when the shared budget runs out, keeping the epochs done', async () => {
    const task = toyTextTask();
    // 4 initial answers + one epoch (3 batch + 5 optimizer + 4 new prompt) = 16 calls; the 17th is refused.
    const budget = new Budget({ maxCalls: 16 });
    const result = await new BalancedOptimizer({
      initialPrompt: 'Solve it.',
      weights: { accuracy: 1, efficiency: 0 },
      maxEpochs: 5,
      evalSamples: 4,
    }).optimize({
      task,
      trainset: task.splits.train,
      valset: task.splits.validation,
      model: toyTaskModel(),
      optimizerModel: toyOptimizerModel(),
      metric: task.metric,
      seed: 0,
      budget,
    });
    expect(result.stopReason).toBe('budget');
    expect(result.run.epochs).toHaveLength(1);
    expect(result.bestPrompt).toBe(`Solve it. ${STEP_BY_STEP}`);
    expect(budget.spent().calls).toBe(16);
  });

  it('stops as aborted when the signal fires between epochs', async () => {
    const task = toyTextTask();
    const controller = new AbortController();
    const result = await new BalancedOptimizer({
      initialPrompt: 'Solve it.',
      weights: { accuracy: 1, efficiency: 0 },
      maxEpochs: 5,
    }).optimize({
      task,
      trainset: task.splits.train,
      valset: task.splits.validation,
      model: toyTaskModel(),
      optimizerModel: toyOptimizerModel(),
      metric: task.metric,
      seed: 0,
      signal: controller.signal,
      onProgress: (update) => {
        if (update.iteration === 2) controller.abort();
      },
    });
    expect(result.stopReason).toBe('aborted');
    expect(result.run.epochs).toHaveLength(2);
  });
});
