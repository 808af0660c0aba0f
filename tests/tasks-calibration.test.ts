import { describe, expect, it } from 'vitest';
import type { DatasetSplits, Example } from '../ts/datasets/types.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import {
  CONTENT_FREE_INPUTS,
  argmax,
  calibratedDistribution,
  choiceDistribution,
  meanDistribution,
} from '../ts/tasks/calibration.js';
import { evaluateTextPrompt } from '../ts/tasks/evaluate.js';
import { createTextTask } from '../ts/tasks/text-task.js';

describe('contextual calibration arithmetic (Zhao et al. 2021)', () => {
  it('turns log-probs into a distribution', () => {
    // ln 1 and ln 3 → 1/4, 3/4
    const [first, second] = choiceDistribution([0, Math.log(3)]);
    expect(first).toBeCloseTo(0.25, 12);
    expect(second).toBeCloseTo(0.75, 12);
  });

  it('averages the content-free distributions into the prior', () => {
    // [0.2, 0.8] and [0.4, 0.6] → [0.3, 0.7]
    const prior = meanDistribution([
      [Math.log(0.2), Math.log(0.8)],
      [Math.log(0.4), Math.log(0.6)],
    ]);
    expect(prior[0]).toBeCloseTo(0.3, 12);
    expect(prior[1]).toBeCloseTo(0.7, 12);
  });

  it('divides by the prior and renormalizes: a biased winner can flip', () => {
    // p = [0.4, 0.6], prior [0.2, 0.8]: 0.4/0.2 = 2, 0.6/0.8 = 0.75 → [2/2.75, 0.75/2.75] = [0.7273, 0.2727]
    const calibrated = calibratedDistribution([Math.log(0.4), Math.log(0.6)], [0.2, 0.8]);
    expect(calibrated[0]).toBeCloseTo(2 / 2.75, 12);
    expect(calibrated[1]).toBeCloseTo(0.75 / 2.75, 12);
    expect(argmax(calibrated)).toBe(0);
    // A uniform prior changes nothing.
    expect(calibratedDistribution([Math.log(0.4), Math.log(0.6)], [0.5, 0.5])[1]).toBeCloseTo(0.6, 12);
  });

  it('argmax takes the first of ties, among the allowed indices when given', () => {
    expect(argmax([1, 3, 3])).toBe(1);
    expect(argmax([1, 3, 3, 9], [0, 2])).toBe(2);
    expect(argmax([5, 1], [])).toBe(0);
  });
});

describe('score mode with calibration', () => {
  const example = (id: string, input: string, target: string): Example => ({ id, input, target });
  const splits: DatasetSplits = {
    name: 'bbh:toy',
    defaultMetric: 'exact_match',
    train: [],
    validation: [example('a', 'alpha', 'Yes'), example('b', 'beta', 'No'), example('c', 'gamma', 'No')],
    test: [],
  };
  const task = createTextTask(splits);
  // A scorer biased toward "Yes" (choices [No, Yes]): alpha 0.2/0.8, beta 0.45/0.55, gamma 0.3/0.7; content-free
  // inputs 0.4/0.6. Raw: all Yes (BA 0.5). Calibrated: alpha 0.5 vs 1.333 → Yes; beta 1.125 vs 0.917 → No;
  // gamma 0.75 vs 1.167 → Yes. So 2 of 3 right, BA = (1/1 + 1/2) / 2 = 0.75.
  const probabilities: Record<string, [number, number]> = {
    alpha: [0.2, 0.8],
    beta: [0.45, 0.55],
    gamma: [0.3, 0.7],
  };
  const scorer = () =>
    new ScriptedLanguageModel({
      respond: () => '',
      scoreChoices: (request) => {
        const content = request.messages.at(-1)!.content;
        const key = Object.keys(probabilities).find((word) => content.includes(`Q: ${word}`));
        const [no, yes] = key ? probabilities[key]! : [0.4, 0.6];
        return [Math.log(no), Math.log(yes)];
      },
    });

  it('without calibration the biased scorer answers one label', async () => {
    const report = await evaluateTextPrompt({
      task,
      examples: splits.validation,
      model: scorer(),
      instruction: 'Decide.',
      mode: 'score',
      calibration: 'none',
    });
    expect(report.predictions.map((prediction) => prediction.answer)).toEqual(['Yes', 'Yes', 'Yes']);
    expect(report.balancedAccuracy).toBe(0.5);
  });

  it('contextual calibration scores the content-free inputs under the same instruction and corrects by them', async () => {
    const model = scorer();
    const report = await evaluateTextPrompt({
      task,
      examples: splits.validation,
      model,
      instruction: 'Decide.',
      mode: 'score',
      calibration: 'contextual',
    });
    expect(report.predictions.map((prediction) => prediction.answer)).toEqual(['Yes', 'No', 'Yes']);
    expect(report.balancedAccuracy).toBeCloseTo(0.75, 12);
    // 3 content-free calls first, each with the instruction and the answer format, then one per example.
    const seen = model.scoreCalls.map((request) => request.messages.at(-1)!.content);
    expect(seen).toHaveLength(CONTENT_FREE_INPUTS.length + 3);
    expect(seen[0]).toBe('Decide.\n\nQ: N/A\nAnswer with one of: No, Yes.\nA:');
    expect(report.usage.calls).toBe(6);
  });

  it('is batch calibration by default (the measured default)', () => {
    expect(task.scoreCalibration).toBe('batch');
  });

  it('batch calibration takes the prior from the evaluated examples, with no extra call', async () => {
    // Batch prior = mean of [0.2, 0.8], [0.45, 0.55], [0.3, 0.7] = [0.3167, 0.6833].
    // alpha: 0.2/0.3167 = 0.632 vs 0.8/0.6833 = 1.171 → Yes; beta: 1.421 vs 0.805 → No; gamma: 0.947 vs 1.024 → Yes.
    const model = scorer();
    const report = await evaluateTextPrompt({
      task,
      examples: splits.validation,
      model,
      instruction: 'Decide.',
      mode: 'score',
      calibration: 'batch',
    });
    expect(report.predictions.map((prediction) => prediction.answer)).toEqual(['Yes', 'No', 'Yes']);
    expect(model.scoreCalls).toHaveLength(3);
    expect(report.usage.calls).toBe(3);
  });
});

describe('multiple-choice questions offer only their own options', () => {
  const question = (id: string, letters: string, target: string): Example => ({
    id,
    input: `Pick one:\nOptions:\n${[...letters].map((letter) => `(${letter}) option ${letter}`).join('\n')}`,
    target,
  });
  // Four-option and five-option questions in one task: labels (A)-(E).
  const splits: DatasetSplits = {
    name: 'bbh:toy_choice',
    defaultMetric: 'exact_match',
    train: [],
    validation: [question('four', 'ABCD', '(D)'), question('five', 'ABCDE', '(E)')],
    test: [],
  };
  const task = createTextTask(splits);

  it('reads the option letters of each question', () => {
    expect(task.labels).toEqual(['(A)', '(B)', '(C)', '(D)', '(E)']);
    expect(task.choicesOf?.(splits.validation[0]!)).toEqual(['(A)', '(B)', '(C)', '(D)']);
  });

  it('never answers a letter the question does not list, even when it scores best', async () => {
    // The scorer likes (E) most everywhere, then (D).
    const model = new ScriptedLanguageModel({
      respond: () => '',
      scoreChoices: () => [-5, -4, -3, -2, -1],
    });
    const report = await evaluateTextPrompt({
      task,
      examples: splits.validation,
      model,
      instruction: 'Choose.',
      mode: 'score',
      calibration: 'none',
    });
    expect(report.predictions.map((prediction) => prediction.answer)).toEqual(['(D)', '(E)']);
    expect(report.accuracy).toBe(1);
  });
});
