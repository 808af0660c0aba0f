import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLanguageModel } from '../ts/llm/registry.js';
import { withRunControls } from '../ts/llm/run-controls.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest, LanguageModel } from '../ts/llm/types.js';
import { Budget } from '../ts/run/budget.js';
import { ResponseCache } from '../ts/run/cache.js';
import { startServer, type RunningServer } from '../ts/serve/server.js';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const ask = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: 'user', content }],
  ...extra,
});

/** `opt-native serve` over a scripted model, and the openai-compatible provider pointed at it. */
async function providerOverServe(backend: ScriptedLanguageModel): Promise<LanguageModel> {
  server = await startServer({ model: backend, modelName: 'qwen-local' });
  return createLanguageModel(`openai-compatible:${server.url}#qwen-local`);
}

describe('openai-compatible provider against opt-native serve on 127.0.0.1', () => {
  it('generates with usage, finish reason and the model id, passing sampling options through', async () => {
    const backend = new ScriptedLanguageModel({
      respond: (request) => `seed ${request.seed} temperature ${request.temperature} topK ${request.topK}`,
    });
    const model = await providerOverServe(backend);
    const result = await model.generate(ask('hello there', { seed: 11, temperature: 0.4, topK: 30, maxTokens: 20 }));
    expect(result).toEqual({
      text: 'seed 11 temperature 0.4 topK 30',
      finishReason: 'stop',
      modelId: 'qwen-local',
      usage: { promptTokens: 2, completionTokens: 6 },
    });
    expect(backend.calls[0]).toMatchObject({ seed: 11, temperature: 0.4, topK: 30, maxTokens: 20 });
  });

  it('streams deltas and reports the final usage', async () => {
    const model = await providerOverServe(new ScriptedLanguageModel({ respond: () => 'alpha beta gamma' }));
    const stream = model.stream(ask('go'));
    const deltas: string[] = [];
    for await (const chunk of stream) deltas.push(chunk.delta);
    expect(deltas.join('')).toBe('alpha beta gamma');
    expect(deltas.length).toBe(3);
    expect(await stream.result).toMatchObject({
      finishReason: 'stop',
      usage: { promptTokens: 1, completionTokens: 3 },
    });
  });

  it('generateBatch keeps the order of the requests', async () => {
    const backend = new ScriptedLanguageModel({
      respond: async (request) => {
        const content = request.messages[0]!.content;
        await new Promise((resolve) => setTimeout(resolve, content === 'first' ? 30 : 0));
        return `re: ${content}`;
      },
    });
    const model = await providerOverServe(backend);
    const results = await model.generateBatch([ask('first'), ask('second'), ask('third')]);
    expect(results.map((result) => result.text)).toEqual(['re: first', 're: second', 're: third']);
  });

  it('maps a length cut-off', async () => {
    const model = await providerOverServe(new ScriptedLanguageModel({ respond: () => 'one two three four' }));
    const result = await model.generate(ask('q', { maxTokens: 2 }));
    expect(result).toMatchObject({ text: 'one two', finishReason: 'length' });
  });

  it('a caller abort reaches the serving model as an AbortSignal', async () => {
    let backendAborted = false;
    let started!: () => void;
    const generationStarted = new Promise<void>((resolve) => (started = resolve));
    const backend = new ScriptedLanguageModel({
      respond: (request) =>
        new Promise((_resolve, reject) => {
          started();
          request.signal?.addEventListener('abort', () => {
            backendAborted = true;
            reject(new Error('aborted'));
          });
        }),
    });
    const model = await providerOverServe(backend);
    const controller = new AbortController();
    const pending = model.generate(ask('slow', { signal: controller.signal }));
    await generationStarted;
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'E_ABORTED' });
    await expect.poll(() => backendAborted).toBe(true);
  });

  it('behind the run cache and budget, repeated requests are free hits and samples are separate', async () => {
    const backend = new ScriptedLanguageModel({
      respond: (request, index) => `call ${index} sample ${request.sampleIndex ?? 0}`,
    });
    const provider = await providerOverServe(backend);
    const cache = new ResponseCache(join(mkdtempSync(join(tmpdir(), 'opt-native-oc-')), 'cache.sqlite'));
    const budget = new Budget({ maxCalls: 3 });
    const model = withRunControls(provider, { cache, budget });
    const a = await model.generate(ask('q', { seed: 1, temperature: 1 }));
    const again = await model.generate(ask('q', { seed: 1, temperature: 1 }));
    const sample1 = await model.generate(ask('q', { seed: 1, temperature: 1, sampleIndex: 1 }));
    // the sample index is no HTTP field: sample k is a separate call (and cache entry) with seed + k
    expect([a.text, again.text, sample1.text]).toEqual(['call 0 sample 0', 'call 0 sample 0', 'call 1 sample 0']);
    expect(again.cached).toBe(true);
    expect(backend.calls).toHaveLength(2);
    expect(backend.calls.map((call) => call.seed)).toEqual([1, 2]);
    expect(budget.spent()).toMatchObject({ calls: 2, cacheHits: 1 });
    await model.generate(ask('other'));
    await expect(model.generate(ask('one more'))).rejects.toMatchObject({ code: 'E_BUDGET' });
    expect(backend.calls).toHaveLength(3);
    cache.close();
  });
});
