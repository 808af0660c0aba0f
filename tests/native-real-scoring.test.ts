// Real weights, opt-in (OPT_NATIVE_REAL_MODEL=default with the default model cached, or a GGUF path): score mode on
// letter choices, the case that failed with "input tensor is not contiguous" on the quantized path, through the CLI
// and through scoreChoicesBatch. The per-token numbers against a plain forward are checked in Rust
// (crates/inference/tests/real_model.rs).
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNativeLanguageModel, type NativeLanguageModel } from '../ts/llm/native-provider.js';
import type { ScoreChoicesRequest } from '../ts/llm/types.js';
import { mirroredModelPath } from '../ts/models/pypi-mirror.js';
import { loadTextTask } from '../ts/tasks/text-task.js';
import { SOURCE_CLI_ARGS, runCli } from './cli-harness.js';

function realModelSpec(): string | undefined {
  const configured = process.env.OPT_NATIVE_REAL_MODEL;
  if (!configured) return undefined;
  if (configured !== 'default') return configured;
  const cached = mirroredModelPath();
  return existsSync(cached) && statSync(cached).size === 491_400_064 ? 'default' : undefined;
}

const MODEL_SPEC = realModelSpec();
const INSTRUCTION = 'Answer with the option letter.';
/**
 * Batch vs alone on real weights: measured up to 5.3e-4 (the tiny models agree to 1e-4). Splitting the forward at the
 * shared prefix moves hidden states by float rounding, and the LM head (too large for the dense path) rounds its
 * input to 8 bits, so a last-bit change can flip one rounding step.
 */
const REAL_BATCH_TOL = 2e-3;

describe.skipIf(!MODEL_SPEC)('real weights: score mode on letter choices', () => {
  let model: NativeLanguageModel;
  beforeAll(async () => {
    model = await loadNativeLanguageModel(MODEL_SPEC as string);
  }, 120_000);
  afterAll(async () => {
    await model?.dispose();
  });

  it('evaluate --task bbh:snarks --eval-mode score runs on every example', async () => {
    const outcome = await runCli(SOURCE_CLI_ARGS, [
      'evaluate',
      '--task',
      'bbh:snarks',
      '--eval-mode',
      'score',
      '--test-mode',
      '--prompt',
      INSTRUCTION,
    ]);
    expect(outcome.stderr).not.toContain('E_PROVIDER');
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/bbh:snarks \w+: accuracy [01]\.\d{4} on 5 examples/);
  }, 300_000);

  it('scoreChoicesBatch gives each prompt the numbers of scoreChoices', async () => {
    const task = await loadTextTask('bbh:snarks', { testMode: true });
    const requests: ScoreChoicesRequest[] = task.splits.validation.slice(0, 4).map((example) => ({
      messages: task.formatMessages(INSTRUCTION, example),
      choices: [...(task.labels ?? [])],
    }));
    expect(requests[0]?.choices).toEqual(['(A)', '(B)']);
    const batch = await model.scoreChoicesBatch(requests);
    for (const [index, request] of requests.entries()) {
      const alone = await model.scoreChoices(request);
      expect(batch[index]?.best).toBe(alone.best);
      alone.scores.forEach((score, k) => {
        expect(Math.abs((batch[index]?.scores[k]?.logprob ?? NaN) - score.logprob)).toBeLessThanOrEqual(REAL_BATCH_TOL);
        expect(score.tokenCount).toBe(2); // "(", "A)" in Qwen2.5's tokenizer
      });
      const total = alone.scores.reduce((sum, score) => sum + score.probability, 0);
      expect(total).toBeCloseTo(1, 6);
    }
  }, 300_000);
});
