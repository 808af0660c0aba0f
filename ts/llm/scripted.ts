import { OptNativeError } from '../errors.js';
import {
  LANGUAGE_MODEL_SPEC_VERSION,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type ScoreChoicesRequest,
  type ScoreChoicesResult,
  type StreamChunk,
  type Usage,
} from './types.js';

/** What a script returns for one call: plain text, or text with explicit usage / finish reason. */
export type ScriptedReply =
  string | { text: string; usage?: Partial<Usage>; finishReason?: GenerateResult['finishReason'] };

export interface ScriptedLanguageModelOptions {
  modelId?: string;
  /** Called once per generate call, with a 0-based call counter across the model's lifetime. */
  respond: (request: GenerateRequest, callIndex: number) => ScriptedReply | Promise<ScriptedReply>;
  /** Log-probabilities per choice; when absent, scoreChoices is not offered (like an HTTP backend). */
  scoreChoices?: (request: ScoreChoicesRequest) => number[];
}

/** Whitespace token count: the deterministic stand-in for a tokenizer. */
export function countWhitespaceTokens(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}

function promptTokens(request: { messages: { content: string }[] }): number {
  return request.messages.reduce((sum, message) => sum + countWhitespaceTokens(message.content), 0);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new OptNativeError('E_ABORTED', 'the request was aborted');
}

/**
 * A deterministic LanguageModel for tests of orchestration logic: replies come from a script, usage is counted in
 * whitespace tokens, and every request is recorded in `calls`.
 */
export class ScriptedLanguageModel implements LanguageModel {
  readonly specificationVersion = LANGUAGE_MODEL_SPEC_VERSION;
  readonly provider = 'scripted';
  readonly modelId: string;
  readonly calls: GenerateRequest[] = [];
  /** Every scored request, whether it came alone or in a batch. */
  readonly scoreCalls: ScoreChoicesRequest[] = [];
  /** Number of scoreChoicesBatch calls. */
  scoreBatchCalls = 0;
  readonly scoreChoices?: (request: ScoreChoicesRequest) => Promise<ScoreChoicesResult>;
  readonly scoreChoicesBatch?: (requests: ScoreChoicesRequest[]) => Promise<ScoreChoicesResult[]>;
  private readonly options: ScriptedLanguageModelOptions;

  constructor(options: ScriptedLanguageModelOptions) {
    this.options = options;
    this.modelId = options.modelId ?? 'scripted';
    const scorer = options.scoreChoices;
    if (scorer) {
      this.scoreChoices = async (request) => this.scoreWith(scorer, request);
      this.scoreChoicesBatch = async (requests) => {
        this.scoreBatchCalls += 1;
        return requests.map((request) => this.scoreWith(scorer, request));
      };
    }
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    throwIfAborted(request.signal);
    const callIndex = this.calls.length;
    this.calls.push(request);
    const reply = await this.options.respond(request, callIndex);
    const normalized = typeof reply === 'string' ? { text: reply } : reply;
    let text = normalized.text;
    let finishReason = normalized.finishReason ?? 'stop';
    const stopAt = firstStopIndex(text, request.stop);
    if (stopAt !== undefined) text = text.slice(0, stopAt);
    const words = text.split(/(\s+)/);
    if (request.maxTokens !== undefined && countWhitespaceTokens(text) > request.maxTokens) {
      text = words.slice(0, request.maxTokens * 2 - 1).join('');
      finishReason = 'length';
    }
    return {
      text,
      finishReason,
      modelId: this.modelId,
      usage: {
        promptTokens: normalized.usage?.promptTokens ?? promptTokens(request),
        completionTokens: normalized.usage?.completionTokens ?? countWhitespaceTokens(text),
      },
    };
  }

  stream(request: GenerateRequest): AsyncIterable<StreamChunk> & { result: Promise<GenerateResult> } {
    const result = this.generate(request);
    async function* chunks(): AsyncGenerator<StreamChunk> {
      const { text } = await result;
      for (const piece of text.split(/(?<=\s)/)) yield { delta: piece };
    }
    return Object.assign(chunks(), { result });
  }

  async generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]> {
    const results: GenerateResult[] = [];
    for (const request of requests) results.push(await this.generate(request));
    return results;
  }

  private scoreWith(
    scorer: (request: ScoreChoicesRequest) => number[],
    request: ScoreChoicesRequest,
  ): ScoreChoicesResult {
    throwIfAborted(request.signal);
    this.scoreCalls.push(request);
    const logprobs = scorer(request);
    if (logprobs.length !== request.choices.length) {
      throw new OptNativeError('E_BAD_INPUT', 'the scripted scorer returned a wrong number of log-probabilities');
    }
    const max = Math.max(...logprobs);
    const weights = logprobs.map((logprob) => Math.exp(logprob - max));
    const total = weights.reduce((a, b) => a + b, 0);
    const scores = request.choices.map((choice, index) => ({
      choice,
      logprob: logprobs[index] ?? -Infinity,
      probability: (weights[index] ?? 0) / total,
      tokenCount: countWhitespaceTokens(choice),
    }));
    const best = scores.reduce((a, b) => (b.logprob > a.logprob ? b : a));
    return {
      scores,
      best: best.choice,
      modelId: this.modelId,
      usage: { promptTokens: promptTokens(request), completionTokens: 0 },
    };
  }
}

function firstStopIndex(text: string, stop: string[] | undefined): number | undefined {
  let first: number | undefined;
  for (const marker of stop ?? []) {
    const index = text.indexOf(marker);
    if (index >= 0 && (first === undefined || index < first)) first = index;
  }
  return first;
}
