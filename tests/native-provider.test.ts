// The `native:` LanguageModel provider over the addon, on the tiny Qwen2 fixture.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNativeGenerateOptions, type NativeLanguageModel } from '../ts/llm/native-provider.js';
import { createLanguageModel } from '../ts/llm/registry.js';
import { collectStream } from '../ts/llm/stream-result.js';
import type { LanguageModel } from '../ts/llm/types.js';
import { FIXTURE_CHOICES, FIXTURE_PROMPT, TINY_MODEL_DIR, readReferenceTensors } from './native-fixtures.js';

describe('toNativeGenerateOptions', () => {
  it('maps sampling options and shifts the seed by sampleIndex', () => {
    const messages = [{ role: 'user' as const, content: 'hi' }];
    expect(
      toNativeGenerateOptions({ messages, temperature: 0.7, topP: 0.9, seed: 10, sampleIndex: 2, stop: ['\n'] }),
    ).toEqual({
      messages,
      maxTokens: 512,
      temperature: 0.7,
      topK: undefined,
      topP: 0.9,
      repetitionPenalty: undefined,
      seed: 12,
      stop: ['\n'],
    });
    expect(toNativeGenerateOptions({ messages, sampleIndex: 3 }).seed).toBe(3);
    expect(toNativeGenerateOptions({ messages, maxTokens: 7 }).seed).toBeUndefined();
  });
});

describe('native: provider on the tiny fixture', () => {
  let model: LanguageModel;
  const messages = [{ role: 'user' as const, content: 'Hello' }];

  beforeAll(async () => {
    await import('../ts/llm/native-provider.js'); // registers the native: loader
    model = await createLanguageModel(`native:${TINY_MODEL_DIR}`);
  });
  afterAll(() => model.dispose?.());

  it('is a v1 LanguageModel named after its spec', () => {
    expect(model).toMatchObject({
      specificationVersion: 'v1',
      provider: 'native',
      modelId: `native:${TINY_MODEL_DIR}`,
    });
  });

  it('generates, and streams the same text', async () => {
    const result = await model.generate({ messages, maxTokens: 8 });
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(result.finishReason);
    const streamed = await collectStream(model.stream({ messages, maxTokens: 8 }));
    expect(streamed.text).toBe(result.text);
    const deltas: string[] = [];
    for await (const chunk of model.stream({ messages, maxTokens: 8 })) deltas.push(chunk.delta);
    expect(deltas.join('')).toBe(result.text);
  });

  it('batches in input order', async () => {
    const requests = ['Hi', 'A longer message'].map((content) => ({
      messages: [{ role: 'user' as const, content }],
      maxTokens: 5,
    }));
    const batch = await model.generateBatch(requests);
    expect(batch.map((result) => result.text)).toEqual(
      await Promise.all(requests.map(async (request) => (await model.generate(request)).text)),
    );
  });

  it('scores choices with their token counts and names the best', async () => {
    const native = model as NativeLanguageModel;
    const raw = await native.model.scoreChoices({ prompt: FIXTURE_PROMPT, choices: FIXTURE_CHOICES });
    const expected = readReferenceTensors().get('choice_logprob_sums')!;
    raw.choices.forEach((choice, index) => expect(choice.logprob).toBeCloseTo(expected[index]!, 3));

    const scored = await model.scoreChoices!({ messages, choices: FIXTURE_CHOICES });
    expect(scored.scores.map((score) => score.choice)).toEqual(FIXTURE_CHOICES);
    expect(scored.scores.map((score) => score.tokenCount)).toEqual(FIXTURE_CHOICES.map((choice) => choice.length));
    const probabilities = scored.scores.map((score) => score.probability);
    expect(probabilities.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 5);
    const bestIndex = scored.scores.findIndex(
      (score) => score.logprob === Math.max(...scored.scores.map((s) => s.logprob)),
    );
    expect(scored.best).toBe(FIXTURE_CHOICES[bestIndex]);
    expect(scored.usage.completionTokens).toBe(0);
  });

  it('scores a batch with mixed choice lists as per-request scoreChoices would, in request order', async () => {
    const ask = (content: string, choices: string[]) => ({ messages: [{ role: 'user' as const, content }], choices });
    const requests = [
      ask('Is water wet?', ['(A)', '(B)']),
      ask('Is fire cold?', [' Yes', ' Yes indeed']),
      ask('Pick one', ['(A)', '(B)']),
    ];
    const batch = await model.scoreChoicesBatch!(requests);
    expect(batch).toHaveLength(3);
    for (const [index, request] of requests.entries()) {
      const alone = await model.scoreChoices!(request);
      expect(batch[index]!.best).toBe(alone.best);
      expect(batch[index]!.usage).toEqual(alone.usage);
      batch[index]!.scores.forEach((score, k) => {
        expect(score.choice).toBe(request.choices[k]);
        expect(Math.abs(score.logprob - alone.scores[k]!.logprob)).toBeLessThanOrEqual(1e-4);
      });
    }
    expect(await model.scoreChoicesBatch!([])).toEqual([]);
    await expect(
      model.scoreChoicesBatch!([{ ...requests[0]!, signal: AbortSignal.abort() }, requests[2]!]),
    ).rejects.toMatchObject({ code: 'E_ABORTED' });
  });

  it('rejects an aborted request with E_ABORTED', async () => {
    await expect(model.generate({ messages, maxTokens: 5, signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'E_ABORTED',
    });
  });
});
