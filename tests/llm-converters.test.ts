import { describe, expect, it } from 'vitest';
import { anthropicMessageText, toAnthropicParams } from '../ts/llm/anthropic.js';
import { mapAnthropicStopReason, mapOpenAIFinishReason, toOpenAIFinishReason } from '../ts/llm/map-finish-reason.js';
import { toChatCompletionParams } from '../ts/llm/openai-compatible.js';
import { parseRetryAfter, ProviderError, toProviderError } from '../ts/llm/provider-error.js';

const headers = (record: Record<string, string>) => new Headers(record);

describe('finish reasons', () => {
  it('maps OpenAI and Anthropic reasons', () => {
    expect(['stop', 'length', 'content_filter', null].map(mapOpenAIFinishReason)).toEqual([
      'stop',
      'length',
      'other',
      'other',
    ]);
    expect(['end_turn', 'stop_sequence', 'max_tokens', 'refusal'].map(mapAnthropicStopReason)).toEqual([
      'stop',
      'stop',
      'length',
      'other',
    ]);
    expect(toOpenAIFinishReason('length')).toBe('length');
    expect(toOpenAIFinishReason('other')).toBe('stop');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds, an HTTP date and retry-after-ms', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(headers({ 'retry-after': '3' }), now)).toBe(3_000);
    expect(parseRetryAfter(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5_000);
    expect(parseRetryAfter(headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(headers({}), now)).toBeUndefined();
  });
});

describe('toProviderError', () => {
  it('classifies SDK errors by status and name', () => {
    const rateLimited = Object.assign(new Error('slow down'), {
      status: 429,
      headers: headers({ 'retry-after': '2' }),
    });
    const mapped = toProviderError(rateLimited, 'openai:x') as ProviderError;
    expect(mapped).toMatchObject({ code: 'E_PROVIDER', kind: 'rate-limit', status: 429, retryAfterMs: 2_000 });
    expect(mapped.retryable).toBe(true);
    expect(toProviderError(Object.assign(new Error('bad'), { status: 400 }), 'x')).toMatchObject({ kind: 'client' });
    expect((toProviderError(Object.assign(new Error('bad'), { status: 400 }), 'x') as ProviderError).retryable).toBe(
      false,
    );
    expect(toProviderError(Object.assign(new Error('oops'), { status: 503 }), 'x')).toMatchObject({ kind: 'server' });
    const timeout = Object.assign(new Error('t'), { name: 'APIConnectionTimeoutError' });
    expect(toProviderError(timeout, 'x')).toMatchObject({ kind: 'timeout' });
    const abort = Object.assign(new Error('a'), { name: 'APIUserAbortError' });
    expect(toProviderError(abort, 'x')).toMatchObject({ code: 'E_ABORTED' });
    expect(toProviderError(new SyntaxError('Unexpected token'), 'x')).toMatchObject({ kind: 'malformed' });
  });
});

describe('request converters', () => {
  const request = {
    messages: [
      { role: 'system' as const, content: 'rules' },
      { role: 'user' as const, content: 'q' },
    ],
    temperature: 0.2,
    topP: 0.8,
    topK: 20,
    seed: 3,
    maxTokens: 64,
    stop: ['\n\n'],
  };

  it('builds OpenAI chat params with vLLM extras', () => {
    expect(toChatCompletionParams('qwen', request)).toEqual({
      model: 'qwen',
      messages: request.messages,
      temperature: 0.2,
      top_p: 0.8,
      top_k: 20,
      seed: 3,
      max_tokens: 64,
      stop: ['\n\n'],
    });
  });

  it('shifts the seed by the sample index, so that repeated samples differ', () => {
    expect(toChatCompletionParams('qwen', { ...request, sampleIndex: 2 }).seed).toBe(5);
    expect(toChatCompletionParams('qwen', { messages: request.messages, sampleIndex: 2 }).seed).toBeUndefined();
  });

  it('builds Anthropic params: system apart, stop sequences, sampling', () => {
    expect(toAnthropicParams('claude', request)).toEqual({
      model: 'claude',
      system: 'rules',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'q' }],
      stop_sequences: ['\n\n'],
      temperature: 0.2,
      top_p: 0.8,
      top_k: 20,
    });
  });

  it('turns a thinking budget into extended thinking with room for the answer', () => {
    const params = toAnthropicParams('claude', { ...request, thinkingBudget: 2048 });
    expect(params.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(params.max_tokens).toBe(2048 + 64);
    expect(params.temperature).toBeUndefined();
  });

  it('takes the answer from text blocks only', () => {
    const content = [
      { type: 'thinking', thinking: 'hmm', signature: 's' },
      { type: 'text', text: 'The answer', citations: null },
      { type: 'text', text: ' is 4.', citations: null },
    ];
    expect(anthropicMessageText({ content } as Parameters<typeof anthropicMessageText>[0])).toBe('The answer is 4.');
  });
});
