import { describe, expect, it } from 'vitest';
import { parseModelString } from '../ts/llm/model-string.js';

describe('parseModelString', () => {
  it('parses every documented form', () => {
    expect(parseModelString('native:/models/qwen2.5-0.5b.gguf')).toEqual({
      provider: 'native',
      path: '/models/qwen2.5-0.5b.gguf',
    });
    expect(parseModelString('native:./q.gguf')).toEqual({ provider: 'native', path: './q.gguf' });
    expect(parseModelString('native:default')).toEqual({ provider: 'native', name: 'default' });
    expect(parseModelString('openai:gpt-4o-mini')).toEqual({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(parseModelString('openai-compatible:http://127.0.0.1:8000/v1#qwen2.5-7b')).toEqual({
      provider: 'openai-compatible',
      baseURL: 'http://127.0.0.1:8000/v1',
      model: 'qwen2.5-7b',
    });
    expect(parseModelString('anthropic:claude-sonnet-4-0')).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-4-0',
    });
  });

  it('reads default alone as the default local model, as generate --model does', () => {
    expect(parseModelString('default')).toEqual(parseModelString('native:default'));
    expect(parseModelString(' default ')).toEqual({ provider: 'native', name: 'default' });
  });

  it('keeps colons of the model name and the URL', () => {
    expect(parseModelString('openai-compatible:https://host:9000/v1#qwen2.5:7b-instruct')).toMatchObject({
      baseURL: 'https://host:9000/v1',
      model: 'qwen2.5:7b-instruct',
    });
  });

  it('refuses malformed strings with E_BAD_INPUT and the accepted forms', () => {
    for (const bad of [
      'gpt-4o',
      'native:',
      'openai:',
      'mystery:x',
      'openai-compatible:http://h/v1',
      'openai-compatible:not a url#m',
      'openai-compatible:ftp://h#m',
    ]) {
      expect(() => parseModelString(bad), bad).toThrow(expect.objectContaining({ code: 'E_BAD_INPUT' }));
    }
    expect(() => parseModelString('mystery:x')).toThrow(/expected native:\/path\/model.gguf/);
  });
});
