/**
 * Resume of the few_shot, evolutionary and hierarchical_reflective optimizers (meta_prompt has its own test): a
 * finished run replayed from its run directory calls no model and returns the same result, and a run cut off after
 * some steps finishes with the remaining steps only, to the result of an uninterrupted run. This is what a resumed
 * benchmark task relies on, so every recorded step key must be stable across sessions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { OptimizationResult } from '../ts/optimizers/contract.js';
import { EvolutionaryOptimizer } from '../ts/optimizers/evolutionary/index.js';
import { FewShotOptimizer } from '../ts/optimizers/few-shot/index.js';
import { HierarchicalReflectiveOptimizer } from '../ts/optimizers/hierarchical-reflective/index.js';
import { RunDirectory } from '../ts/run/run-directory.js';
import { BASELINE, WORDS, tagged, toyInput, toyTaskModel } from './optimizer-toy.js';

const dir = mkdtempSync(join(tmpdir(), 'optimizer-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One optimizer model for all three: root causes, failure modes, else the prompt plus its first missing keyword. */
function writerModel(failAfter = Infinity): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    respond: (request, callIndex) => {
      // Stands in for a killed process: the run stops with E_ABORTED at this call.
      if (callIndex >= failAfter) throw new OptNativeError('E_ABORTED', 'killed');
      const content = request.messages[0]?.content ?? '';
      if (content.includes('"ROOT CAUSE:')) return 'ROOT CAUSE: the instruction never names the words';
      if (content.includes('"FAILURE MODE:')) return 'FAILURE MODE: unnamed | the words are not named';
      const current = tagged(content, 'current') || tagged(content, 'a') || BASELINE;
      const missing = WORDS.map((word) => word.toUpperCase()).find((word) => !current.includes(word));
      return `<prompt>${current} ${missing ?? 'Done.'}</prompt>`;
    },
  });
}

const OPTIMIZERS = {
  few_shot: () =>
    new FewShotOptimizer({
      trials: 4,
      instructionVariants: 2,
      minibatchSize: 2,
      fullEvalEvery: 2,
      initialPrompt: BASELINE,
    }),
  evolutionary: () => new EvolutionaryOptimizer({ populationSize: 3, generations: 2, initialPrompt: BASELINE }),
  hierarchical_reflective: () =>
    new HierarchicalReflectiveOptimizer({ rounds: 2, batchSize: 2, maxFailureModes: 2, initialPrompt: BASELINE }),
};

async function runIn(
  name: keyof typeof OPTIMIZERS,
  path: string,
  writer: ScriptedLanguageModel,
  model = toyTaskModel(),
): Promise<OptimizationResult> {
  const runDir = RunDirectory.openOrCreate(path);
  try {
    return await OPTIMIZERS[name]().optimize({ ...toyInput(model, writer, 5), runDir });
  } finally {
    runDir.close();
  }
}

const withoutWallTime = ({ wallTime: _wallTime, ...rest }: OptimizationResult) => rest;

describe.each(Object.keys(OPTIMIZERS) as (keyof typeof OPTIMIZERS)[])('%s resume', (name) => {
  it('replays a finished run without calling a model', async () => {
    const path = join(dir, `${name}-finished`);
    const original = await runIn(name, path, writerModel());
    const model = toyTaskModel();
    const writer = writerModel();
    const replayed = await runIn(name, path, writer, model);
    expect([model.calls.length, writer.calls.length]).toEqual([0, 0]);
    expect(replayed).toEqual(original);
  });

  it('continues a cut-off run with the remaining steps to the uninterrupted result', async () => {
    const reference = await runIn(name, join(dir, `${name}-reference`), writerModel());
    const path = join(dir, `${name}-cut`);
    const cut = await runIn(name, path, writerModel(1));
    expect(cut.stopReason).toBe('aborted');
    const writer = writerModel();
    const resumed = await runIn(name, path, writer);
    expect(withoutWallTime(resumed)).toEqual(withoutWallTime(reference));
    // The first optimizer call was recorded before the cut and is not asked again.
    expect(writer.calls.length).toBeGreaterThan(0);
    const referenceWriter = writerModel();
    await runIn(name, join(dir, `${name}-reference-count`), referenceWriter);
    expect(writer.calls.length).toBe(referenceWriter.calls.length - 1);
  });
});
