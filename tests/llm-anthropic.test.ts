import { afterEach, describe, expect, it } from 'vitest';
import { createLanguageModel } from '../ts/llm/registry.js';
import { wrapLanguageModel } from '../ts/llm/middleware.js';
import { resilienceMiddleware } from '../ts/llm/resilience-middleware.js';
import { AnthropicLanguageModel } from '../ts/llm/anthropic.js';
import { AdaptiveLimiter } from '../ts/run/limiter.js';
import { AnthropicWireServer } from './fixtures/anthropic-wire-server.js';
import { FakeClock } from './fixtures/fake-clock.js';

let server: AnthropicWireServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const conversation = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'What is 2+2?' },
];

async function claude() {
  server = await AnthropicWireServer.start();
  return createLanguageModel('anthropic:claude-test', {
    baseURL: server.baseURL,
    apiKey: 'sk-ant-test-key',
    resilience: false,
  });
}

describe('anthropic provider against a server speaking Anthropic wire format', () => {
  it('generates: system apart, text without thinking blocks, usage and stop reason mapped', async () => {
    const model = await claude();
    const result = await model.generate({ messages: conversation, temperature: 0.5, maxTokens: 100 });
    expect(result).toEqual({
      text: 'claude says: What is 2+2?',
      finishReason: 'stop',
      modelId: 'claude-test',
      usage: { promptTokens: 11, completionTokens: 7 },
    });
    const sent = server!.requests[0]!;
    // this SDK version sends the key as a bearer token; older ones used x-api-key
    expect(sent.headers['x-api-key'] ?? sent.headers.authorization).toMatch(/^(Bearer )?sk-ant-test-key$/);
    expect(sent.headers['anthropic-version']).toBeDefined();
    expect(sent.body).toMatchObject({
      model: 'claude-test',
      system: 'You are terse.',
      max_tokens: 100,
      temperature: 0.5,
      messages: [{ role: 'user', content: 'What is 2+2?' }],
    });
  });

  it('sends an extended-thinking budget and keeps the thinking out of the answer', async () => {
    const model = await claude();
    const result = await model.generate({ messages: conversation, thinkingBudget: 2048, maxTokens: 512 });
    expect(result.text).toBe('claude says: What is 2+2?');
    expect(server!.requests[0]!.body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(server!.requests[0]!.body.max_tokens).toBe(2560);
  });

  it('streams text deltas (not thinking deltas) and the final usage', async () => {
    const model = await claude();
    const stream = model.stream({ messages: conversation, thinkingBudget: 1024 });
    const deltas: string[] = [];
    for await (const chunk of stream) deltas.push(chunk.delta);
    expect(deltas).toEqual(['claude ', 'says: ', 'What ', 'is ', '2+2?']);
    expect(await stream.result).toMatchObject({
      finishReason: 'stop',
      usage: { promptTokens: 11, completionTokens: 7 },
    });
  });

  it('maps max_tokens to a length finish', async () => {
    const model = await claude();
    const result = await model.generate({ messages: conversation, maxTokens: 2 });
    expect(result.finishReason).toBe('length');
  });

  it('retries a 529 overload and a 429 with Retry-After through the resilience layer', async () => {
    server = await AnthropicWireServer.start();
    server.failNext.push({ status: 529 }, { status: 429, headers: { 'retry-after': '2' } });
    const clock = new FakeClock();
    const model = wrapLanguageModel(
      new AnthropicLanguageModel({ model: 'claude-test', baseURL: server.baseURL, apiKey: 'k' }),
      resilienceMiddleware({ clock, limiter: new AdaptiveLimiter(), retry: { random: () => 0, baseDelayMs: 100 } }),
    );
    const result = await model.generate({ messages: conversation });
    expect(result.text).toBe('claude says: What is 2+2?');
    expect(clock.sleeps).toEqual([50, 2_000]);
    expect(server.requests).toHaveLength(3);
  });

  it('retries a dropped connection and a malformed body', async () => {
    server = await AnthropicWireServer.start();
    server.failNext.push('drop', 'malformed');
    const model = wrapLanguageModel(
      new AnthropicLanguageModel({ model: 'claude-test', baseURL: server.baseURL, apiKey: 'k' }),
      resilienceMiddleware({ clock: new FakeClock(), retry: { random: () => 0 } }),
    );
    expect((await model.generate({ messages: conversation })).text).toBe('claude says: What is 2+2?');
    expect(server.requests).toHaveLength(3);
  });

  it('reports an authentication failure as a non-retried E_PROVIDER error', async () => {
    server = await AnthropicWireServer.start();
    server.failNext.push({ status: 401 });
    const model = wrapLanguageModel(
      new AnthropicLanguageModel({ model: 'claude-test', baseURL: server.baseURL, apiKey: 'wrong' }),
      resilienceMiddleware({ clock: new FakeClock() }),
    );
    await expect(model.generate({ messages: conversation })).rejects.toMatchObject({ code: 'E_PROVIDER', status: 401 });
    expect(server.requests).toHaveLength(1);
  });
});
