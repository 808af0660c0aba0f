import { describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { focusSchedule } from '../ts/optimizers/balanced/focus.js';
import { optimizeBalanced } from '../ts/optimizers/balanced/optimizer.js';
import { balancedRunResultSchema } from '../ts/optimizers/balanced/results.js';
import {
  CARELESS,
  CONCISE,
  CONCISE_TOKENS,
  STEP_BY_STEP,
  VERBOSE_TOKENS,
  WRONG_TOKENS,
  toyOptimizerModel,
  toyTask,
  toyTaskModel,
} from './balanced-toy.js';

describe('optimizeBalanced on the toy world', () => {
  it('an accuracy epoch adds reasoning: accuracy 0 → 1, tokens 4 → 24, with exact call counts', async () => {
    const model = toyTaskModel();
    const optimizerModel = toyOptimizerModel();
    const result = await optimizeBalanced({
      task: toyTask(),
      model,
      optimizerModel,
      initialPrompt: 'Solve the problem.',
      weights: { accuracy: 1, efficiency: 0 },
      maxEpochs: 1,
      batchSize: 2,
      evalSamples: 3,
    });
    expect(result.initial).toEqual({ accuracy: 0, meanCompletionTokens: WRONG_TOKENS, examples: 3 });
    expect(result.final).toEqual({ accuracy: 1, meanCompletionTokens: VERBOSE_TOKENS, examples: 3 });
    expect(result.finalPrompt).toBe(`Solve the problem. ${STEP_BY_STEP}`);
    const [epoch] = result.epochs;
    expect(epoch).toMatchObject({
      epoch: 1,
      focus: 'accuracy',
      promptBefore: 'Solve the problem.',
      prompt: `Solve the problem. ${STEP_BY_STEP}`,
      batch: { accuracy: 0, meanCompletionTokens: WRONG_TOKENS, examples: 2 },
      critiques: ['wrong final answer', 'wrong final answer'],
      feedback: 'feedback: act on the critiques',
      validation: null,
      reverted: false,
      revertReason: null,
    });
    // Task model: 3 initial + 2 batch + 3 for the new prompt; optimizer: 2 losses + 1 gradient + 1 update.
    expect(model.calls).toHaveLength(8);
    expect(optimizerModel.calls).toHaveLength(4);
    expect(result.usage.task.calls).toBe(8);
    expect(result.usage.optimizer.calls).toBe(4);
    expect(result.usage.total.calls).toBe(12);
    expect(result.usage.task.completionTokens).toBe(3 * WRONG_TOKENS + 2 * WRONG_TOKENS + 3 * VERBOSE_TOKENS);
    // Answers are greedy and capped; the prompt under test is the system message.
    expect(model.calls[0]).toMatchObject({ temperature: 0, maxTokens: 512 });
    expect(model.calls[0]?.messages[0]).toEqual({ role: 'system', content: 'Solve the problem.' });
    expect(() => balancedRunResultSchema.parse(JSON.parse(JSON.stringify(result)))).not.toThrow();
  });

  it('with validation, keeps a shorter equally-correct prompt and reverts one that loses accuracy', async () => {
    const initialPrompt = `Add the numbers. ${STEP_BY_STEP}`;
    const result = await optimizeBalanced({
      task: toyTask(),
      model: toyTaskModel(),
      optimizerModel: toyOptimizerModel(),
      initialPrompt,
      weights: { accuracy: 0, efficiency: 1 },
      maxEpochs: 3,
      evalSamples: 4,
      runValidation: true,
    });
    const concisePrompt = `${initialPrompt} ${CONCISE}`;
    expect(result.epochs.map((epoch) => epoch.focus)).toEqual(['efficiency', 'efficiency', 'efficiency']);
    expect(result.epochs.map((epoch) => epoch.candidatePrompt)).toEqual([concisePrompt, CARELESS, CARELESS]);
    expect(result.epochs.map((epoch) => epoch.reverted)).toEqual([false, true, true]);
    expect(result.epochs.map((epoch) => epoch.prompt)).toEqual([concisePrompt, concisePrompt, concisePrompt]);
    expect(result.epochs[0]?.validation).toEqual({
      previous: { accuracy: 1, meanCompletionTokens: VERBOSE_TOKENS, examples: 4 },
      candidate: { accuracy: 1, meanCompletionTokens: CONCISE_TOKENS, examples: 4 },
    });
    expect(result.epochs[1]?.validation?.candidate).toEqual({
      accuracy: 0,
      meanCompletionTokens: WRONG_TOKENS,
      examples: 4,
    });
    expect(result.epochs[1]?.revertReason).toBe('validation accuracy fell from 100.0% to 0.0%');
    expect(result.epochs.map((epoch) => epoch.evaluation.meanCompletionTokens)).toEqual([
      CONCISE_TOKENS,
      CONCISE_TOKENS,
      CONCISE_TOKENS,
    ]);
    expect(result.final).toEqual({ accuracy: 1, meanCompletionTokens: CONCISE_TOKENS, examples: 4 });
    expect(result.settings.runValidation).toBe(true);
  });

  it('follows the seeded focus schedule and repeats itself for the same seed', async () => {
    const run = (seed: number) =>
      optimizeBalanced({
        task: toyTask(),
        model: toyTaskModel(),
        optimizerModel: toyOptimizerModel(),
        initialPrompt: 'Solve the problem.',
        weights: { accuracy: 0.5, efficiency: 0.5 },
        maxEpochs: 6,
        seed,
      });
    const first = await run(11);
    const again = await run(11);
    expect(first.epochs.map((epoch) => epoch.focus)).toEqual(focusSchedule(first.weights, 6, 11));
    expect(again.epochs).toEqual(first.epochs);
    expect(again.finalPrompt).toBe(first.finalPrompt);
  });

  it('keeps the prompt when the update reply has no tagged prompt', async () => {
    const silent = new ScriptedLanguageModel({ respond: () => 'I would rather not.' });
    const result = await optimizeBalanced({
      task: toyTask(),
      model: toyTaskModel(),
      optimizerModel: silent,
      initialPrompt: 'Solve the problem.',
      weights: { accuracy: 1, efficiency: 0 },
      maxEpochs: 2,
    });
    expect(result.finalPrompt).toBe('Solve the problem.');
    expect(result.epochs.map((epoch) => epoch.revertReason)).toEqual([
      'the update reply held no improved prompt',
      'the update reply held no improved prompt',
    ]);
  });

  it('refuses bad settings with E_BAD_INPUT before calling any model', async () => {
    const model = toyTaskModel();
    const base = { task: toyTask(), model, initialPrompt: 'p', weights: { accuracy: 1, efficiency: 0 } };
    for (const bad of [
      { batchSize: 0 },
      { evalSamples: 1.5 },
      { numThreads: 0 },
      { initialPrompt: '  ' },
      { weights: { accuracy: 0, efficiency: 0 } },
    ]) {
      await expect(optimizeBalanced({ ...base, ...bad })).rejects.toBeInstanceOf(OptNativeError);
    }
    await expect(optimizeBalanced({ ...base, task: { ...toyTask(), train: [] } })).rejects.toThrow(/train split/);
    expect(model.calls).toHaveLength(0);
  });

  it('passes the thinking budget to the optimizer model only', async () => {
    const model = toyTaskModel();
    const optimizerModel = toyOptimizerModel();
    await optimizeBalanced({
      task: toyTask(),
      model,
      optimizerModel,
      initialPrompt: 'Solve the problem.',
      weights: { accuracy: 1, efficiency: 0 },
      maxEpochs: 1,
      thinkingBudget: 1024,
    });
    expect(optimizerModel.calls.every((call) => call.thinkingBudget === 1024)).toBe(true);
    // The default cap for critiques and rewrites, and no temperature unless one is asked for.
    expect(optimizerModel.calls.every((call) => call.maxTokens === 768 && call.temperature === undefined)).toBe(true);
    expect(model.calls.every((call) => call.thinkingBudget === undefined)).toBe(true);
  });
});

describe('optimizeBalanced when model calls fail', () => {
  it('counts a failed answer as wrong and leaves it out of the token mean', async () => {
    const healthy = toyTaskModel();
    const flaky = new ScriptedLanguageModel({
      modelId: 'flaky',
      respond: (request, callIndex) => {
        if (request.messages[1]?.content.startsWith('What is 1000 +')) throw new Error('connection reset');
        return healthy.generate(request).then(
          (result) => result.text,
          () => String(callIndex),
        );
      },
    });
    const result = await optimizeBalanced({
      task: toyTask(),
      model: flaky,
      optimizerModel: toyOptimizerModel(),
      initialPrompt: `Solve it. ${STEP_BY_STEP}`,
      weights: { accuracy: 1, efficiency: 0 },
      maxEpochs: 0,
      evalSamples: 4,
    });
    // test-0 ("What is 1000 + 1?") fails: 3 of 4 right, and the mean is over the 3 answers.
    expect(result.initial).toEqual({ accuracy: 0.75, meanCompletionTokens: VERBOSE_TOKENS, examples: 4, failures: 1 });
  });

  it('ends the run with stopReason "error" when the optimizer model fails, keeping the epochs done', async () => {
    const optimizer = toyOptimizerModel();
    const failingSecondUpdate = new ScriptedLanguageModel({
      modelId: 'failing',
      respond: async (request) => {
        const reply = (await optimizer.generate(request)).text;
        if (reply.includes('IMPROVED_VARIABLE') && reply.includes(`${STEP_BY_STEP} ${STEP_BY_STEP}`)) {
          throw new OptNativeError('E_PROVIDER', 'HTTP 500 from the optimizer');
        }
        return reply;
      },
    });
    const result = await optimizeBalanced({
      task: toyTask(),
      model: toyTaskModel(),
      optimizerModel: failingSecondUpdate,
      initialPrompt: 'Solve it.',
      weights: { accuracy: 1, efficiency: 0 },
      maxEpochs: 4,
    });
    expect(result.stopReason).toBe('error');
    expect(result.stopMessage).toBe('[E_PROVIDER] HTTP 500 from the optimizer');
    expect(result.epochs).toHaveLength(1);
    expect(result.finalPrompt).toBe(`Solve it. ${STEP_BY_STEP}`);
  });

  it('fails the evaluation when most answers fail: a broken model, not a bad prompt', async () => {
    const broken = new ScriptedLanguageModel({
      respond: () => {
        throw new Error('model crashed');
      },
    });
    await expect(
      optimizeBalanced({
        task: toyTask(),
        model: broken,
        initialPrompt: 'Solve it.',
        weights: { accuracy: 1, efficiency: 0 },
      }),
    ).rejects.toThrow('the prompted model failed on 4 of 4 examples; first error: model crashed');
  });
});
