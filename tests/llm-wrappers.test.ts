import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import { cacheMiddleware } from '../ts/llm/cache-middleware.js';
import { wrapLanguageModel } from '../ts/llm/middleware.js';
import { ProviderError } from '../ts/llm/provider-error.js';
import { resilienceMiddleware } from '../ts/llm/resilience-middleware.js';
import { withRunControls } from '../ts/llm/run-controls.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { collectStream, createModelStream } from '../ts/llm/stream-result.js';
import type { GenerateResult } from '../ts/llm/types.js';
import { Budget } from '../ts/run/budget.js';
import { CircuitBreaker } from '../ts/run/breaker.js';
import { ResponseCache } from '../ts/run/cache.js';
import { FakeClock } from './fixtures/fake-clock.js';

const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }] });
const done = (text: string): GenerateResult => ({
  text,
  finishReason: 'stop',
  modelId: 'm',
  usage: { promptTokens: 1, completionTokens: 1 },
});
const tempCache = () => new ResponseCache(join(mkdtempSync(join(tmpdir(), 'opt-native-wrap-')), 'cache.sqlite'));

describe('createModelStream', () => {
  it('buffers deltas until read and resolves the result without a reader', async () => {
    const stream = createModelStream(async (emit) => {
      emit('a');
      emit('');
      emit('b');
      return done('ab');
    });
    expect((await stream.result).text).toBe('ab');
    const deltas: string[] = [];
    for await (const chunk of stream) deltas.push(chunk.delta);
    expect(deltas).toEqual(['a', 'b']);
  });

  it('hands the producer error to the reader after the deltas it emitted', async () => {
    const stream = createModelStream(async (emit) => {
      emit('partial');
      throw new Error('cut');
    });
    const deltas: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) deltas.push(chunk.delta);
      })(),
    ).rejects.toThrow('cut');
    expect(deltas).toEqual(['partial']);
    await expect(collectStream(createModelStream(async () => done('x')))).resolves.toMatchObject({ text: 'x' });
  });
});

describe('resilienceMiddleware', () => {
  it('retries a stream that fails before its first delta', async () => {
    let calls = 0;
    const inner = new ScriptedLanguageModel({
      respond: () => {
        calls += 1;
        if (calls === 1) throw new ProviderError('server', 'HTTP 500');
        return 'fine now';
      },
    });
    const clock = new FakeClock();
    const model = wrapLanguageModel(
      inner,
      resilienceMiddleware({ clock, retry: { random: () => 0, baseDelayMs: 10 } }),
    );
    const result = await collectStream(model.stream(ask('q')));
    expect(result.text).toBe('fine now');
    expect(clock.sleeps).toEqual([5]);
  });

  it('does not retry after text was handed out', async () => {
    let calls = 0;
    const inner = new ScriptedLanguageModel({ respond: () => 'never used' });
    inner.stream = () => {
      calls += 1;
      return createModelStream(async (emit) => {
        emit('half ');
        throw new ProviderError('connection', 'dropped');
      });
    };
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ name: 'x', failureThreshold: 1, clock });
    const model = wrapLanguageModel(inner, resilienceMiddleware({ clock, breaker }));
    await expect(collectStream(model.stream(ask('q')))).rejects.toThrow('dropped (after partial output)');
    expect(calls).toBe(1);
    // still a backend failure for the breaker
    expect(breaker.reason).toBe('1 consecutive failures, last: dropped (after partial output)');
  });

  it('offers scoreChoices exactly when the wrapped model does', async () => {
    const plain = wrapLanguageModel(new ScriptedLanguageModel({ respond: () => '' }), resilienceMiddleware());
    expect(plain.scoreChoices).toBeUndefined();
    const scoring = wrapLanguageModel(
      new ScriptedLanguageModel({ respond: () => '', scoreChoices: () => [0, -1] }),
      resilienceMiddleware(),
    );
    expect((await scoring.scoreChoices!({ ...ask('q'), choices: ['A', 'B'] })).best).toBe('A');
  });
});

describe('cacheMiddleware', () => {
  it('streams a cache hit as one delta and never calls the model for it', async () => {
    const inner = new ScriptedLanguageModel({ respond: () => 'x y z' });
    const model = wrapLanguageModel(inner, cacheMiddleware(tempCache()));
    expect((await collectStream(model.stream(ask('q')))).text).toBe('x y z');
    const deltas: string[] = [];
    const hit = model.stream(ask('q'));
    for await (const chunk of hit) deltas.push(chunk.delta);
    expect(deltas).toEqual(['x y z']);
    expect((await hit.result).cached).toBe(true);
    expect(inner.calls).toHaveLength(1);
  });

  it('pays once for identical requests in flight at the same time', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inner = new ScriptedLanguageModel({ respond: async () => (await gate, 'shared') });
    const budget = new Budget();
    const model = withRunControls(inner, { cache: tempCache(), budget });
    const both = Promise.all([model.generate(ask('same')), model.generate(ask('same')), model.generate(ask('other'))]);
    release();
    const [first, second, other] = await both;
    expect([first.text, second.text, other.text]).toEqual(['shared', 'shared', 'shared']);
    expect([first.cached, second.cached]).toEqual([undefined, true]);
    expect(inner.calls).toHaveLength(2);
    expect(budget.spent()).toMatchObject({ calls: 2, cacheHits: 1 });
  });

  it('a shared call aborted by its first caller is asked again for the second', async () => {
    const inner = new ScriptedLanguageModel({
      respond: (request) =>
        new Promise((resolve, reject) => {
          if (!request.signal) return resolve('own answer');
          request.signal.addEventListener('abort', () => reject(new OptNativeError('E_ABORTED', 'aborted')));
        }),
    });
    const model = wrapLanguageModel(inner, cacheMiddleware(tempCache()));
    const controller = new AbortController();
    const first = model.generate({ ...ask('q'), signal: controller.signal });
    const second = model.generate(ask('q'));
    controller.abort();
    await expect(first).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect((await second).text).toBe('own answer');
    expect(inner.calls).toHaveLength(2);
  });

  it('does not store failures', async () => {
    let fail = true;
    const inner = new ScriptedLanguageModel({
      respond: () => {
        if (fail) throw new ProviderError('server', 'HTTP 500');
        return 'good';
      },
    });
    const cache = tempCache();
    const model = wrapLanguageModel(inner, cacheMiddleware(cache));
    await expect(model.generate(ask('q'))).rejects.toThrow('HTTP 500');
    expect(cache.size()).toBe(0);
    fail = false;
    expect((await model.generate(ask('q'))).text).toBe('good');
    expect(cache.size()).toBe(1);
  });
});

describe('withRunControls', () => {
  it('stops a loop cleanly when the budget runs out, with cache hits free', async () => {
    const inner = new ScriptedLanguageModel({ respond: (request) => `a ${request.messages[0]?.content}` });
    const budget = new Budget({ maxCalls: 2 });
    const model = withRunControls(inner, { cache: tempCache(), budget });
    const answered: string[] = [];
    for (const prompt of ['p1', 'p1', 'p2', 'p3']) {
      if (budget.exhausted()) break;
      answered.push((await model.generate(ask(prompt))).text);
    }
    expect(answered).toEqual(['a p1', 'a p1', 'a p2']);
    expect(budget.spent()).toMatchObject({ calls: 2, cacheHits: 1 });
    await expect(model.generate(ask('p3'))).rejects.toMatchObject({ code: 'E_BUDGET' });
    expect(inner.calls).toHaveLength(2);
  });

  it('never overshoots the call limit with concurrent calls, and still serves cache hits once it is reached', async () => {
    const inner = new ScriptedLanguageModel({
      respond: async (request) => {
        await new Promise((resolve) => setImmediate(resolve));
        return `a ${request.messages[0]?.content}`;
      },
    });
    const budget = new Budget({ maxCalls: 2 });
    const model = withRunControls(inner, { cache: tempCache(), budget });
    const settled = await Promise.allSettled(
      ['p1', 'p2', 'p3', 'p4', 'p5'].map((prompt) => model.generate(ask(prompt))),
    );
    expect(settled.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(settled[2]).toMatchObject({
      reason: { code: 'E_BUDGET', message: 'budget exhausted: 2 of 2 calls used (2 in flight)' },
    });
    expect(inner.calls).toHaveLength(2);
    expect((await model.generate(ask('p1'))).cached).toBe(true);
    expect(budget.spent()).toMatchObject({ calls: 2, cacheHits: 1 });
  });
});
