import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { responseCacheKey } from '../ts/run/cache-key.js';
import { ResponseCache } from '../ts/run/cache.js';
import type { GenerateRequest, GenerateResult } from '../ts/llm/types.js';

const request: GenerateRequest = { messages: [{ role: 'user', content: 'hello' }], temperature: 0.7, seed: 1 };
const result: GenerateResult = {
  text: 'hi',
  finishReason: 'stop',
  modelId: 'm',
  usage: { promptTokens: 1, completionTokens: 1 },
};

const tempCachePath = () => join(mkdtempSync(join(tmpdir(), 'opt-native-cache-')), 'cache.sqlite');

describe('responseCacheKey', () => {
  const base = responseCacheKey('openai', 'm', request);

  it('changes with provider, model, messages and every sampling parameter, seed and sample index', () => {
    const variants: Array<[string, string, GenerateRequest]> = [
      ['anthropic', 'm', request],
      ['openai', 'm2', request],
      ['openai', 'm', { ...request, messages: [{ role: 'system', content: 'hello' }] }],
      ['openai', 'm', { ...request, messages: [{ role: 'user', content: 'hello!' }] }],
      ['openai', 'm', { ...request, temperature: 0.8 }],
      ['openai', 'm', { ...request, topK: 40 }],
      ['openai', 'm', { ...request, topP: 0.9 }],
      ['openai', 'm', { ...request, repetitionPenalty: 1.1 }],
      ['openai', 'm', { ...request, seed: 2 }],
      ['openai', 'm', { ...request, maxTokens: 10 }],
      ['openai', 'm', { ...request, stop: ['\n'] }],
      ['openai', 'm', { ...request, thinkingBudget: 1024 }],
      ['openai', 'm', { ...request, sampleIndex: 1 }],
    ];
    const keys = variants.map(([provider, model, variant]) => responseCacheKey(provider, model, variant));
    expect(new Set([base, ...keys]).size).toBe(variants.length + 1);
  });

  it('ignores what does not change the answer (the abort signal) and treats sample index 0 as absent', () => {
    expect(responseCacheKey('openai', 'm', { ...request, signal: new AbortController().signal })).toBe(base);
    expect(responseCacheKey('openai', 'm', { ...request, sampleIndex: 0 })).toBe(base);
  });
});

describe('ResponseCache', () => {
  it('stores results in a WAL-mode SQLite file that survives reopening', () => {
    const path = tempCachePath();
    const cache = new ResponseCache(path);
    expect(cache.get('openai', 'm', request)).toBeUndefined();
    expect(cache.put('openai', 'm', request, result)).toBe(true);
    expect(cache.get('openai', 'm', request)).toEqual({ ...result, cached: true });
    expect(cache.stats).toEqual({ hits: 1, misses: 1, writes: 1 });
    cache.close();

    const raw = new Database(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    const reopened = new ResponseCache(path);
    expect(reopened.get('openai', 'm', request)?.text).toBe('hi');
    expect(reopened.size()).toBe(1);
    reopened.close();
  });

  it('never stores errors or aborted generations', () => {
    const cache = new ResponseCache(tempCachePath());
    expect(cache.put('openai', 'm', request, { ...result, finishReason: 'error' })).toBe(false);
    expect(cache.put('openai', 'm', request, { ...result, finishReason: 'aborted' })).toBe(false);
    expect(cache.size()).toBe(0);
    cache.close();
  });

  it('does not store the cached flag itself', () => {
    const path = tempCachePath();
    const cache = new ResponseCache(path);
    cache.put('openai', 'm', request, { ...result, cached: true });
    const raw = new Database(path);
    const row = raw.prepare('SELECT result_json FROM responses').get() as { result_json: string };
    expect(JSON.parse(row.result_json)).toEqual(result);
    raw.close();
    cache.close();
  });
});
