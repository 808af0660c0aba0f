// An audio classifier (the native Qwen2-Audio model, or a scripted one in tests) as a LanguageModel, so that audio
// evaluations go through the same middleware as text ones: the optimizers' usage meter and budget, the response
// cache, low-memory residency. A request is one user message whose content is the prompt and whose `audio` is the
// clip; runs of requests with the same prompt become one classify call.
import { OptNativeError } from '../errors.js';
import { createModelStream } from '../llm/stream-result.js';
import {
  LANGUAGE_MODEL_SPEC_VERSION,
  type ChatMessage,
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
function clipRequest(request: { messages: readonly ChatMessage[] }, modelId: string) {
  const [message, ...rest] = request.messages;
  if (!message || rest.length > 0 || message.role !== 'user' || message.audio === undefined) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${modelId} answers one user message carrying one clip (content: the prompt, audio: the samples)`,
    );
  }
  return { prompt: message.content, clip: message.audio };
}

/** The items cut into runs of consecutive items that share a key, in order. */
function runsOf<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const runs: { key: string; items: T[] }[] = [];
  for (const item of items) {
    const key = keyOf(item);
    const last = runs[runs.length - 1];
    if (last?.key === key) last.items.push(item);
    else runs.push({ key, items: [item] });
  }
  return runs.map((run) => run.items);
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
    const { labels } = this.options;
    const sameCall = (request: GenerateRequest) => JSON.stringify([request.maxTokens ?? null, this.promptOf(request)]);
    return this.inRuns(requests, sameCall, async (run) => {
      const answers = await this.classify(run, 'generate', { labels, maxNewTokens: run[0]?.maxTokens });
      return answers.map((answer) => {
        const { text, usage } = readAnswer(answer, labels);
        return { text, usage, finishReason: 'stop' as const, modelId: this.modelId };
      });
    });
  }

  async scoreChoices(request: ScoreChoicesRequest): Promise<ScoreChoicesResult> {
    const [result] = await this.scoreChoicesBatch([request]);
    return result as ScoreChoicesResult;
  }

  async scoreChoicesBatch(requests: ScoreChoicesRequest[]): Promise<ScoreChoicesResult[]> {
    const sameCall = (request: ScoreChoicesRequest) => JSON.stringify([request.choices, this.promptOf(request)]);
    return this.inRuns(requests, sameCall, async (run) => {
      const choices = (run[0] as ScoreChoicesRequest).choices;
      const answers = await this.classify(run, 'score', { labels: choices });
      return answers.map((answer) => {
        const { label, usage } = readAnswer(answer, choices);
        return toScoreResult(choices, label, usage, this.modelId);
      });
    });
  }

  async dispose(): Promise<void> {
    await this.classifier.dispose?.();
  }

  private promptOf(request: GenerateRequest | ScoreChoicesRequest): string {
    return clipRequest(request, this.modelId).prompt;
  }

  /** Answers each run of consecutive requests that `sameCall` keys alike with one call; results in request order. */
  private async inRuns<Request, Result>(
    requests: readonly Request[],
    sameCall: (request: Request) => string,
    answer: (run: Request[]) => Promise<Result[]>,
  ): Promise<Result[]> {
    const results: Result[] = [];
    for (const run of runsOf(requests, sameCall)) results.push(...(await answer(run)));
    return results;
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
