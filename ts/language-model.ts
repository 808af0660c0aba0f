/**
 * The one interface every model provider implements (native Qwen, OpenAI-compatible, Anthropic, the scripted test
 * double). Versioned so that providers written against an older shape are refused, not misused.
 */
export const LANGUAGE_MODEL_SPEC_VERSION = 'v1' as const;

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
  /**
   * A clip heard with this message: 16 kHz mono samples. Only audio models take one (ts/audio/classifier-model.ts);
   * text providers refuse a request that carries audio.
   */
  audio?: Float32Array;
}

export interface SamplingOptions {
  /** 0 means greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  seed?: number;
  maxTokens?: number;
  stop?: string[];
  /** Extended thinking budget in tokens, for providers that support it (Anthropic). */
  thinkingBudget?: number;
}

export interface GenerateRequest extends SamplingOptions {
  messages: ChatMessage[];
  /**
   * Distinguishes repeated samples of the same request (n > 1 with a fixed seed); part of the cache key so that
   * the k-th sample is cached separately.
   */
  sampleIndex?: number;
  signal?: AbortSignal;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export type FinishReason = 'stop' | 'length' | 'aborted' | 'error' | 'other';

export interface GenerateResult {
  text: string;
  usage: Usage;
  finishReason: FinishReason;
  modelId: string;
  /** True when the answer came from the response cache (it then cost nothing). */
  cached?: boolean;
}

export interface StreamChunk {
  /** Text delta since the previous chunk. */
  delta: string;
}

export interface ScoreChoicesRequest {
  messages: ChatMessage[];
  choices: string[];
  signal?: AbortSignal;
}

export interface ChoiceScore {
  choice: string;
  /** Sum of the log-probabilities of the choice's tokens after the prompt. */
  logprob: number;
  /** Softmax of `logprob` across the choices. */
  probability: number;
  tokenCount: number;
}

export interface ScoreChoicesResult {
  scores: ChoiceScore[];
  best: string;
  usage: Usage;
  modelId: string;
  /** True when the scores came from the response cache (they then cost nothing). */
  cached?: boolean;
}

export interface LanguageModel {
  readonly specificationVersion: typeof LANGUAGE_MODEL_SPEC_VERSION;
  /** Provider name: 'native', 'openai-compatible', 'anthropic', 'scripted', … */
  readonly provider: string;
  readonly modelId: string;

  generate(request: GenerateRequest): Promise<GenerateResult>;
  /** Streams text deltas; the returned promise resolves with the full result once the stream ends. */
  stream(request: GenerateRequest): AsyncIterable<StreamChunk> & { result: Promise<GenerateResult> };
  generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]>;
  /** Present only where the backend exposes log-probabilities of given continuations. */
  scoreChoices?(request: ScoreChoicesRequest): Promise<ScoreChoicesResult>;
  /** Scores several prompts against their choices in one call; a native backend shares the common prompt prefix. */
  scoreChoicesBatch?(requests: ScoreChoicesRequest[]): Promise<ScoreChoicesResult[]>;
  /** Releases native memory or connections; further calls fail. */
  dispose?(): Promise<void>;
}
