import { describe, expect, it } from 'vitest';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import {
  HierarchicalReflectiveOptimizer,
  parseFailureModes,
  parseRootCauses,
} from '../ts/optimizers/hierarchical-reflective/index.js';
import { BASELINE, seedAwareTaskModel, tagged, toyInput, toyTaskModel } from './optimizer-toy.js';

/**
 * Analyses name one root cause per failed word; they resolve only once `parallel` of them have started, so a
 * sequential implementation would hang. Synthesis puts an unhelpful "tone" mode first; edits follow the mode.
 */
function reflectiveModel(parallel: number): ScriptedLanguageModel {
  let started = 0;
  let release: () => void = () => undefined;
  const allStarted = new Promise<void>((resolve) => (release = resolve));
  return new ScriptedLanguageModel({
    respond: async (request) => {
      const content = request.messages[0]?.content ?? '';
      if (content.includes('"ROOT CAUSE:')) {
        started += 1;
        if (started === parallel) release();
        await allStarted;
        const words = [...content.matchAll(/Input: What is the code of (\w+)\?/g)].map((match) => match[1]);
        return words.map((word) => `ROOT CAUSE: the instruction never names ${word}`).join('\n');
      }
      if (content.includes('"FAILURE MODE:')) {
        const words = [...content.matchAll(/never names (\w+)/g)].map((match) => match[1]);
        return [
          'FAILURE MODE: tone | answers are too terse',
          ...words.map((w) => `FAILURE MODE: missing ${w} | unnamed`),
        ].join('\n');
      }
      const mode = /failure mode:\n(.+)/.exec(content)?.[1] ?? '';
      const current = tagged(content, 'current');
      const word = /missing (\w+)/.exec(mode)?.[1];
      return `<prompt>${current} ${word ? word.toUpperCase() : 'Be polite.'}</prompt>`;
    },
  });
}

describe('hierarchical_reflective optimizer', () => {
  it('analyzes failure batches in parallel, synthesizes failure modes and keeps only improving edits', async () => {
    const optimizerModel = reflectiveModel(2);
    const optimizer = new HierarchicalReflectiveOptimizer({
      rounds: 1,
      batchSize: 2,
      maxFailureModes: 3,
      initialPrompt: BASELINE,
    });
    const result = await optimizer.optimize(toyInput(toyTaskModel(), optimizerModel));
    expect(result.history).toEqual([
      { iteration: 0, prompt: BASELINE, score: 0 },
      { iteration: 1, prompt: `${BASELINE} Be polite.`, score: 0, rejectionReason: 'no improvement for "tone"' },
      { iteration: 1, prompt: `${BASELINE} ALPHA`, score: 0.25 },
      { iteration: 1, prompt: `${BASELINE} ALPHA BETA`, score: 0.5 },
    ]);
    expect(result.bestPrompt).toBe(`${BASELINE} ALPHA BETA`);
    expect(result.score).toBe(0.5);
    // Two analyses (4 failures in batches of 2), one synthesis, three edits.
    expect(optimizerModel.calls).toHaveLength(6);
    const synthesis = optimizerModel.calls[2]?.messages[0]?.content ?? '';
    expect(synthesis).toContain('- the instruction never names alpha\n- the instruction never names beta\n');
    expect(synthesis).toContain('at most 3 distinct failure modes');
    expect(result.usage.calls).toBe(4 * 4 + 6);
  });

  it('refuses an edit over max_prompt_chars instead of cutting it short', async () => {
    const maxPromptChars = BASELINE.length + ' ALPHA'.length;
    const config = { rounds: 1, batchSize: 2, maxFailureModes: 3, initialPrompt: BASELINE, maxPromptChars };
    const result = await new HierarchicalReflectiveOptimizer(config).optimize(
      toyInput(toyTaskModel(), reflectiveModel(2)),
    );
    const tooLong = (prompt: string) => `too long (${prompt.length} chars, maximum ${maxPromptChars})`;
    expect(result.history).toEqual([
      { iteration: 0, prompt: BASELINE, score: 0 },
      {
        iteration: 1,
        prompt: `${BASELINE} Be polite.`,
        score: null,
        rejectionReason: tooLong(`${BASELINE} Be polite.`),
      },
      { iteration: 1, prompt: `${BASELINE} ALPHA`, score: 0.25 },
      {
        iteration: 1,
        prompt: `${BASELINE} ALPHA BETA`,
        score: null,
        rejectionReason: tooLong(`${BASELINE} ALPHA BETA`),
      },
    ]);
  });

  it('with generic seeds, analyzes the failures of the best starting prompt', async () => {
    const optimizerModel = reflectiveModel(1);
    const config = { rounds: 1, batchSize: 2, initialPrompt: BASELINE, seedInstructions: 'generic' as const };
    const result = await new HierarchicalReflectiveOptimizer(config).optimize(
      toyInput(seedAwareTaskModel(), optimizerModel),
    );
    const seed = 'Take a deep breath and work on this problem step-by-step.';
    expect(result.history.slice(0, 6).map((entry) => entry.score)).toEqual([0, 0.25, 0.5, 0, 0, 0]);
    // The seed already knows alpha and beta: one batch with the two words it misses.
    const analysis = optimizerModel.calls[0]?.messages[0]?.content ?? '';
    expect(tagged(analysis, 'instruction')).toBe(seed);
    expect([...analysis.matchAll(/code of (\w+)\?/g)].map((match) => match[1])).toEqual(['gamma', 'delta']);
    expect(result.bestPrompt).toBe(`${seed} GAMMA DELTA`);
    expect(result.score).toBe(1);
  });

  it('stops when the prompt has no failures left', async () => {
    const result = await new HierarchicalReflectiveOptimizer({
      initialPrompt: `${BASELINE} ALPHA BETA GAMMA DELTA`,
    }).optimize(toyInput(toyTaskModel(), reflectiveModel(1)));
    expect(result.stopReason).toBe('early_stopping');
    expect(result.score).toBe(1);
  });

  it('parses root causes and failure modes', () => {
    expect(parseRootCauses('x\n- ROOT CAUSE: a\nroot cause: b\n')).toEqual(['a', 'b']);
    expect(
      parseFailureModes('1. FAILURE MODE: A | one\nFAILURE MODE: a | dup\nFAILURE MODE: B\nFAILURE MODE: C | c', 2),
    ).toEqual([
      { name: 'A', description: 'one' },
      { name: 'B', description: 'B' },
    ]);
  });

  it('reads labelled lines wrapped in quotes or markdown, as small models write them', () => {
    // The synthesis reply of Qwen2.5-Coder-0.5B in the smoke benchmark: a quoted line gave no failure mode at all.
    const real =
      '"FAILURE MODE: Incorrect instruction taking 2 steps backward, not following instructions" | ' +
      '"Failure MODE: Incorrect instruction taking 2 steps backward, not following instructions"';
    expect(parseFailureModes(real, 1)).toEqual([
      {
        name: 'Incorrect instruction taking 2 steps backward, not following instructions',
        description: 'Failure MODE: Incorrect instruction taking 2 steps backward, not following instructions',
      },
    ]);
    expect(
      parseFailureModes('**FAILURE MODE:** format | answers "yes" in lower case\n## FAILURE MODE: `tone`', 3),
    ).toEqual([
      { name: 'format', description: 'answers "yes" in lower case' },
      { name: 'tone', description: 'tone' },
    ]);
    expect(parseRootCauses('1) **ROOT CAUSE**: the "answer" word is missing\n> ROOT CAUSE: ""')).toEqual([
      'the "answer" word is missing',
    ]);
  });
});
