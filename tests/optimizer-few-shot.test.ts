import { describe, expect, it } from 'vitest';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import {
  CategoricalTpe,
  FewShotOptimizer,
  bestMeanTrial,
  renderFewShotPrompt,
  type Observation,
} from '../ts/optimizers/few-shot/index.js';
import type { Example } from '../ts/datasets/types.js';
import { BASELINE, TOY_SPLITS, toyInput, toyTaskModel } from './optimizer-toy.js';

function variantModel(): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    respond: (request) => {
      const content = request.messages[0]?.content ?? '';
      return content.includes('(variant 1)')
        ? '<prompt>Codes: ALPHA.</prompt>'
        : '<prompt>Codes: BETA, GAMMA.</prompt>';
    },
  });
}

const obs = (a: number, value: number): Observation => ({ params: { a }, value });

describe('categorical TPE', () => {
  it('estimates smoothed densities and splits off the best gamma fraction', () => {
    const tpe = new CategoricalTpe({ a: 3 }, { seed: 1, gamma: 0.25, priorWeight: 1 });
    // counts 1/3 + [1, 2, 0] over 3 + 1 observations.
    const density = tpe.density('a', [obs(1, 0), obs(0, 0), obs(1, 0)]);
    expect(density.map((value) => value.toFixed(4))).toEqual(['0.3333', '0.5833', '0.0833']);
    const { good, bad } = tpe.split([obs(0, 0.1), obs(1, 0.9), obs(2, 0.5), obs(0, 0.2)]);
    expect(good.map((o) => o.params.a)).toEqual([1]);
    expect(bad.map((o) => o.params.a)).toEqual([2, 0, 0]);
  });

  it('suggests the choice with the highest l/g once past the random start-up trials', () => {
    const history = [obs(2, 1), obs(0, 0), obs(1, 0), obs(0, 0)];
    // l(2) = (1 + 1/3) / 2 = 0.667, g(2) = (1/3) / 4 = 0.083: a ratio of 8 against 0.29 (a=0) and 0.5 (a=1).
    for (const seed of [1, 2, 3, 4]) {
      expect(new CategoricalTpe({ a: 3 }, { seed, startupTrials: 0 }).suggest(history)).toEqual({ a: 2 });
    }
  });

  it('draws the start-up trials at random, reproducibly per seed', () => {
    const draws = (seed: number) => {
      const tpe = new CategoricalTpe({ a: 5, b: 4 }, { seed, startupTrials: 10 });
      return Array.from({ length: 6 }, () => tpe.suggest([]));
    };
    expect(draws(3)).toEqual(draws(3));
    expect(draws(3)).not.toEqual(draws(4));
  });

  it('picks the best mean minibatch configuration not yet validated', () => {
    const observations = [obs(0, 1), obs(0, 0), obs(1, 0.75), obs(2, 0.75)];
    expect(bestMeanTrial(observations, new Set())).toEqual({ a: 1 });
  });
});

describe('few_shot optimizer', () => {
  const config = {
    trials: 8,
    maxDemos: 2,
    demoSets: 3,
    instructionVariants: 2,
    minibatchSize: 2,
    fullEvalEvery: 4,
    startupTrials: 3,
    initialPrompt: BASELINE,
  };

  it('searches instructions × demonstrations on minibatches and validates the best on the full valset', async () => {
    const model = toyTaskModel();
    const result = await new FewShotOptimizer(config).optimize(toyInput(model, variantModel()));
    const minibatch = result.history.filter((entry) => entry.rejectionReason === 'minibatch');
    const full = result.history.filter((entry) => entry.rejectionReason === undefined);
    expect(minibatch).toHaveLength(8);
    // The baseline, then a full check after trials 4 and 8.
    expect(full.map((entry) => entry.iteration)).toEqual([0, 4, 8]);
    expect(result.score).toBe(Math.max(...full.map((entry) => entry.score ?? -1)));
    expect(full.map((entry) => entry.prompt)).toContain(result.bestPrompt);
    // 4 (baseline) + 8 trials × 2 + 2 checks × 4 evaluated-model calls, plus 2 variant calls.
    expect(model.calls).toHaveLength(4 + 16 + 8);
    expect(result.usage.calls).toBe(28 + 2);
    expect(result.score).toBeGreaterThan(0);
  });

  it('shows demonstrations the way the task answers them (its worked solution and final line)', async () => {
    const input = toyInput(toyTaskModel(), variantModel());
    const demoAnswer = (demo: Example) => `Look it up.\nThe answer is ${demo.target}.`;
    const result = await new FewShotOptimizer(config).optimize({ ...input, task: { ...input.task, demoAnswer } });
    const withDemos = result.history.filter((entry) => entry.prompt.includes('Examples:'));
    expect(withDemos.length).toBeGreaterThan(0);
    for (const entry of withDemos) {
      const answers = [...entry.prompt.matchAll(/\nA: ([^\n]*)/g)].map((match) => match[1]);
      expect(answers.length).toBeGreaterThan(0);
      expect(answers.every((answer) => answer === 'Look it up.')).toBe(true);
    }
  });

  it('makes the same decisions for the same seed', async () => {
    const run = (seed: number) => new FewShotOptimizer(config).optimize(toyInput(toyTaskModel(), variantModel(), seed));
    const [a, b] = await Promise.all([run(11), run(11)]);
    expect(a.history).toEqual(b.history);
    expect(a.bestPrompt).toBe(b.bestPrompt);
  });

  it('renders demonstrations in the evaluated Q/A format', () => {
    const [first, second] = TOY_SPLITS.train;
    expect(renderFewShotPrompt('Do it.', [first!, second!])).toBe(
      'Do it.\n\nExamples:\n\nQ: What is the code of alpha?\nA: 1\n\nQ: What is the code of beta?\nA: 2',
    );
    expect(renderFewShotPrompt('Do it.', [])).toBe('Do it.');
    const worked = (demo: Example) => `Look it up.\nThe answer is ${demo.target}.`;
    expect(renderFewShotPrompt('Do it.', [first!], worked)).toBe(
      'Do it.\n\nExamples:\n\nQ: What is the code of alpha?\nA: Look it up.\nThe answer is 1.',
    );
  });
});
