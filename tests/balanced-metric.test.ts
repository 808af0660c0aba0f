import { describe, expect, it } from 'vitest';
import type { DatasetSplits, Example } from '../ts/datasets/types.js';
import { balancedTaskFromText } from '../ts/optimizers/balanced/task.js';
import { createTextTask } from '../ts/tasks/text-task.js';

const example = (target: string, id = 'x'): Example => ({ id, input: 'q', target });

function taskOf(defaultMetric: DatasetSplits['defaultMetric'], targets: string[]) {
  const examples = targets.map((target, index) => example(target, `e${index}`));
  return balancedTaskFromText(
    createTextTask({ name: 'unit', defaultMetric, train: examples, validation: examples, test: examples }),
  );
}

describe('reply metric of a GSM8K-style task (numeric match)', () => {
  const { metric } = taskOf('numeric_match', ['18', '1000']);

  it('scores the final number of a reasoning reply against the canonical target', () => {
    expect(metric('She has 16 - 3 - 4 = 9 eggs, 9 * 2 = 18. The answer is $18.', example('18')).score).toBe(1);
    expect(metric('#### 1,000', example('1000')).score).toBe(1);
    expect(metric('The answer is 18.0', example('18')).score).toBe(1);
  });

  it('takes the number after the answer cue, not the last number', () => {
    expect(metric('The answer is 18. (I checked: 9 * 2 = 18, not 16.)', example('18')).score).toBe(1);
  });

  it('fails with feedback when wrong or when there is no number', () => {
    expect(metric('16 - 3 = 13. The answer is 13.', example('18'))).toEqual({
      score: 0,
      feedback: 'expected 18, got 13',
    });
    expect(metric('I do not know.', example('18'))).toEqual({ score: 0, feedback: 'expected 18, got no number' });
  });
});

describe('reply metric of a BBH-style task (exact match)', () => {
  it('free-form targets: normalized text after "the answer is"', () => {
    const { metric } = taskOf('exact_match', ['7', '12', '3']);
    expect(metric('Counting them all, the answer is 7.', example('7')).score).toBe(1);
    expect(metric('So the answer is 12', example('7')).score).toBe(0);
  });

  it('multiple choice: the letter, whatever follows it', () => {
    const { metric } = taskOf('exact_match', ['(A)', '(B)', '(C)']);
    expect(metric('So the answer is (B) Blue.', example('(B)')).score).toBe(1);
    expect(metric('So the answer is (C).', example('(B)')).score).toBe(0);
  });

  it('word labels: the label after the cue (navigate: Yes/No)', () => {
    const { metric } = taskOf('exact_match', ['Yes', 'No']);
    expect(metric('You end up at the start, so the answer is Yes.', example('Yes')).score).toBe(1);
    expect(metric('Not the start. So the answer is No.', example('Yes')).score).toBe(0);
  });
});
