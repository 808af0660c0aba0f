/**
 * Resume of the balanced optimizer from its run directory, as the other optimizers resume: a finished run replays
 * without calling a model and returns the same result; a run cut off mid-epoch finishes with the remaining calls
 * only, to the result of an uninterrupted run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import type { LanguageModel } from '../ts/llm/types.js';
import { BalancedOptimizer, type BalancedOptimizationResult } from '../ts/optimizers/balanced/index.js';
import { RunDirectory } from '../ts/run/run-directory.js';
import { createTextTask } from '../ts/tasks/text-task.js';
import { toyOptimizerModel, toyTask, toyTaskModel } from './balanced-toy.js';

const dir = mkdtempSync(join(tmpdir(), 'balanced-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Counts calls; from call `failAfter` on, stands in for a killed process (E_ABORTED). */
function counted(inner: LanguageModel, failAfter = Infinity): LanguageModel & { calls: number } {
  const model = {
    calls: 0,
    specificationVersion: inner.specificationVersion,
    provider: inner.provider,
    modelId: inner.modelId,
    async generate(request: Parameters<LanguageModel['generate']>[0]) {
      if (model.calls >= failAfter) throw new OptNativeError('E_ABORTED', 'killed');
      model.calls += 1;
      return inner.generate(request);
    },
    stream: (request: Parameters<LanguageModel['stream']>[0]) => inner.stream(request),
    generateBatch: (requests: Parameters<LanguageModel['generateBatch']>[0]) =>
      Promise.all(requests.map((request) => model.generate(request))),
  };
  return model;
}

async function runIn(path: string, model: LanguageModel, optimizerModel: LanguageModel) {
  const { train, validation, test } = toyTask();
  const task = createTextTask({ name: 'toy-addition', defaultMetric: 'numeric_match', train, validation, test });
  const runDir = RunDirectory.openOrCreate(path);
  try {
    return await new BalancedOptimizer({
      initialPrompt: 'Solve it.',
      weights: { accuracy: 0.5, efficiency: 0.5 },
      maxEpochs: 3,
      evalSamples: 4,
      runValidation: true,
    }).optimize({
      task,
      trainset: task.splits.train,
      valset: task.splits.validation,
      model,
      optimizerModel,
      metric: task.metric,
      seed: 7,
      runDir,
    });
  } finally {
    runDir.close();
  }
}

/** Everything but the clock. */
function timeless(result: BalancedOptimizationResult) {
  const { wallTime: _wallTime, run, ...rest } = result;
  const { wallTimeMs: _wallTimeMs, startedAt: _startedAt, ...runRest } = run;
  return { ...rest, run: runRest };
}

describe('balanced resume', () => {
  it('replays a finished run without calling a model', async () => {
    const path = join(dir, 'finished');
    const original = await runIn(path, toyTaskModel(), toyOptimizerModel());
    expect(original.stopReason).toBe('completed');
    const model = counted(toyTaskModel());
    const optimizerModel = counted(toyOptimizerModel());
    const replayed = await runIn(path, model, optimizerModel);
    expect([model.calls, optimizerModel.calls]).toEqual([0, 0]);
    expect(timeless(replayed)).toEqual(timeless(original));
    expect(replayed.usage.calls).toBe(original.usage.calls);
  });

  it('continues a cut-off run with the remaining calls to the uninterrupted result', async () => {
    const referenceTask = counted(toyTaskModel());
    const referenceOptimizer = counted(toyOptimizerModel());
    const reference = await runIn(join(dir, 'reference'), referenceTask, referenceOptimizer);
    const path = join(dir, 'cut');
    // Killed at the 7th optimizer call: the first epoch's step is recorded, the second one is cut off.
    const cut = await runIn(path, toyTaskModel(), counted(toyOptimizerModel(), 6));
    expect(cut.stopReason).toBe('aborted');
    expect(cut.run.epochs).toHaveLength(1);
    const model = counted(toyTaskModel());
    const optimizerModel = counted(toyOptimizerModel());
    const resumed = await runIn(path, model, optimizerModel);
    expect(timeless(resumed)).toEqual(timeless(reference));
    // One epoch's 5 optimizer calls (3 losses, gradient, update) were recorded before the cut and are not paid again.
    expect(optimizerModel.calls).toBe(referenceOptimizer.calls - 5);
    expect(model.calls).toBeLessThan(referenceTask.calls);
    expect(model.calls + optimizerModel.calls).toBeGreaterThan(0);
  });
});
