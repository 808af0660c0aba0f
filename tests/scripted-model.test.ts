import { describe, expect, it } from 'vitest';
import { ScriptedLanguageModel, countWhitespaceTokens } from '../ts/llm/scripted.js';

const user = (content: string) => [{ role: 'user' as const, content }];

describe('ScriptedLanguageModel', () => {
  it('replies from the script with call indices and records calls', async () => {
    const model = new ScriptedLanguageModel({ respond: (_request, index) => `reply ${index}` });
    const first = await model.generate({ messages: user('one two three') });
    const second = await model.generate({ messages: user('x') });
    expect(first).toEqual({
      text: 'reply 0',
      finishReason: 'stop',
      modelId: 'scripted',
      usage: { promptTokens: 3, completionTokens: 2 },
    });
    expect(second.text).toBe('reply 1');
    expect(model.calls).toHaveLength(2);
  });

  it('applies stop strings and max tokens like a real backend', async () => {
    const model = new ScriptedLanguageModel({ respond: () => 'alpha beta gamma delta END tail' });
    const stopped = await model.generate({ messages: user('q'), stop: ['END'] });
    expect(stopped.text).toBe('alpha beta gamma delta ');
    expect(stopped.finishReason).toBe('stop');
    const cut = await model.generate({ messages: user('q'), maxTokens: 2 });
    expect(cut.text).toBe('alpha beta');
    expect(cut.finishReason).toBe('length');
    expect(cut.usage.completionTokens).toBe(2);
  });

  it('streams deltas that concatenate to the full text', async () => {
    const model = new ScriptedLanguageModel({ respond: () => 'a b  c' });
    const stream = model.stream({ messages: user('q') });
    let joined = '';
    for await (const chunk of stream) joined += chunk.delta;
    expect(joined).toBe('a b  c');
    expect((await stream.result).text).toBe('a b  c');
  });

  it('scores choices with a softmax over the scripted log-probabilities', async () => {
    const model = new ScriptedLanguageModel({ respond: () => '', scoreChoices: () => [Math.log(0.2), Math.log(0.6)] });
    const result = await model.scoreChoices!({ messages: user('q'), choices: ['YES', 'NO'] });
    expect(result.best).toBe('NO');
    expect(result.scores[0]!.probability).toBeCloseTo(0.25, 12);
    expect(result.scores[1]!.probability).toBeCloseTo(0.75, 12);
  });

  it('offers no scoreChoices without a scorer, and refuses aborted requests', async () => {
    const model = new ScriptedLanguageModel({ respond: () => 'x' });
    expect(model.scoreChoices).toBeUndefined();
    const controller = new AbortController();
    controller.abort();
    await expect(model.generate({ messages: user('q'), signal: controller.signal })).rejects.toMatchObject({
      code: 'E_ABORTED',
    });
  });

  it('counts whitespace tokens', () => {
    expect(countWhitespaceTokens('')).toBe(0);
    expect(countWhitespaceTokens('  a\tb\nc ')).toBe(3);
  });
});
