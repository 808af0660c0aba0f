import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { MetaPromptOptimizer, NO_PROMPT_BLOCK, extractPromptBlock } from '../ts/optimizers/meta-prompt/index.js';
import { RunDirectory } from '../ts/run/run-directory.js';
import { GENERIC_SEED_INSTRUCTIONS } from '../ts/optimizers/engine/seed-instructions.js';
import { BASELINE, WORDS, keywordsIn, seedAwareTaskModel, tagged, toyInput, toyTaskModel } from './optimizer-toy.js';

/** Adds the slot-th missing keyword to the current prompt; slot 2 repeats slot 0 (a duplicate). */
function critiqueModel(): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    modelId: 'toy-optimizer',
    respond: (request) => {
      const content = request.messages[0]?.content ?? '';
      const current = tagged(content, 'current');
      const missing = WORDS.map((word) => word.toUpperCase()).filter((word) => !current.includes(word));
      const slot = (request.sampleIndex ?? 0) % 2;
      return `Critique: it never names the words.\n<prompt>${current} Remember ${missing[slot]}.</prompt>`;
    },
  });
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('meta_prompt optimizer', () => {
  it('keeps the best rewrite of each round (rounds × candidates) and shows the scored failures', async () => {
    const optimizerModel = critiqueModel();
    const model = toyTaskModel();
    const optimizer = new MetaPromptOptimizer({ rounds: 3, candidatesPerRound: 3, initialPrompt: BASELINE });
    const result = await optimizer.optimize(toyInput(model, optimizerModel));

    expect(result.bestPrompt).toBe(`${BASELINE} Remember ALPHA. Remember BETA. Remember GAMMA.`);
    expect(result.score).toBe(0.75);
    expect(result.stopReason).toBe('completed');
    // Baseline, then per round: two new candidates and one duplicate.
    expect(result.history.map((entry) => entry.score)).toEqual([0, 0.25, 0.25, null, 0.5, 0.5, null, 0.75, 0.75, null]);
    expect(result.history.filter((entry) => entry.rejectionReason === 'duplicate')).toHaveLength(3);
    // The tie (BETA after ALPHA in round 1) does not replace the first best.
    expect(keywordsIn(result.history[4]?.prompt ?? '')).toEqual(['ALPHA', 'BETA']);

    const secondRoundCritique = optimizerModel.calls[3]?.messages[0]?.content ?? '';
    expect(secondRoundCritique).toContain('scores 0.250');
    expect(secondRoundCritique).toContain('Input: What is the code of beta?\nExpected: 2\nModel answer: 0');
    expect(secondRoundCritique).not.toContain('code of alpha');
    // 7 evaluations of 4 examples + 9 optimizer calls; whitespace tokens are counted.
    expect(result.usage.calls).toBe(7 * 4 + 9);
    expect(model.calls).toHaveLength(28);
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(Object.isFrozen(result.history)).toBe(true);
  });

  it('with generic seeds, scores them after the baseline and critiques the best one', async () => {
    const optimizerModel = critiqueModel();
    const config = { rounds: 1, candidatesPerRound: 1, initialPrompt: BASELINE, seedInstructions: 'generic' as const };
    const result = await new MetaPromptOptimizer(config).optimize(toyInput(seedAwareTaskModel(), optimizerModel));

    expect(result.history.slice(0, 6).map((entry) => [entry.iteration, entry.prompt, entry.score])).toEqual([
      [0, BASELINE, 0],
      ...GENERIC_SEED_INSTRUCTIONS.map((seed, index) => [0, seed, [0.25, 0.5][index] ?? 0]),
    ]);
    const critique = optimizerModel.calls[0]?.messages[0]?.content ?? '';
    expect(tagged(critique, 'current')).toBe('Take a deep breath and work on this problem step-by-step.');
    expect(critique).toContain('scores 0.500');
    // The rewrite adds ALPHA, which the seed already teaches: no better, so the seed is the result.
    expect(result.history[6]?.score).toBe(0.5);
    expect(result.bestPrompt).toBe('Take a deep breath and work on this problem step-by-step.');
    expect(result.score).toBe(0.5);
  });

  it('stops early when no failure is left, and after rounds without improvement', async () => {
    const perfect = `${BASELINE} ALPHA BETA GAMMA DELTA`;
    const done = await new MetaPromptOptimizer({ rounds: 5, initialPrompt: perfect }).optimize(
      toyInput(toyTaskModel(), critiqueModel()),
    );
    expect(done.stopReason).toBe('early_stopping');
    expect(done.history).toHaveLength(1);

    const stuck = new ScriptedLanguageModel({ respond: () => '<prompt>Say zero.</prompt>' });
    const stale = await new MetaPromptOptimizer({ rounds: 5, earlyStopping: 2, initialPrompt: BASELINE }).optimize(
      toyInput(toyTaskModel(), stuck),
    );
    expect(stale.stopReason).toBe('early_stopping');
    expect(stale.bestPrompt).toBe(BASELINE);
    expect(stuck.calls).toHaveLength(2 * 3);
  });

  it('replays a finished run from its run directory without calling a model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meta-prompt-'));
    dirs.push(dir);
    const config = { rounds: 2, candidatesPerRound: 2, initialPrompt: BASELINE };
    const first = RunDirectory.create(dir);
    const original = await new MetaPromptOptimizer(config).optimize({
      ...toyInput(toyTaskModel(), critiqueModel()),
      runDir: first,
    });
    first.close();
    const model = toyTaskModel();
    const optimizerModel = critiqueModel();
    const reopened = RunDirectory.open(dir);
    const replayed = await new MetaPromptOptimizer(config).optimize({
      ...toyInput(model, optimizerModel),
      runDir: reopened,
    });
    reopened.close();
    expect(model.calls).toHaveLength(0);
    expect(optimizerModel.calls).toHaveLength(0);
    expect(replayed).toEqual(original);
  });

  it('reads tagged prompts and strips code fences', () => {
    expect(extractPromptBlock('x <prompt>\n Do it. \n</prompt> y')).toBe('Do it.');
    expect(extractPromptBlock('```\nPlain.\n```')).toBe('Plain.');
    // A reply cut by its token limit before the closing tag: the prompt runs to the end, not the whole reply.
    expect(extractPromptBlock('Critique: too vague.\n<prompt>\nSolve it in steps, then')).toBe(
      'Solve it in steps, then',
    );
  });

  it('refuses a rewrite over max_prompt_chars instead of cutting it short', async () => {
    const maxPromptChars = `${BASELINE} Remember ALPHA.`.length;
    const model = toyTaskModel();
    const config = { rounds: 2, candidatesPerRound: 2, initialPrompt: BASELINE, maxPromptChars };
    const result = await new MetaPromptOptimizer(config).optimize(toyInput(model, critiqueModel()));
    expect(result.history.map((entry) => [entry.score, entry.rejectionReason?.replace(/\(.*/, '')])).toEqual([
      [0, undefined],
      [0.25, undefined],
      [0.25, undefined],
      [null, 'too long '],
      [null, 'too long '],
    ]);
    expect(result.history[3]?.prompt).toBe(`${BASELINE} Remember ALPHA. Remember BETA.`);
    // Only the baseline and the two short rewrites reached the task model, 4 examples each.
    expect(model.calls).toHaveLength(12);
  });

  it('refuses a reply without a <prompt> block: it is the critique, not a rewrite', async () => {
    const critiqueOnly = new ScriptedLanguageModel({
      respond: (request) =>
        (request.sampleIndex ?? 0) === 0
          ? 'The instruction is too vague; it should name the words.'
          : '<prompt>Give the code as a number. ALPHA</prompt>',
    });
    const model = toyTaskModel();
    const config = { rounds: 1, candidatesPerRound: 2, initialPrompt: BASELINE };
    const result = await new MetaPromptOptimizer(config).optimize(toyInput(model, critiqueOnly));
    expect(result.history.map((entry) => [entry.score, entry.rejectionReason])).toEqual([
      [0, undefined],
      [null, NO_PROMPT_BLOCK],
      [0.25, undefined],
    ]);
    // The critique was never evaluated: the baseline and the one rewrite, 4 examples each.
    expect(model.calls).toHaveLength(8);
  });
});
