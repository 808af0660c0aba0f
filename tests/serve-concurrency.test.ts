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
