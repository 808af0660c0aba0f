import OpenAI from 'openai';
import { OptNativeError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import type { ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions';
import { settleBatch } from './batch-outcome.js';
import { mapOpenAIFinishReason } from './map-finish-reason.js';
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

export interface OpenAICompatibleOptions {
  /** Model name sent to the server. */
  model: string;
  /** Defaults to OPENAI_BASE_URL, then OpenAI's own API. */
  baseURL?: string;
  /** Defaults to OPENAI_API_KEY; local servers that need no key get a placeholder. */
  apiKey?: string;
  /** Provider name reported by the model ('openai' or 'openai-compatible'). */
  provider?: string;
  /** Per-request timeout of the HTTP client, ms. */
  timeoutMs?: number;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

/** Sampling options that OpenAI-style servers accept; vLLM also reads `top_k` and `repetition_penalty`. */
export function toChatCompletionParams(model: string, request: GenerateRequest): ChatCompletionCreateParamsBase {
  const params: ChatCompletionCreateParamsBase & Record<string, unknown> = {
    model,
    messages: textMessages(request.messages, 'openai-compatible'),
  };
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.topP !== undefined) params.top_p = request.topP;
  if (request.maxTokens !== undefined) params.max_tokens = request.maxTokens;
  if (request.stop !== undefined) params.stop = request.stop;
  // Like the native provider: the k-th sample of a seeded request uses seed + k, so repeated samples differ.
  if (request.seed !== undefined) params.seed = request.seed + (request.sampleIndex ?? 0);
  if (request.topK !== undefined) params.top_k = request.topK;
  if (request.repetitionPenalty !== undefined) params.repetition_penalty = request.repetitionPenalty;
  return params;
}

/** Any OpenAI-style chat server (OpenAI, vLLM, Ollama, LM Studio, `opt-native serve`) through the `openai` client. */
export class OpenAICompatibleLanguageModel implements LanguageModel {
  readonly specificationVersion = LANGUAGE_MODEL_SPEC_VERSION;
  readonly provider: string;
  readonly modelId: string;
  readonly baseURL: string;
  private readonly client: OpenAI;

  constructor(options: OpenAICompatibleOptions) {
    this.provider = options.provider ?? 'openai-compatible';
    this.modelId = options.model;
    const baseURL = options.baseURL ?? process.env.OPENAI_BASE_URL;
    const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY ?? (baseURL ? 'not-needed' : undefined);
    registerSecret(options.apiKey); // keys from the environment are redacted without registration
    if (!apiKey) {
      throw new OptNativeError('E_BAD_INPUT', `${this.provider}:${options.model}: no API key; set OPENAI_API_KEY`);
    }
    // Retries, backoff and timeouts belong to the run infrastructure (the resilience middleware), not the client.
    this.client = new OpenAI({
      baseURL,
      apiKey,
      maxRetries: 0,
      timeout: options.timeoutMs ?? 600_000,
      defaultHeaders: options.headers,
    });
    this.baseURL = this.client.baseURL;
  }

  private get label(): string {
    return `${this.provider}:${this.modelId}`;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    try {
      const completion = await this.client.chat.completions.create(
        { ...toChatCompletionParams(this.modelId, request), stream: false },
        { signal: request.signal },
      );
      const choice = completion.choices?.[0];
      if (!choice) throw new ProviderError('malformed', `${this.label}: the response has no choices`);
      return {
        text: choice.message?.content ?? '',
        finishReason: mapOpenAIFinishReason(choice.finish_reason),
        modelId: this.modelId,
        usage: {
          promptTokens: completion.usage?.prompt_tokens ?? 0,
          completionTokens: completion.usage?.completion_tokens ?? 0,
        },
      };
    } catch (error) {
      throw toProviderError(error, this.label, request.signal);
    }
  }

  stream(request: GenerateRequest): ModelStream {
    return createModelStream(async (emit) => {
      let text = '';
      let finishReason: FinishReason | undefined;
      let usage = { promptTokens: 0, completionTokens: 0 };
      try {
        const chunks = await this.client.chat.completions.create(
          { ...toChatCompletionParams(this.modelId, request), stream: true, stream_options: { include_usage: true } },
          { signal: request.signal },
        );
        for await (const chunk of chunks) {
          const choice = chunk.choices[0];
          const delta = choice?.delta.content ?? '';
          text += delta;
          emit(delta);
          if (choice?.finish_reason) finishReason = mapOpenAIFinishReason(choice.finish_reason);
          if (chunk.usage) {
            usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
          }
        }
      } catch (error) {
        throw toProviderError(error, this.label, request.signal);
      }
      // A stream cut short without a finish reason is a failure, not a short answer (it must never be cached).
      if (!finishReason) throw new ProviderError('connection', `${this.label}: the stream ended before it finished`);
      return { text, finishReason, usage, modelId: this.modelId };
    });
  }

  async generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]> {
    return settleBatch(requests.map((request) => this.generate(request)));
  }
}
