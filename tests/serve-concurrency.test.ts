import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../ts/run/clock.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { startServer, type RunningServer } from '../ts/serve/server.js';

let server: RunningServer;
let backend: ScriptedLanguageModel;

beforeAll(async () => {
  const random = seededRandom(7);
  // Each answer is derived from its own prompt and arrives after a random delay, so crossed answers would show.
  backend = new ScriptedLanguageModel({
    respond: async (request) => {
      const content = request.messages.at(-1)?.content ?? '';
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 20)));
      return `answer for ${content}: ${content.split('').reverse().join('')}`;
    },
  });
  server = await startServer({ model: backend });
});

afterAll(async () => server.close());

const expected = (content: string) => `answer for ${content}: ${content.split('').reverse().join('')}`;

describe('serve under load', () => {
  it('answers 200 concurrent requests (half streamed) with correct, uncrossed answers', async () => {
    const client = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
    const prompts = Array.from({ length: 200 }, (_, index) => `request-${index}-${(index * 7919) % 1000}`);
    const answers = await Promise.all(
      prompts.map(async (prompt, index) => {
        const messages = [{ role: 'user' as const, content: prompt }];
        if (index % 2 === 0) {
          const completion = await client.chat.completions.create({ model: 'm', messages });
          return completion.choices[0]?.message.content ?? '';
        }
        const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        return text;
      }),
    );
    expect(answers).toEqual(prompts.map(expected));
    expect(backend.calls).toHaveLength(200);
  });
});

describe('serve --max-concurrency', () => {
  it('never runs more generations at once than the limit; the rest wait and all complete', async () => {
    const total = 12;
    let inFlight = 0;
    let maxInFlight = 0;
    let completed = 0;
    const waiters: Array<() => void> = [];
    // Each generation holds its slot until a second one runs beside it (or nothing else is left), so the limit
    // is reached for sure and any excess would show in maxInFlight.
    const model = new ScriptedLanguageModel({
      respond: async (request) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (inFlight >= 2 || completed + inFlight === total) waiters.splice(0).forEach((wake) => wake());
        else await new Promise<void>((resolve) => waiters.push(resolve));
        await new Promise((resolve) => setTimeout(resolve, 10)); // room for an excess request to pile in
        inFlight -= 1;
        completed += 1;
        if (completed + inFlight === total) waiters.splice(0).forEach((wake) => wake());
        return `ok ${request.messages[0]?.content}`;
      },
    });
    const limited = await startServer({ model, maxConcurrency: 2 });
    try {
      const client = new OpenAI({ baseURL: limited.url, apiKey: 'unused', maxRetries: 0 });
      const answers = await Promise.all(
        Array.from({ length: total }, async (_, index) => {
          const messages = [{ role: 'user' as const, content: String(index) }];
          if (index % 3 !== 0) {
            return (await client.chat.completions.create({ model: 'm', messages })).choices[0]?.message.content;
          }
          let text = '';
          const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
          return text;
        }),
      );
      expect(answers).toEqual(Array.from({ length: total }, (_, index) => `ok ${index}`));
      expect(maxInFlight).toBe(2);
      expect(await (await fetch(limited.url.replace(/\/v1$/, '/health'))).json()).toEqual({ status: 'ok' });
    } finally {
      await limited.close();
    }
  });
});
