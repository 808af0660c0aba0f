import Anthropic from '@anthropic-ai/sdk';
import { OptNativeError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import type { MessageCreateParamsBase, Message } from '@anthropic-ai/sdk/resources/messages/messages';
import { settleBatch } from './batch-outcome.js';
import { mapAnthropicStopReason } from './map-finish-reason.js';
import { ProviderError, toProviderError } from './provider-error.js';
import { createModelStream, type ModelStream } from './stream-result.js';
import { textMessages } from './text-messages.js';
import {
  LANGUAGE_MODEL_SPEC_VERSION,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
} from './types.js';

export interface AnthropicOptions {
  model: string;
  /** Defaults to ANTHROPIC_BASE_URL, then Anthropic's API. */
  baseURL?: string;
  /** Defaults to ANTHROPIC_API_KEY. */
  apiKey?: string;
  timeoutMs?: number;
  /** max_tokens when the request sets none (Anthropic requires one). */
  defaultMaxTokens?: number;
}

const DEFAULT_MAX_TOKENS = 1024;

/** Sampling fields the Messages API accepts for models that support them (this SDK version no longer types them). */
export type AnthropicParams = MessageCreateParamsBase & { temperature?: number; top_p?: number; top_k?: number };

/**
 * Our request → Anthropic Messages params. System messages go to `system`; a thinking budget turns on extended
 * thinking, which requires max_tokens above the budget and the default temperature (so sampling knobs are dropped).
 */
export function toAnthropicParams(
  model: string,
  request: GenerateRequest,
  defaultMaxTokens: number = DEFAULT_MAX_TOKENS,
): AnthropicParams {
  const messages = textMessages(request.messages, 'anthropic');
  const system = messages
    .filter((message) => message.role === 'system')
    .map((message) => message.content)
    .join('\n\n');
  const answerTokens = request.maxTokens ?? defaultMaxTokens;
  const params: AnthropicParams = {
    model,
    max_tokens: request.thinkingBudget ? request.thinkingBudget + answerTokens : answerTokens,
    messages: messages
      .filter((message) => message.role !== 'system')
      .map((message) => ({ role: message.role as 'user' | 'assistant', content: message.content })),
  };
  if (system) params.system = system;
  if (request.stop !== undefined) params.stop_sequences = request.stop;
  if (request.thinkingBudget) {
    params.thinking = { type: 'enabled', budget_tokens: request.thinkingBudget };
    return params;
  }
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.topP !== undefined) params.top_p = request.topP;
  if (request.topK !== undefined) params.top_k = request.topK;
  return params;
}

/** The answer text of a message: its text blocks, without thinking blocks. */
export function anthropicMessageText(message: Pick<Message, 'content'>): string {
  return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/** Claude through `@anthropic-ai/sdk`, with extended-thinking budgets (`thinkingBudget`). */
export class AnthropicLanguageModel implements LanguageModel {
  readonly specificationVersion = LANGUAGE_MODEL_SPEC_VERSION;
  readonly provider = 'anthropic';
  readonly modelId: string;
  private readonly client: Anthropic;
  private readonly defaultMaxTokens: number;

  constructor(options: AnthropicOptions) {
    this.modelId = options.model;
    this.defaultMaxTokens = options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS;
    const apiKey = options.apiKey ?? process.env.ANTHROPIC_API_KEY;
    registerSecret(options.apiKey); // keys from the environment are redacted without registration
    if (!apiKey) {
      throw new OptNativeError('E_BAD_INPUT', `anthropic:${options.model}: no API key; set ANTHROPIC_API_KEY`);
    }
    this.client = new Anthropic({
      baseURL: options.baseURL ?? process.env.ANTHROPIC_BASE_URL,
      apiKey,
      maxRetries: 0,
      timeout: options.timeoutMs ?? 600_000,
    });
  }

  private get label(): string {
    return `anthropic:${this.modelId}`;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    try {
      const message = await this.client.messages.create(
        { ...toAnthropicParams(this.modelId, request, this.defaultMaxTokens), stream: false },
        { signal: request.signal },
      );
      if (!Array.isArray(message.content)) {
        throw new ProviderError('malformed', `${this.label}: the response has no content`);
      }
      return {
        text: anthropicMessageText(message),
        finishReason: mapAnthropicStopReason(message.stop_reason),
        modelId: this.modelId,
        usage: { promptTokens: message.usage.input_tokens, completionTokens: message.usage.output_tokens },
      };
    } catch (error) {
      throw toProviderError(error, this.label, request.signal);
    }
  }

  stream(request: GenerateRequest): ModelStream {
    return createModelStream(async (emit) => {
      let text = '';
      let finishReason: FinishReason | undefined;
      const usage = { promptTokens: 0, completionTokens: 0 };
      try {
        const events = await this.client.messages.create(
          { ...toAnthropicParams(this.modelId, request, this.defaultMaxTokens), stream: true },
          { signal: request.signal },
        );
        for await (const event of events) {
          if (event.type === 'message_start') usage.promptTokens = event.message.usage.input_tokens;
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
            text += event.delta.text;
            emit(event.delta.text);
          }
          if (event.type === 'message_delta') {
            usage.completionTokens = event.usage.output_tokens;
            finishReason = mapAnthropicStopReason(event.delta.stop_reason);
          }
        }
      } catch (error) {
        throw toProviderError(error, this.label, request.signal);
      }
      if (!finishReason) throw new ProviderError('connection', `${this.label}: the stream ended before it finished`);
      return { text, finishReason, usage, modelId: this.modelId };
    });
  }

  async generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]> {
    return settleBatch(requests.map((request) => this.generate(request)));
  }
}
