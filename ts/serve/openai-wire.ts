import { z } from 'zod';
import { OptNativeError } from '../errors.js';
import { SEED_MAX, U32_MAX } from '../numbers.js';
import { redactSecrets } from '../secrets.js';
import { toOpenAIFinishReason } from '../llm/map-finish-reason.js';
import type { ChatMessage, GenerateRequest, GenerateResult, SamplingOptions } from '../llm/types.js';

/** Sampling fields shared by /v1/chat/completions and /v1/completions (OpenAI names, plus vLLM's extras). */
const samplingFields = {
  model: z.string().optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(0).max(U32_MAX).optional(),
  repetition_penalty: z.number().positive().max(100).optional(),
  max_tokens: z.number().int().min(1).max(U32_MAX).optional(),
  max_completion_tokens: z.number().int().min(1).max(U32_MAX).optional(),
  seed: z.number().int().min(0).max(SEED_MAX).optional(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).optional(),
  n: z.number().int().min(1).max(16).optional(),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
};

/** Message content as plain text or as an array of text parts. */
const contentSchema = z.union([
  z.string(),
  z
    .array(z.object({ type: z.literal('text'), text: z.string() }))
    .transform((parts) => parts.map((p) => p.text).join('')),
]);

export const chatCompletionBodySchema = z.object({
  ...samplingFields,
  messages: z
    .array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant']), content: contentSchema }))
    .min(1),
});

export const completionBodySchema = z.object({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).length(1)]),
});

export type ChatCompletionBody = z.infer<typeof chatCompletionBodySchema>;
export type CompletionBody = z.infer<typeof completionBodySchema>;

/** Validates a request body; a bad one is E_BAD_INPUT with zod's explanation (sent back as HTTP 400). */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new OptNativeError('E_BAD_INPUT', z.prettifyError(parsed.error));
  return parsed.data;
}

function samplingOptions(body: z.infer<z.ZodObject<typeof samplingFields>>): SamplingOptions {
  const options: SamplingOptions = {};
  if (body.temperature !== undefined) options.temperature = body.temperature;
  if (body.top_p !== undefined) options.topP = body.top_p;
  if (body.top_k !== undefined) options.topK = body.top_k;
  if (body.repetition_penalty !== undefined) options.repetitionPenalty = body.repetition_penalty;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined) options.maxTokens = maxTokens;
  if (body.seed !== undefined) options.seed = body.seed;
  if (body.stop !== undefined) options.stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  return options;
}

/** A chat request → one GenerateRequest per sample (n > 1 gives sample indices 0..n-1). */
export function chatBodyToRequests(body: ChatCompletionBody, signal: AbortSignal): GenerateRequest[] {
  const messages: ChatMessage[] = body.messages.map((message) => ({
    role: message.role === 'developer' ? 'system' : message.role,
    content: message.content,
  }));
  return samples(body.n, { ...samplingOptions(body), messages, signal });
}

/** A plain completion request: the prompt becomes the single user message of the model. */
export function completionBodyToRequests(body: CompletionBody, signal: AbortSignal): GenerateRequest[] {
  const prompt = typeof body.prompt === 'string' ? body.prompt : (body.prompt[0] ?? '');
  return samples(body.n, { ...samplingOptions(body), messages: [{ role: 'user', content: prompt }], signal });
}

function samples(n: number | undefined, request: GenerateRequest): GenerateRequest[] {
  return Array.from({ length: n ?? 1 }, (_, sampleIndex) =>
    sampleIndex === 0 ? request : { ...request, sampleIndex },
  );
}

function usageOf(results: GenerateResult[]) {
  const prompt_tokens = results[0]?.usage.promptTokens ?? 0;
  const completion_tokens = results.reduce((sum, result) => sum + result.usage.completionTokens, 0);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

export function chatCompletionResponse(id: string, created: number, model: string, results: GenerateResult[]) {
  return {
    id,
    object: 'chat.completion' as const,
    created,
    model,
    choices: results.map((result, index) => ({
      index,
      message: { role: 'assistant' as const, content: result.text, refusal: null },
      logprobs: null,
      finish_reason: toOpenAIFinishReason(result.finishReason),
    })),
    usage: usageOf(results),
  };
}

export function completionResponse(id: string, created: number, model: string, results: GenerateResult[]) {
  return {
    id,
    object: 'text_completion' as const,
    created,
    model,
    choices: results.map((result, index) => ({
      index,
      text: result.text,
      logprobs: null,
      finish_reason: toOpenAIFinishReason(result.finishReason),
    })),
    usage: usageOf(results),
  };
}

/** One `chat.completion.chunk` of a stream. */
export function chatCompletionChunk(
  id: string,
  created: number,
  model: string,
  delta: { role?: 'assistant'; content?: string },
  finishReason: 'stop' | 'length' | null = null,
) {
  return {
    id,
    object: 'chat.completion.chunk' as const,
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

/** One `text_completion` chunk of a stream. */
export function completionChunk(
  id: string,
  created: number,
  model: string,
  text: string,
  finishReason: 'stop' | 'length' | null = null,
) {
  return {
    id,
    object: 'text_completion' as const,
    created,
    model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
  };
}

function httpStatusOf(error: unknown, coded: OptNativeError | undefined): number {
  const explicit = (error as { httpStatus?: unknown } | undefined)?.httpStatus;
  if (typeof explicit === 'number') return explicit;
  if (coded?.code === 'E_BAD_INPUT') return 400;
  return coded?.code === 'E_BUDGET' || coded?.code === 'E_CIRCUIT_OPEN' ? 503 : 500;
}

/** OpenAI's error body and the HTTP status for one of our errors. */
export function errorResponse(error: unknown): { status: number; body: { error: Record<string, unknown> } } {
  const coded = error instanceof OptNativeError ? error : undefined;
  const status = httpStatusOf(error, coded);
  // Coded messages are redacted when made; anything else is redacted here, before a client sees it.
  const message = redactSecrets(error instanceof Error ? error.message : String(error));
  return {
    status,
    body: {
      error: {
        message,
        type: status < 500 ? 'invalid_request_error' : 'server_error',
        code: coded?.code ?? 'E_INTERNAL',
        param: null,
      },
    },
  };
}
