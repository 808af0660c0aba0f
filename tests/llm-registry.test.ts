import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AnthropicLanguageModel } from '../ts/llm/anthropic.js';
import { OpenAICompatibleLanguageModel } from '../ts/llm/openai-compatible.js';
import { createLanguageModel, registerNativeLoader } from '../ts/llm/registry.js';
import { findMiddleware } from '../ts/llm/middleware.js';
import type { ResilienceMiddleware } from '../ts/llm/resilience-middleware.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { createLogger } from '../ts/run/logger.js';

afterEach(() => registerNativeLoader(undefined));

describe('createLanguageModel', () => {
  it('refuses native: with E_NATIVE_UNAVAILABLE until a loader is registered', async () => {
    await expect(createLanguageModel('native:default')).rejects.toMatchObject({ code: 'E_NATIVE_UNAVAILABLE' });
  });

  it('hands native: specs and options to the registered loader', async () => {
    const seen: unknown[] = [];
    registerNativeLoader(async (spec, options) => {
      seen.push(spec, options);
      return new ScriptedLanguageModel({ modelId: 'qwen-native', respond: () => 'local' });
    });
    const model = await createLanguageModel('native:/m/q.gguf', { native: { threads: 2 } });
    expect(model.modelId).toBe('qwen-native');
    expect(seen).toEqual([{ provider: 'native', path: '/m/q.gguf' }, { threads: 2 }]);
    expect((await model.generate({ messages: [{ role: 'user', content: 'q' }] })).text).toBe('local');
  });

  it('wraps HTTP providers in the resilience layer unless asked not to', async () => {
    const wrapped = await createLanguageModel('openai-compatible:http://127.0.0.1:9/v1#qwen', { apiKey: 'k' });
    expect(findMiddleware(wrapped, 'resilience')).toBeDefined();
    expect(wrapped.provider).toBe('openai-compatible');
    expect(wrapped.modelId).toBe('qwen');
    const bare = await createLanguageModel('openai-compatible:http://127.0.0.1:9/v1#qwen', { resilience: false });
    expect(bare).toBeInstanceOf(OpenAICompatibleLanguageModel);
    expect((bare as OpenAICompatibleLanguageModel).baseURL).toBe('http://127.0.0.1:9/v1');
    const openai = await createLanguageModel('openai:gpt-4o-mini', { apiKey: 'k', resilience: false });
    expect(openai.provider).toBe('openai');
    const claude = await createLanguageModel('anthropic:claude-x', { apiKey: 'k', resilience: false });
    expect(claude).toBeInstanceOf(AnthropicLanguageModel);
  });

  it('asks for an API key where the provider needs one, with a coded error', async () => {
    const saved = { openai: process.env.OPENAI_API_KEY, anthropic: process.env.ANTHROPIC_API_KEY };
    delete process.env.OPENAI_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    try {
      await expect(createLanguageModel('openai:gpt-4o-mini')).rejects.toThrow(
        expect.objectContaining({ code: 'E_BAD_INPUT', message: 'openai:gpt-4o-mini: no API key; set OPENAI_API_KEY' }),
      );
      await expect(createLanguageModel('anthropic:claude-x')).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
      // a local OpenAI-style server needs none
      await expect(createLanguageModel('openai-compatible:http://127.0.0.1:9/v1#m')).resolves.toBeDefined();
    } finally {
      if (saved.openai !== undefined) process.env.OPENAI_API_KEY = saved.openai;
      if (saved.anthropic !== undefined) process.env.ANTHROPIC_API_KEY = saved.anthropic;
    }
  });

  it('shares one concurrency limiter between models of the same endpoint', async () => {
    const limiterOf = async (modelString: string) =>
      (findMiddleware(await createLanguageModel(modelString), 'resilience') as ResilienceMiddleware).limiter;
    const a = await limiterOf('openai-compatible:http://127.0.0.1:9/v1#a');
    const b = await limiterOf('openai-compatible:http://127.0.0.1:9/v1#b');
    const c = await limiterOf('openai-compatible:http://127.0.0.1:10/v1#a');
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

describe('retry logging', () => {
  it('logs each retry with its reason and delay, never the key', async () => {
    let requests = 0;
    const server = createServer((_request, response) => {
      requests += 1;
      if (requests === 1) {
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after-ms': '10' });
        return void response.end('{"error":{"message":"overloaded"}}');
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const port = (server.address() as { port: number }).port;
    const model = await createLanguageModel(`openai-compatible:http://127.0.0.1:${port}/v1#m`, {
      apiKey: 'sk-secret-key-123456789',
      logger: createLogger({ destination }),
    });
    expect((await model.generate({ messages: [{ role: 'user', content: 'q' }] })).text).toBe('ok');
    server.close();
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as { msg: string; delayMs: number; attempt: number };
    expect(entry).toMatchObject({ attempt: 1, delayMs: 10 });
    expect(entry.msg).toMatch(/^retrying: openai-compatible:m: HTTP 503/);
    expect(lines[0]).not.toContain('sk-secret');
  });
});
