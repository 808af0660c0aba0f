// An audio classifier (the native Qwen2-Audio model, or a scripted one in tests) as a LanguageModel, so that audio
// evaluations go through the same middleware as text ones: the optimizers' usage meter and budget, the response
// cache, low-memory residency. A request is one user message whose content is the prompt and whose `audio` is the
// clip; runs of requests with the same prompt become one classify call.
import { OptNativeError } from '../errors.js';
import { createModelStream } from '../llm/stream-result.js';
import {
  LANGUAGE_MODEL_SPEC_VERSION,
  type ChoiceScore,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type ScoreChoicesRequest,
  type ScoreChoicesResult,
  type Usage,
} from '../llm/types.js';

/** One clip's answer: raw text, or the text with the label the model itself resolved (null = none) and its usage. */
export type AudioAnswer = string | { readonly text: string; readonly label: string | null; readonly usage?: Usage };

/** The classify call of an audio model (`NativeAudioModel` has it): one answer per clip (16 kHz mono samples). */
export interface AudioClassifier {
  classify(
    clips: readonly Float32Array[],
    prompt: string,
    options: { labels: readonly string[]; mode: 'generate' | 'score'; maxNewTokens?: number; signal?: AbortSignal },
  ): Promise<readonly AudioAnswer[]>;
  dispose?(): Promise<void>;
}

export interface AudioClassifierModelOptions {
  /** Names the model in the cache key and the budget: include what changes its answers (a LoRA adapter). */
  modelId: string;
  /** The label set of generated answers (scoring requests bring theirs as `choices`). */
  labels: readonly string[];
  provider?: string;
}

const NO_USAGE: Usage = { promptTokens: 0, completionTokens: 0 };

const normalized = (text: string) =>
  text
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '');

/** The label an answer names: the whole answer, or its start (longest label first: NON-SPEECH before SPEECH). */
export function answerLabel(answer: string, labels: readonly string[]): string | null {
  const text = normalized(answer);
  const byLength = [...labels].sort((a, b) => normalized(b).length - normalized(a).length);
  return (
    byLength.find((label) => text === normalized(label)) ??
    byLength.find((label) => text.startsWith(normalized(label))) ??
    null
  );
}

/** The text, label and usage of an answer; a plain-text answer means the label it names. */
function readAnswer(answer: AudioAnswer, labels: readonly string[]) {
  if (typeof answer === 'string') return { text: answer, label: answerLabel(answer, labels), usage: NO_USAGE };
  return { text: answer.text, label: answer.label, usage: answer.usage ?? NO_USAGE };
}

/** The prompt and clip of a request; anything else is not a question this model can answer. */
function clipRequest(request: { messages: readonly GenerateRequest['messages'][number][] }, modelId: string) {
  const [message, ...rest] = request.messages;
  if (!message || rest.length > 0 || message.role !== 'user' || message.audio === undefined) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${modelId} answers one user message carrying one clip (content: the prompt, audio: the samples)`,
    );
  }
  return { prompt: message.content, clip: message.audio };
}

/** Consecutive runs of requests that share a key, as index lists. */
function runsOf<T>(items: readonly T[], keyOf: (item: T) => string): number[][] {
  const runs: number[][] = [];
  items.forEach((item, index) => {
    const last = runs[runs.length - 1];
    if (last !== undefined && keyOf(items[last[0] as number] as T) === keyOf(item)) last.push(index);
    else runs.push([index]);
  });
  return runs;
}

/**
 * A scored answer as choice scores: the answer's label gets probability 1 (the classifier reports which label won,
 * not its distribution); `best` is '' when the answer names no label.
 */
function toScoreResult(choices: string[], label: string | null, usage: Usage, modelId: string): ScoreChoicesResult {
  const scores: ChoiceScore[] = choices.map((choice) => ({
    choice,
    logprob: choice === label ? 0 : -Infinity,
    probability: choice === label ? 1 : 0,
    tokenCount: 1,
  }));
  return { scores, best: label ?? '', usage, modelId };
}

class AudioClassifierModel implements LanguageModel {
  readonly specificationVersion = LANGUAGE_MODEL_SPEC_VERSION;
  readonly provider: string;
  readonly modelId: string;

  constructor(
    private readonly classifier: AudioClassifier,
    private readonly options: AudioClassifierModelOptions,
  ) {
    this.provider = options.provider ?? 'native-audio';
    this.modelId = options.modelId;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const [result] = await this.generateBatch([request]);
    return result as GenerateResult;
  }

  stream(request: GenerateRequest) {
    return createModelStream(async (emit) => {
      const result = await this.generate(request);
      emit(result.text);
      return result;
    });
  }

  async generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]> {
    const results: GenerateResult[] = [];
    for (const run of runsOf(
      requests,
      (request) => `${request.maxTokens ?? ''}|${clipRequest(request, this.modelId).prompt}`,
    )) {
      const first = requests[run[0] as number] as GenerateRequest;
      const answers = await this.classify(
        run.map((index) => requests[index] as GenerateRequest),
        'generate',
        {
          labels: this.options.labels,
          maxNewTokens: first.maxTokens,
        },
      );
      for (const answer of answers) {
        const { text, usage } = readAnswer(answer, this.options.labels);
        results.push({ text, usage, finishReason: 'stop', modelId: this.modelId });
      }
    }
    return results;
  }

  async scoreChoices(request: ScoreChoicesRequest): Promise<ScoreChoicesResult> {
    const [result] = await this.scoreChoicesBatch([request]);
    return result as ScoreChoicesResult;
  }

  async scoreChoicesBatch(requests: ScoreChoicesRequest[]): Promise<ScoreChoicesResult[]> {
    const results: ScoreChoicesResult[] = [];
    const keyOf = (request: ScoreChoicesRequest) =>
      JSON.stringify([request.choices, clipRequest(request, this.modelId).prompt]);
    for (const run of runsOf(requests, keyOf)) {
      const choices = (requests[run[0] as number] as ScoreChoicesRequest).choices;
      const answers = await this.classify(
        run.map((index) => requests[index] as ScoreChoicesRequest),
        'score',
        {
          labels: choices,
        },
      );
      for (const answer of answers) {
        const { label, usage } = readAnswer(answer, choices);
        results.push(toScoreResult(choices, label, usage, this.modelId));
      }
    }
    return results;
  }

  async dispose(): Promise<void> {
    await this.classifier.dispose?.();
  }

  /** One classify call for requests that share a prompt; one answer per clip, checked. */
  private async classify(
    requests: readonly (GenerateRequest | ScoreChoicesRequest)[],
    mode: 'generate' | 'score',
    options: { labels: readonly string[]; maxNewTokens?: number },
  ): Promise<readonly AudioAnswer[]> {
    const asked = requests.map((request) => clipRequest(request, this.modelId));
    const prompt = (asked[0] as { prompt: string }).prompt;
    const signal = requests[0]?.signal;
    const answers = await this.classifier.classify(
      asked.map((request) => request.clip),
      prompt,
      { ...options, mode, signal },
    );
    if (answers.length !== asked.length) {
      throw new OptNativeError('E_INTERNAL', `classify returned ${answers.length} answers for ${asked.length} clips`);
    }
    return answers;
  }
}

/** `classifier` as a LanguageModel that hears the clip of each request's message (see the file comment). */
export function audioClassifierModel(classifier: AudioClassifier, options: AudioClassifierModelOptions): LanguageModel {
  return new AudioClassifierModel(classifier, options);
}
