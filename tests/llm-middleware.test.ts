// wrapLanguageModel: the order of middleware, params transforms, scorer absence and batches kept whole.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelParametersMiddleware } from '../ts/bench/model-parameters.js';
import { budgetMiddleware } from '../ts/llm/budget-middleware.js';
import { cacheMiddleware } from '../ts/llm/cache-middleware.js';
import { concurrencyLimitMiddleware } from '../ts/llm/concurrency-middleware.js';
import { findMiddleware, wrapLanguageModel, type LanguageModelMiddleware } from '../ts/llm/middleware.js';
import { requestOverridesMiddleware } from '../ts/llm/request-overrides.js';
import { resilienceMiddleware } from '../ts/llm/resilience-middleware.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { collectStream } from '../ts/llm/stream-result.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import { UsageMeter } from '../ts/optimizers/engine/meter.js';
import { Budget } from '../ts/run/budget.js';
import { ResponseCache } from '../ts/run/cache.js';

const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }] });
const contentOf = (request: GenerateRequest) => request.messages[0]?.content;
const tempCache = () => new ResponseCache(join(mkdtempSync(join(tmpdir(), 'opt-native-mw-')), 'cache.sqlite'));
const echo = () => new ScriptedLanguageModel({ respond: (request) => `echo ${contentOf(request)}` });

/** The inner model's generateBatch calls, by batch size (the scripted double answers a batch one by one). */
function countBatches(model: ScriptedLanguageModel): number[] {
  const sizes: number[] = [];
  const generateBatch = model.generateBatch.bind(model);
  model.generateBatch = (requests) => {
    sizes.push(requests.length);
    return generateBatch(requests);
  };
  return sizes;
}

/** Logs entering and leaving each hook, and appends its name to the prompt it passes on. */
function tracing(name: string, log: string[]): LanguageModelMiddleware {
  return {
    name,
    transformParams: (request) => ({
      ...request,
      messages: [{ role: 'user', content: `${contentOf(request)} ${name}` }],
    }),
    wrapGenerate: async ({ next }) => {
      log.push(`${name}>`);
      const result = await next();
      log.push(`<${name}`);
      return { ...result, text: `${result.text} <${name}` };
    },
  };
}

describe('wrapLanguageModel', () => {
  it('puts the first listed middleware outermost: it transforms first and sees the result last', async () => {
    const log: string[] = [];
    const inner = echo();
    const model = wrapLanguageModel(inner, tracing('a', log), tracing('b', log));
    const result = await model.generate(ask('q'));
    expect(inner.calls.map(contentOf)).toEqual(['q a b']);
    expect(log).toEqual(['a>', 'b>', '<b', '<a']);
    expect(result.text).toBe('echo q a b <b <a');
    expect([model.provider, model.modelId, model.specificationVersion]).toEqual(['scripted', 'scripted', 'v1']);
  });

  it('hands each transformed request, of every generation method, to the inner model', async () => {
    const calls: string[] = [];
    const inner = echo();
    const model = wrapLanguageModel(
      inner,
      {
        transformParams: (request, { call, model: next }) => {
          calls.push(`${call}:${next.modelId}`);
          return request;
        },
      },
      requestOverridesMiddleware({ temperature: 0.7, seed: 3 }),
    );
    await model.generate({ ...ask('g'), temperature: 0 });
    await collectStream(model.stream(ask('s')));
    await model.generateBatch([ask('b1'), { ...ask('b2'), seed: 9 }]);
    expect(inner.calls.map((request) => [contentOf(request), request.temperature, request.seed])).toEqual([
      ['g', 0.7, 3],
      ['s', 0.7, 3],
      ['b1', 0.7, 3],
      ['b2', 0.7, 3],
    ]);
    expect(calls).toEqual(['generate:scripted', 'stream:scripted', 'generateBatch:scripted', 'generateBatch:scripted']);
  });

  it('lets a hook call the next model with a changed request', async () => {
    const inner = echo();
    const model = wrapLanguageModel(inner, { wrapGenerate: ({ request, next }) => next({ ...request, maxTokens: 1 }) });
    expect((await model.generate(ask('q'))).text).toBe('echo');
    expect(inner.calls[0]?.maxTokens).toBe(1);
  });

  it('offers scoreChoices, scoreChoicesBatch and dispose exactly when the wrapped model does', async () => {
    const scored: string[] = [];
    const spy: LanguageModelMiddleware = {
      wrapScoreChoices: ({ next }) => {
        scored.push('one');
        return next();
      },
      wrapScoreChoicesBatch: ({ next }) => {
        scored.push('batch');
        return next();
      },
    };
    const plain = wrapLanguageModel(echo(), spy, requestOverridesMiddleware({ temperature: 1 }));
    expect([plain.scoreChoices, plain.scoreChoicesBatch, plain.dispose]).toEqual([undefined, undefined, undefined]);
    expect('scoreChoices' in plain).toBe(false);
    let disposed = 0;
    const scorer = Object.assign(new ScriptedLanguageModel({ respond: () => '', scoreChoices: () => [0, -1] }), {
      dispose: async () => void (disposed += 1),
    });
    const scoring = wrapLanguageModel(scorer, spy, requestOverridesMiddleware({ temperature: 1 }));
    const request = { ...ask('q'), choices: ['A', 'B'] };
    expect((await scoring.scoreChoices!(request)).best).toBe('A');
    expect((await scoring.scoreChoicesBatch!([request, request])).map((result) => result.best)).toEqual(['A', 'A']);
    await scoring.dispose!();
    expect(scored).toEqual(['one', 'batch']);
    expect([scorer.scoreBatchCalls, disposed]).toEqual([1, 1]);
  });

  it('sends a batch on as one call through hooks that wrap only single calls', async () => {
    const inner = echo();
    const sizes = countBatches(inner);
    let singles = 0;
    const model = wrapLanguageModel(inner, {
      wrapGenerate: ({ next }) => {
        singles += 1;
        return next();
      },
    });
    expect((await model.generateBatch([ask('a'), ask('b')])).map((result) => result.text)).toEqual([
      'echo a',
      'echo b',
    ]);
    expect([sizes, singles]).toEqual([[2], 0]);
  });

  it('keeps a batch one call of the model through meter, cache, budget and request overrides', async () => {
    const inner = echo();
    const sizes = countBatches(inner);
    const budget = new Budget({ maxCalls: 10 });
    const meter = new UsageMeter();
    const model = wrapLanguageModel(
      inner,
      meter.middleware,
      requestOverridesMiddleware({ temperature: 0 }),
      cacheMiddleware(tempCache(), (hit) => budget.record(hit)),
      budgetMiddleware(budget),
    );
    await model.generate(ask('seen'));
    const batch = await model.generateBatch([ask('a'), ask('seen'), ask('b'), ask('a')]);
    expect(batch.map((result) => [result.text, result.cached])).toEqual([
      ['echo a', undefined],
      ['echo seen', true],
      ['echo b', undefined],
      ['echo a', true],
    ]);
    // Only the two new prompts reach the model, together; the repeat of 'a' shares the first one's answer.
    expect(sizes).toEqual([2]);
    expect(inner.calls.map(contentOf)).toEqual(['seen', 'a', 'b']);
    expect(budget.spent()).toMatchObject({ calls: 3, cacheHits: 2 });
    expect(meter.snapshot()).toMatchObject({ calls: 3, cacheHits: 2 });
    await model.generateBatch([ask('b'), ask('seen')]);
    expect(sizes).toEqual([2]);
  });

  it('refuses a whole batch that does not fit the budget, before calling the model', async () => {
    const inner = echo();
    const sizes = countBatches(inner);
    const budget = new Budget({ maxCalls: 2 });
    const model = wrapLanguageModel(inner, budgetMiddleware(budget));
    await expect(model.generateBatch([ask('a'), ask('b'), ask('c')])).rejects.toMatchObject({ code: 'E_BUDGET' });
    expect([sizes, budget.spent().calls]).toEqual([[], 0]);
    await model.generateBatch([ask('a'), ask('b')]);
    expect([sizes, budget.spent().calls]).toEqual([[2], 2]);
  });

  it('a batch shares an identical generation already in flight, and stores nothing when it fails', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inner = new ScriptedLanguageModel({
      respond: async (request) => {
        await gate;
        if (contentOf(request) === 'bad') throw new Error('model failed');
        return 'late';
      },
    });
    const cache = tempCache();
    const model = wrapLanguageModel(inner, cacheMiddleware(cache));
    const single = model.generate(ask('q'));
    const batch = model.generateBatch([ask('q')]);
    release();
    expect([(await single).cached, (await batch)[0]?.cached]).toEqual([undefined, true]);
    expect(inner.calls).toHaveLength(1);
    await expect(model.generateBatch([ask('bad'), ask('fine')])).rejects.toThrow('model failed');
    expect(cache.size()).toBe(1);
  });

  it('keeps, counts and meters the answers that arrived before a batch of independent calls failed', async () => {
    const inner = new ScriptedLanguageModel({
      respond: (request) => {
        if (contentOf(request) === 'bad') throw new Error('refused: bad');
        return `echo ${contentOf(request)}`;
      },
    });
    const cache = tempCache();
    const budget = new Budget();
    const meter = new UsageMeter();
    const model = wrapLanguageModel(
      inner,
      meter.middleware,
      cacheMiddleware(cache, (hit) => budget.record(hit)),
      budgetMiddleware(budget),
      resilienceMiddleware({ retry: { maxRetries: 0 } }),
    );
    await model.generate(ask('seen'));
    // The resilience layer asks each request on its own, as an HTTP provider would; 'seen' is a hit.
    await expect(model.generateBatch([ask('seen'), ask('a'), ask('bad'), ask('b')])).rejects.toThrow('refused: bad');
    expect(inner.calls.map(contentOf)).toEqual(['seen', 'a', 'bad', 'b']);
    expect(cache.size()).toBe(3);
    expect(budget.spent()).toMatchObject({ calls: 3, cacheHits: 1 });
    expect(meter.snapshot()).toMatchObject({ calls: 3, cacheHits: 1 });
    const retried = await model.generateBatch([ask('a'), ask('b')]);
    expect(retried.map((result) => result.cached)).toEqual([true, true]);
    expect(inner.calls).toHaveLength(4);
  });

  it('finds a middleware by name through nested wrappings', () => {
    const budget = budgetMiddleware(new Budget());
    const inner = wrapLanguageModel(echo(), budget);
    const outer = wrapLanguageModel(inner, requestOverridesMiddleware({}));
    expect(findMiddleware(outer, 'budget')).toBe(budget);
    expect(findMiddleware(outer, 'request-overrides')?.name).toBe('request-overrides');
    expect(findMiddleware(outer, 'cache')).toBeUndefined();
    expect(findMiddleware(echo(), 'budget')).toBeUndefined();
    expect(outer.wrapped).toBe(inner);
  });

  it('with no middleware, still returns a new model that forwards every call', async () => {
    const inner = echo();
    const model = wrapLanguageModel(inner);
    expect(model).not.toBe(inner);
    expect((await model.generate(ask('x'))).text).toBe('echo x');
    expect(model.middleware).toEqual([]);
  });
});

describe('the concurrency limit', () => {
  /** A model whose calls wait until released, counting how many run at once. */
  function gated() {
    const state = { inFlight: 0, most: 0, release: [] as (() => void)[] };
    const model = new ScriptedLanguageModel({
      respond: async (request) => {
        state.inFlight += 1;
        state.most = Math.max(state.most, state.inFlight);
        await new Promise<void>((resolve) => state.release.push(resolve));
        state.inFlight -= 1;
        return `echo ${contentOf(request)}`;
      },
      scoreChoices: () => [0, -1],
    });
    return { model, state };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

  it('runs at most the limit at once, a batch request by request; an aborted waiter never reaches the model', async () => {
    const { model, state } = gated();
    const limited = wrapLanguageModel(model, concurrencyLimitMiddleware(2));
    const aborted = new AbortController();
    const batch = limited.generateBatch([ask('a'), ask('b'), ask('c')]);
    const waiting = limited.generate({ ...ask('d'), signal: aborted.signal });
    await settle();
    expect([state.inFlight, model.calls.length]).toEqual([2, 2]);
    aborted.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'E_ABORTED' });
    while (state.release.length > 0) {
      state.release.splice(0).forEach((release) => release());
      await settle();
    }
    expect((await batch).map((result) => result.text)).toEqual(['echo a', 'echo b', 'echo c']);
    expect(state.most).toBe(2);
    expect(model.calls.map(contentOf)).toEqual(['a', 'b', 'c']);
    // Scoring stays offered, and takes a turn like a generation.
    expect((await limited.scoreChoices?.({ messages: ask('e').messages, choices: ['x', 'y'] }))?.best).toBe('x');
  });
});

describe("the bench's model parameters", () => {
  it('override the sampling fields they set and keep the batch scorer', async () => {
    const inner = new ScriptedLanguageModel({ respond: () => 'ok', scoreChoices: () => [0, -2] });
    const model = wrapLanguageModel(inner, modelParametersMiddleware({ temperature: 0.5, max_tokens: 4 }));
    await model.generate({ ...ask('q'), temperature: 0, topP: 0.9 });
    expect(inner.calls[0]).toMatchObject({ temperature: 0.5, maxTokens: 4, topP: 0.9 });
    await model.scoreChoicesBatch!([{ ...ask('q'), choices: ['A', 'B'] }]);
    expect(inner.scoreBatchCalls).toBe(1);
  });
});
