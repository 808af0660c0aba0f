/**
 * Balanced never adopts a rewrite that drops an answer word of a classification task. In the smoke benchmark the
 * 0.5B optimizer model rewrote "Answer the question with exactly one of: No, Yes." into "Yes", and balanced (without
 * validation) adopted it because the 3 evaluation samples all happened to be "No" questions it still got right.
 */
import { describe, expect, it } from 'vitest';
import type { DatasetSplits, Example } from '../ts/datasets/types.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { BalancedOptimizer } from '../ts/optimizers/balanced/balanced-optimizer.js';
import { createTextTask } from '../ts/tasks/text-task.js';

const examples = (prefix: string): Example[] =>
  ['No', 'No', 'Yes'].map((target, index) => ({ id: `${prefix}-${index}`, input: `Walk ${index}?`, target }));
const SPLITS: DatasetSplits = {
  name: 'yes-no',
  defaultMetric: 'exact_match',
  train: examples('train'),
  validation: examples('validation'),
  test: examples('test'),
};
const task = createTextTask(SPLITS);
const INITIAL = 'Answer the question with exactly one of: No, Yes.';

async function optimizeWith(rewrite: string) {
  const optimizer = new BalancedOptimizer({
    initialPrompt: INITIAL,
    maxEpochs: 1,
    batchSize: 1,
    evalSamples: 2,
    numThreads: 1,
    weights: { accuracy: 1, efficiency: 0 },
  });
  return optimizer.optimize({
    task,
    trainset: SPLITS.train,
    valset: SPLITS.validation,
    model: new ScriptedLanguageModel({ respond: () => 'No' }),
    optimizerModel: new ScriptedLanguageModel({ respond: () => `<IMPROVED_VARIABLE>${rewrite}</IMPROVED_VARIABLE>` }),
    metric: task.metric,
    seed: 1,
  });
}

describe('balanced and the answer words', () => {
  it('keeps the prompt when the rewrite drops an answer word, and says why', async () => {
    const result = await optimizeWith('Yes');
    expect(result.bestPrompt).toBe(INITIAL);
    expect(result.history.map((entry) => [entry.prompt, entry.rejectionReason])).toEqual([
      [INITIAL, undefined],
      ['Yes', 'missing label word(s): No'],
    ]);
  });

  it('adopts a rewrite that keeps them', async () => {
    const result = await optimizeWith('Think, then answer Yes or No.');
    expect(result.bestPrompt).toBe('Think, then answer Yes or No.');
  });
});
