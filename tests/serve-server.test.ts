import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import { startServer, type RunningServer } from '../ts/serve/server.js';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const lastUserMessage = (request: GenerateRequest) => request.messages.at(-1)?.content ?? '';

async function serve(model: ScriptedLanguageModel): Promise<OpenAI> {
  server = await startServer({ model, modelName: 'scripted-qwen' });
  return new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
}

/** Resolves when the request's AbortSignal fires, rejecting the generation like a real backend would. */
function waitForAbort(request: GenerateRequest, onAbort: () => void): Promise<string> {
  return new Promise((_resolve, reject) => {
    request.signal?.addEventListener('abort', () => {
      onAbort();
      reject(new Error('aborted'));
    });
  });
}

describe('opt-native serve over a LanguageModel', () => {
  it('binds 127.0.0.1 on an ephemeral port and lists the model', async () => {
    const client = await serve(new ScriptedLanguageModel({ respond: () => 'x' }));
    expect(server!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(server!.port).toBeGreaterThan(0);
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['scripted-qwen']);
  });

  it('answers chat completions with text, usage, finish reason and the sampling options passed through', async () => {
    const model = new ScriptedLanguageModel({ respond: (request) => `echo: ${lastUserMessage(request)}` });
    const client = await serve(model);
    const completion = await client.chat.completions.create({
      model: 'scripted-qwen',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'two words' },
      ],
      temperature: 0.3,
      top_p: 0.9,
      seed: 7,
      max_tokens: 50,
      stop: ['###'],
    });
    expect(completion.choices[0]?.message.content).toBe('echo: two words');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.model).toBe('scripted-qwen');
    // whitespace tokens: prompt "be brief" + "two words" = 4, answer "echo: two words" = 3
    expect(completion.usage).toEqual({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
    const seen = model.calls[0]!;
    expect(seen).toMatchObject({ temperature: 0.3, topP: 0.9, seed: 7, maxTokens: 50, stop: ['###'] });
    expect(seen.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'two words' },
    ]);
  });

  it('returns n samples with distinct sample indices and reports length cut-offs', async () => {
    const model = new ScriptedLanguageModel({
      respond: (request) => `sample ${request.sampleIndex ?? 0} of many words`,
    });
    const client = await serve(model);
    const completion = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'q' }],
      n: 3,
      max_tokens: 2,
    });
    expect(completion.choices.map((choice) => choice.message.content)).toEqual(['sample 0', 'sample 1', 'sample 2']);
    expect(completion.choices.map((choice) => choice.finish_reason)).toEqual(['length', 'length', 'length']);
  });

  it('streams chat deltas over SSE that concatenate to the answer, with usage at the end', async () => {
    const client = await serve(new ScriptedLanguageModel({ respond: () => 'one two three four' }));
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let finishReason: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas).toEqual(['one ', 'two ', 'three ', 'four']);
    expect(finishReason).toBe('stop');
    expect(usage).toEqual({ prompt_tokens: 1, completion_tokens: 4, total_tokens: 5 });
  });

  it('serves /v1/completions, plain and streamed', async () => {
    const model = new ScriptedLanguageModel({ respond: (request) => `completed ${lastUserMessage(request)}` });
    const client = await serve(model);
    const completion = await client.completions.create({ model: 'm', prompt: 'the prompt', max_tokens: 10 });
    expect(completion.choices[0]?.text).toBe('completed the prompt');
    expect(completion.usage?.completion_tokens).toBe(3);
    const stream = await client.completions.create({ model: 'm', prompt: 'p', stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('completed p');
  });

  it('answers bad requests with 400 and an OpenAI error body', async () => {
    const client = await serve(new ScriptedLanguageModel({ respond: () => 'x' }));
    await expect(client.chat.completions.create({ model: 'm', messages: [], temperature: 0 })).rejects.toMatchObject({
      status: 400,
      error: { code: 'E_BAD_INPUT' },
    });
    const response = await fetch(`${server!.url}/chat/completions`, { method: 'POST', body: '{not json' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/not valid JSON/);
    expect((await fetch(`${server!.url}/nothing`)).status).toBe(404);
  });

  it('reports a model failure as a 500 with its code', async () => {
    const client = await serve(
      new ScriptedLanguageModel({
        respond: () => {
          throw new Error('backend exploded');
        },
      }),
    );
    await expect(
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'q' }] }),
    ).rejects.toMatchObject({
      status: 500,
    });
  });

  it('aborts the generation when the client cancels a request', async () => {
    let aborted = false;
    let started!: () => void;
    const generationStarted = new Promise<void>((resolve) => (started = resolve));
    const model = new ScriptedLanguageModel({
      respond: (request) => {
        started();
        return waitForAbort(request, () => (aborted = true));
      },
    });
    const client = await serve(model);
    const controller = new AbortController();
    const pending = client.chat.completions.create(
      { model: 'm', messages: [{ role: 'user', content: 'long job' }] },
      { signal: controller.signal },
    );
    await generationStarted;
    controller.abort();
    await expect(pending).rejects.toThrow();
    await expect.poll(() => aborted).toBe(true);
  });

  it('aborts a streaming generation when the client stops reading', async () => {
    let aborted = false;
    const model = new ScriptedLanguageModel({ respond: (request) => waitForAbort(request, () => (aborted = true)) });
    const client = await serve(model);
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'm', messages: [{ role: 'user', content: 'stream forever' }], stream: true },
      { signal: controller.signal },
    );
    for await (const chunk of stream) {
      expect(chunk.choices[0]?.delta.role).toBe('assistant');
      controller.abort();
      break;
    }
    await expect.poll(() => aborted).toBe(true);
  });
});
