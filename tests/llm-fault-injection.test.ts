import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenAICompatibleLanguageModel } from '../ts/llm/openai-compatible.js';
import { wrapLanguageModel } from '../ts/llm/middleware.js';
import { resilienceMiddleware, type ResilienceOptions } from '../ts/llm/resilience-middleware.js';
import { withRunControls } from '../ts/llm/run-controls.js';
import { collectStream } from '../ts/llm/stream-result.js';
import { Budget } from '../ts/run/budget.js';
import { CircuitBreaker } from '../ts/run/breaker.js';
import { ResponseCache } from '../ts/run/cache.js';
import { AdaptiveLimiter } from '../ts/run/limiter.js';
import { FakeClock } from './fixtures/fake-clock.js';
import { FaultServer } from './fixtures/fault-server.js';

let server: FaultServer | undefined;
const caches: ResponseCache[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const cache of caches.splice(0)) cache.close();
});

const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }], temperature: 0 });

async function setup(faults: Parameters<typeof FaultServer.start>[0], options: Partial<ResilienceOptions> = {}) {
  server = await FaultServer.start(faults);
  const clock = new FakeClock();
  const limiter = new AdaptiveLimiter({ initial: 4 });
  const breaker = new CircuitBreaker({ name: 'fault-server', failureThreshold: 5, clock });
  const provider = new OpenAICompatibleLanguageModel({ model: 'm', baseURL: server.baseURL, apiKey: 'test-key' });
  const resilient = wrapLanguageModel(
    provider,
    resilienceMiddleware({
      clock,
      limiter,
      breaker,
      timeoutMs: 2_000,
      retry: { maxRetries: 4, baseDelayMs: 100, maxDelayMs: 10_000, random: () => 0 },
      ...options,
    }),
  );
  const cachePath = join(mkdtempSync(join(tmpdir(), 'opt-native-faults-')), 'cache.sqlite');
  const cache = new ResponseCache(cachePath);
  caches.push(cache);
  const budget = new Budget();
  const model = withRunControls(resilient, { cache, budget });
  return { model, clock, limiter, breaker, cache, cachePath, budget, server };
}

/** Every stored answer must be the correct answer to the prompt stored beside it. */
function expectEveryCachedAnswerCorrect(cachePath: string): number {
  const db = new Database(cachePath, { readonly: true });
  const rows = db.prepare('SELECT request_json, result_json FROM responses').all() as Array<{
    request_json: string;
    result_json: string;
  }>;
  db.close();
  for (const row of rows) {
    const request = JSON.parse(row.request_json) as { messages: Array<[string, string]> };
    const result = JSON.parse(row.result_json) as { text: string; finishReason: string };
    expect(result.text).toBe(`answer to: ${request.messages.at(-1)?.[1]}`);
    expect(result.finishReason).toBe('stop');
  }
  return rows.length;
}

describe('fault injection against a real HTTP server on 127.0.0.1', () => {
  it('429 with Retry-After: waits what the server asked, halves the concurrency limit, then succeeds', async () => {
    const { model, clock, limiter, server } = await setup([
      { kind: 'status', status: 429, headers: { 'retry-after': '3' } },
    ]);
    const result = await model.generate(ask('q1'));
    expect(result.text).toBe('answer to: q1');
    expect(clock.sleeps).toEqual([3_000]);
    expect(server.requests).toHaveLength(2);
    expect(limiter.limit).toBe(2);
  });

  it('500s: retries with exponential backoff, the breaker stays closed after the recovery', async () => {
    const { model, clock, breaker, server } = await setup([
      { kind: 'status', status: 500 },
      { kind: 'status', status: 502 },
      { kind: 'status', status: 503 },
    ]);
    expect((await model.generate(ask('q2'))).text).toBe('answer to: q2');
    // equal jitter with random 0: base/2 · 2^attempt = 50, 100, 200
    expect(clock.sleeps).toEqual([50, 100, 200]);
    expect(server.requests).toHaveLength(4);
    expect(breaker.state).toBe('closed');
  });

  it('a hung request times out and is retried', async () => {
    const { model, server } = await setup([{ kind: 'hang' }], { timeoutMs: 300 });
    expect((await model.generate(ask('q3'))).text).toBe('answer to: q3');
    expect(server.requests).toHaveLength(2);
  });

  it('malformed JSON and dropped connections are retried, and nothing wrong is cached', async () => {
    const { model, cachePath, server } = await setup([{ kind: 'malformed' }, { kind: 'drop' }, { kind: 'drop' }]);
    expect((await model.generate(ask('q4'))).text).toBe('answer to: q4');
    expect((await model.generate(ask('q5'))).text).toBe('answer to: q5');
    expect(server.requests).toHaveLength(5);
    expect(expectEveryCachedAnswerCorrect(cachePath)).toBe(2);
  });

  it('a stream cut off before it finished fails and is not cached; the next call fetches it again', async () => {
    const { model, cache, cachePath, server } = await setup([{ kind: 'truncated-stream' }], {
      retry: { maxRetries: 0 },
    });
    const stream = model.stream(ask('q6'));
    let partial = '';
    await expect(
      (async () => {
        for await (const chunk of stream) partial += chunk.delta;
      })(),
    ).rejects.toThrow(/partial output|ended before it finished/);
    expect(partial).toBe('answ');
    expect(cache.size()).toBe(0);
    const again = await collectStream(model.stream(ask('q6')));
    expect(again.text).toBe('answer to: q6');
    expect(server.requests).toHaveLength(2);
    expect(expectEveryCachedAnswerCorrect(cachePath)).toBe(1);
  });

  it('a client error (400) is not retried', async () => {
    const { model, server } = await setup([{ kind: 'status', status: 400 }]);
    await expect(model.generate(ask('bad'))).rejects.toMatchObject({ code: 'E_PROVIDER', status: 400 });
    expect(server.requests).toHaveLength(1);
  });

  it('the breaker opens after repeated failures, says why, and then fails fast without calling', async () => {
    const { model, breaker, server } = await setup([], { retry: { maxRetries: 10, random: () => 0 } });
    server.script([], { kind: 'status', status: 500 });
    await expect(model.generate(ask('down'))).rejects.toMatchObject({
      code: 'E_CIRCUIT_OPEN',
      message: expect.stringContaining(
        'circuit open for fault-server: 5 consecutive failures, last: openai-compatible:m: HTTP 500',
      ),
    });
    expect(server.requests).toHaveLength(5);
    expect(breaker.reason).toMatch(/HTTP 500/);
    await expect(model.generate(ask('again'))).rejects.toMatchObject({ code: 'E_CIRCUIT_OPEN' });
    expect(server.requests).toHaveLength(5);
  });

  it('cache hits cost nothing and never reach the server', async () => {
    const { model, budget, server } = await setup([]);
    const first = await model.generate(ask('same'));
    const second = await model.generate(ask('same'));
    expect(second).toEqual({ ...first, cached: true });
    expect(server.requests).toHaveLength(1);
    expect(budget.spent()).toMatchObject({ calls: 1, cacheHits: 1, promptTokens: 5, completionTokens: 3 });
  });

  it('never logs or sends anything but the key it was given, as a bearer token', async () => {
    const { model, server } = await setup([]);
    await model.generate(ask('auth'));
    expect(server.requests[0]?.headers.authorization).toBe('Bearer test-key');
  });
});
