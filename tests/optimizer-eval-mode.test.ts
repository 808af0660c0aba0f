/**
 * `evalMode: 'score'` of the meta_prompt, few_shot, evolutionary and hierarchical_reflective optimizers: candidates are
 * scored by label scoring (one scoreChoices call per example, no generation), and score mode is refused up front
 * where it cannot work. A small Yes/No world: the scorer knows the answer of a question only when the instruction
 * says CAREFUL, else it always picks "No".
 */
import { describe, expect, it } from 'vitest';
import type { DatasetSplits, Example } from '../ts/datasets/types.js';
import { OptNativeError } from '../ts/errors.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { ScoreChoicesRequest } from '../ts/llm/types.js';
import { EvolutionaryOptimizer } from '../ts/optimizers/evolutionary/index.js';
import { FewShotOptimizer } from '../ts/optimizers/few-shot/index.js';
import { HierarchicalReflectiveOptimizer } from '../ts/optimizers/hierarchical-reflective/index.js';
import { MetaPromptOptimizer } from '../ts/optimizers/meta-prompt/index.js';
import type { TextOptimizeInput } from '../ts/optimizers/engine/session.js';
import { createTextTask } from '../ts/tasks/text-task.js';
import { toyInput, toyTaskModel } from './optimizer-toy.js';

const ANSWERS = ['Yes', 'No', 'Yes', 'Yes'];

function examples(prefix: string): Example[] {
  return ANSWERS.map((target, index) => ({ id: `${prefix}-${index}`, input: `Is walk ${index} closed?`, target }));
}

const SPLITS: DatasetSplits = {
  name: 'yes-no',
  defaultMetric: 'exact_match',
  train: examples('train'),
  validation: examples('validation'),
  test: examples('test'),
};
const task = createTextTask(SPLITS);

/** Knows the answer only under a CAREFUL instruction; never generates (a generation would fail the test). */
function scoringModel(): ScriptedLanguageModel & { scored: ScoreChoicesRequest[] } {
  const scored: ScoreChoicesRequest[] = [];
  const model = new ScriptedLanguageModel({
    modelId: 'scorer',
    respond: () => {
      throw new OptNativeError('E_PROVIDER', 'score mode must not generate');
    },
    scoreChoices: (request) => {
      scored.push(request);
      const text = request.messages.map((message) => message.content).join('\n');
      // The question is the last walk named (demonstrations come before it).
      const index = Number([...text.matchAll(/walk (\d+)/g)].at(-1)?.[1] ?? 0);
      const answer = text.includes('CAREFUL') ? ANSWERS[index] : 'No';
      return request.choices.map((choice) => (choice === answer ? -0.1 : -4));
    },
  });
  return Object.assign(model, { scored });
}

const carefulWriter = () =>
  new ScriptedLanguageModel({ modelId: 'writer', respond: () => '<prompt>Be CAREFUL: answer Yes or No.</prompt>' });

function input(model: ScriptedLanguageModel, optimizerModel = carefulWriter()): TextOptimizeInput {
  return {
    task,
    trainset: SPLITS.train,
    valset: SPLITS.validation,
    model,
    optimizerModel,
    metric: task.metric,
    seed: 3,
  };
}

describe('evalMode score', () => {
  it('meta_prompt scores candidates by label scoring, one call per example, with no generation', async () => {
    const model = scoringModel();
    const writer = carefulWriter();
    const result = await new MetaPromptOptimizer({
      rounds: 1,
      candidatesPerRound: 1,
      initialPrompt: 'Answer Yes or No.',
      evalMode: 'score',
    }).optimize(input(model, writer));
    // Baseline: always "No" → right on 1 of 4, balanced accuracy (0/3 + 1/1) / 2 = 0.5; the rewrite knows all.
    expect(result.history.map((entry) => entry.score)).toEqual([0.5, 1]);
    expect(result.bestPrompt).toBe('Be CAREFUL: answer Yes or No.');
    expect(model.calls).toHaveLength(0);
    expect(model.scored).toHaveLength(8);
    expect(model.scored[0]?.choices).toEqual(['No', 'Yes']);
    // The critique names the score the task is judged by.
    const critique = writer.calls[0]?.messages[0]?.content ?? '';
    expect(critique).toContain('scores 0.500 (balanced accuracy; 0.5 = chance)');
    // 8 scorings (prompt tokens only) + 1 optimizer call.
    expect(result.usage.calls).toBe(9);
    expect(result.usage.completionTokens).toBe(6);
  });

  it('few_shot, evolutionary and hierarchical_reflective score the same way', async () => {
    const optimizers = [
      new FewShotOptimizer({
        trials: 4,
        instructionVariants: 1,
        minibatchSize: 4,
        fullEvalEvery: 2,
        evalMode: 'score',
      }),
      new EvolutionaryOptimizer({ populationSize: 2, generations: 1, evalMode: 'score' }),
      new HierarchicalReflectiveOptimizer({ rounds: 1, maxFailureModes: 1, evalMode: 'score' }),
    ];
    const writer = () =>
      new ScriptedLanguageModel({
        respond: (request) => {
          const content = request.messages[0]?.content ?? '';
          if (content.includes('"ROOT CAUSE:')) return 'ROOT CAUSE: not careful';
          if (content.includes('"FAILURE MODE:')) return 'FAILURE MODE: haste | answers without care';
          return '<prompt>Be CAREFUL: answer Yes or No.</prompt>';
        },
      });
    for (const optimizer of optimizers) {
      const model = scoringModel();
      const result = await optimizer.optimize(input(model, writer()));
      // few_shot may keep demonstrations after the instruction.
      const instruction = result.bestPrompt.split('\n')[0];
      expect([optimizer.name, result.score, instruction]).toEqual([optimizer.name, 1, 'Be CAREFUL: answer Yes or No.']);
      expect(model.calls).toHaveLength(0);
      expect(model.scored.length).toBeGreaterThan(0);
    }
  });

  it('is refused up front for a task without labels or a model that cannot score choices', async () => {
    const make = [
      () => new MetaPromptOptimizer({ evalMode: 'score' }),
      () => new FewShotOptimizer({ evalMode: 'score' }),
      () => new EvolutionaryOptimizer({ evalMode: 'score' }),
      () => new HierarchicalReflectiveOptimizer({ evalMode: 'score' }),
    ];
    for (const optimizer of make) {
      // The toy code task is numeric: no label set.
      const numeric = toyInput(toyTaskModel(), carefulWriter());
      await expect(optimizer().optimize(numeric)).rejects.toMatchObject({
        code: 'E_BAD_INPUT',
        message: expect.stringContaining('needs a classification task; toy-codes has no label set'),
      });
      const generating = new ScriptedLanguageModel({ respond: () => 'Yes' });
      await expect(optimizer().optimize(input(generating))).rejects.toMatchObject({
        code: 'E_BAD_INPUT',
        message: expect.stringContaining('needs a model that scores choices; scripted does not'),
      });
    }
  });
});

describe('candidates that are an answer instead of an instruction', () => {
  it('are recorded as rejected and never evaluated, by every session-based optimizer', async () => {
    // The reply of the 0.5B model to an evolutionary seed request in the smoke benchmark: an answer, not a prompt.
    const answering = () => new ScriptedLanguageModel({ respond: () => 'No' });
    const optimizers = [
      new MetaPromptOptimizer({ rounds: 1, candidatesPerRound: 1, evalMode: 'score' }),
      new FewShotOptimizer({ trials: 1, instructionVariants: 1, minibatchSize: 2, evalMode: 'score' }),
      new EvolutionaryOptimizer({ populationSize: 2, generations: 1, evalMode: 'score' }),
    ];
    for (const optimizer of optimizers) {
      const model = scoringModel();
      const result = await optimizer.optimize(input(model, answering()));
      const rejected = result.history.filter((entry) => entry.prompt === 'No');
      expect([optimizer.name, rejected.length > 0]).toEqual([optimizer.name, true]);
      expect(
        rejected.every(
          (entry) =>
            entry.score === null && entry.rejectionReason?.startsWith('is an answer ("No"), not an instruction'),
        ),
      ).toBe(true);
      const instructions = model.scored.map((request) => request.messages.map((message) => message.content).join('\n'));
      expect(instructions.some((text) => text.startsWith('No\n'))).toBe(false);
      expect(result.bestPrompt).toBe('Answer the question with exactly one of: No, Yes.');
    }
    const hrpoWriter = new ScriptedLanguageModel({
      respond: (request) => {
        const content = request.messages[0]?.content ?? '';
        if (content.includes('"ROOT CAUSE:')) return 'ROOT CAUSE: guesses';
        if (content.includes('"FAILURE MODE:')) return 'FAILURE MODE: guessing | answers No';
        return '<prompt>No</prompt>';
      },
    });
    const hrpo = await new HierarchicalReflectiveOptimizer({ rounds: 1, evalMode: 'score' }).optimize(
      input(scoringModel(), hrpoWriter),
    );
    expect(hrpo.history.map((entry) => [entry.prompt, entry.score, entry.rejectionReason])).toEqual([
      ['Answer the question with exactly one of: No, Yes.', 0.5, undefined],
      ['No', null, 'is an answer ("No"), not an instruction'],
    ]);
  });
});
