import type { Example } from '../datasets/types.js';
import { OptNativeError } from '../errors.js';
import { ProviderError } from '../llm/provider-error.js';
import { errorMessage, redactSecrets } from '../secrets.js';
import type { GenerateResult, LanguageModel, ScoreChoicesRequest, ScoreChoicesResult, Usage } from '../llm/types.js';
import {
  CONTENT_FREE_INPUTS,
  argmax,
  calibratedDistribution,
  meanDistribution,
  type CalibrationMode,
} from './calibration.js';
import { accuracy, balancedAccuracy } from './metrics.js';
import type { TextTask } from './types.js';

export type EvalMode = 'generate' | 'score';

export interface Prediction {
  readonly id: string;
  readonly raw: string;
  readonly answer: string | null;
  readonly target: string;
  readonly correct: boolean;
  readonly score: number;
  readonly error?: string;
}

export interface EvaluationUsage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  cacheHits: number;
}

export interface EvaluationReport {
  /** The task score: balanced accuracy for word-label classification, accuracy otherwise. */
  readonly score: number;
  readonly accuracy: number;
  readonly balancedAccuracy: number;
  readonly examples: number;
  readonly failures: number;
  readonly predictions: readonly Prediction[];
  readonly usage: EvaluationUsage;
}

export interface EvaluateTextPromptInput {
  task: TextTask;
  examples: readonly Example[];
  model: LanguageModel;
  instruction: string;
  mode?: EvalMode;
  /** Requests sent together through generateBatch / scoreChoicesBatch (a native backend batches them). */
  batchSize?: number;
  /** Score mode only: overrides the task's calibration (a content-free prior under the same instruction). */
  calibration?: CalibrationMode;
  signal?: AbortSignal;
}

/**
 * Errors that must stop an evaluation instead of counting as one failed example: stops, and a provider that is down
 * (a failure another try may not have, or an open breaker). An outage is not a wrong answer: the evaluation fails, so
 * the optimizer records nothing for it and a resumed run asks again instead of replaying a score with holes.
 */
function isFatal(error: unknown): boolean {
  if (error instanceof ProviderError) return error.retryable;
  return error instanceof OptNativeError && ['E_ABORTED', 'E_BUDGET', 'E_CIRCUIT_OPEN'].includes(error.code);
}

function emptyUsage(): EvaluationUsage {
  return { calls: 0, promptTokens: 0, completionTokens: 0, cacheHits: 0 };
}

function addUsage(total: EvaluationUsage, usage: Usage, cached: boolean | undefined): void {
  total.calls += 1;
  total.promptTokens += usage.promptTokens;
  total.completionTokens += usage.completionTokens;
  if (cached) total.cacheHits += 1;
}

type Reply = { text: string } | { error: string };

async function generateReplies(input: EvaluateTextPromptInput, usage: EvaluationUsage): Promise<Reply[]> {
  const { task, model, instruction, signal } = input;
  const requests = input.examples.map((example) => ({
    messages: task.formatMessages(instruction, example),
    temperature: 0,
    maxTokens: task.maxAnswerTokens,
    signal,
  }));
  const replies: Reply[] = [];
  const batchSize = Math.max(1, input.batchSize ?? 8);
  for (let start = 0; start < requests.length; start += batchSize) {
    const chunk = requests.slice(start, start + batchSize);
    let results: (GenerateResult | { error: string })[];
    try {
      results = await model.generateBatch(chunk);
    } catch (error) {
      if (isFatal(error)) throw error;
      // One bad request fails a whole batch: retry one by one so the others still count.
      results = [];
      for (const request of chunk) {
        try {
          results.push(await model.generate(request));
        } catch (single) {
          if (isFatal(single)) throw single;
          results.push({ error: errorMessage(single) });
        }
      }
    }
    for (const result of results) {
      if ('usage' in result) addUsage(usage, result.usage, result.cached);
      replies.push('error' in result ? { error: redactSecrets(result.error) } : { text: result.text });
    }
  }
  return replies;
}

function noScorer(model: LanguageModel): OptNativeError {
  return new OptNativeError(
    'E_BAD_INPUT',
    `--eval-mode score needs a model that scores choices; ${model.provider} does not`,
  );
}

/** Refuses a model that cannot score choices or a task without a label set, before any call. */
function assertScorable(model: LanguageModel, task: TextTask): void {
  if (!model.scoreChoices) throw noScorer(model);
  if (!task.labels || task.labels.length === 0) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `--eval-mode score needs a classification task; ${task.name} has no label set`,
    );
  }
}

type Scored = { logprobs: number[] } | { error: string };

/** Scores requests in chunks through `scoreChoicesBatch` when offered, one by one otherwise (or when a batch fails). */
async function scoreRequests(
  model: LanguageModel,
  requests: readonly ScoreChoicesRequest[],
  batchSize: number,
  usage: EvaluationUsage,
): Promise<Scored[]> {
  const scoreOne = model.scoreChoices?.bind(model);
  if (!scoreOne) throw noScorer(model);
  const scored: Scored[] = [];
  const record = (result: ScoreChoicesResult): Scored => {
    addUsage(usage, result.usage, result.cached);
    return { logprobs: result.scores.map((score) => score.logprob) };
  };
  for (let start = 0; start < requests.length; start += batchSize) {
    const chunk = requests.slice(start, start + batchSize);
    if (model.scoreChoicesBatch && chunk.length > 1) {
      try {
        scored.push(...(await model.scoreChoicesBatch([...chunk])).map(record));
        continue;
      } catch (error) {
        if (isFatal(error)) throw error;
      }
    }
    for (const request of chunk) {
      try {
        scored.push(record(await scoreOne(request)));
      } catch (error) {
        if (isFatal(error)) throw error;
        scored.push({ error: errorMessage(error) });
      }
    }
  }
  return scored;
}

/** The content-free label prior under this instruction (contextual calibration). */
async function calibrationPrior(input: EvaluateTextPromptInput, usage: EvaluationUsage): Promise<number[]> {
  const { task, instruction, signal } = input;
  const choices = [...(task.labels ?? [])];
  const requests = CONTENT_FREE_INPUTS.map((content, index) => ({
    messages: task.formatMessages(instruction, { id: `content-free-${index}`, input: content, target: '' }),
    choices,
    signal,
  }));
  const scored = await scoreRequests(input.model, requests, requests.length, usage);
  const failed = scored.find((entry) => 'error' in entry);
  if (failed && 'error' in failed) {
    throw new OptNativeError('E_PROVIDER', `contextual calibration failed: ${failed.error}`);
  }
  return meanDistribution(scored.map((entry) => ('logprobs' in entry ? entry.logprobs : [])));
}

/** The batch prior: the mean label distribution over the examples that scored. */
function batchPrior(scored: readonly Scored[]): number[] | undefined {
  const rows = scored.flatMap((entry) => ('logprobs' in entry ? [entry.logprobs] : []));
  return rows.length > 0 ? meanDistribution(rows) : undefined;
}

async function scoreReplies(input: EvaluateTextPromptInput, usage: EvaluationUsage): Promise<Reply[]> {
  const { task, instruction, signal } = input;
  assertScorable(input.model, task);
  const labels = [...(task.labels ?? [])];
  const calibration = input.calibration ?? task.scoreCalibration;
  const contextual = calibration === 'contextual' ? await calibrationPrior(input, usage) : undefined;
  const requests = input.examples.map((example) => ({
    messages: task.formatMessages(instruction, example),
    choices: labels,
    signal,
  }));
  const scored = await scoreRequests(input.model, requests, Math.max(1, input.batchSize ?? 8), usage);
  const prior = calibration === 'batch' ? batchPrior(scored) : contextual;
  return scored.map((entry, index) => {
    if ('error' in entry) return entry;
    const distribution = prior ? calibratedDistribution(entry.logprobs, prior) : entry.logprobs;
    return { text: labels[argmax(distribution, offeredIndices(task, labels, input.examples[index]))] ?? '' };
  });
}

/** The label indices an example offers (a multiple-choice question lists its own options); undefined: all. */
function offeredIndices(task: TextTask, labels: readonly string[], example: Example | undefined): number[] | undefined {
  const offered = example && task.choicesOf?.(example);
  if (!offered) return undefined;
  return labels.flatMap((label, index) => (offered.includes(label) ? [index] : []));
}

/**
 * Runs one instruction over examples and scores the answers. A failing example counts as wrong; when more than half
 * fail the evaluation itself fails (E_PROVIDER), so that an optimizer's circuit breaker sees a broken model. A
 * provider outage (see `isFatal`) fails it at once.
 */
export async function evaluateTextPrompt(input: EvaluateTextPromptInput): Promise<EvaluationReport> {
  if (input.examples.length === 0) throw new OptNativeError('E_EMPTY_TABLE', 'no examples to evaluate on');
  const usage = emptyUsage();
  const replies = input.mode === 'score' ? await scoreReplies(input, usage) : await generateReplies(input, usage);
  const predictions: Prediction[] = input.examples.map((example, index) => {
    const reply = replies[index] ?? { error: 'no reply' };
    if ('error' in reply) {
      return {
        id: example.id,
        raw: '',
        answer: null,
        target: example.target,
        correct: false,
        score: 0,
        error: reply.error,
      };
    }
    const answer = input.task.extractAnswer(reply.text);
    const { score } = input.task.metric(answer, example);
    return { id: example.id, raw: reply.text, answer, target: example.target, correct: score >= 1, score };
  });
  const failed = predictions.filter((prediction) => prediction.error !== undefined);
  if (failed.length * 2 > predictions.length) {
    throw new OptNativeError(
      'E_PROVIDER',
      `evaluation failed on ${failed.length} of ${predictions.length} examples; first error: ${failed[0]?.error}`,
    );
  }
  const correct = predictions.map((prediction) => prediction.correct);
  const plain = accuracy(correct);
  const balanced = balancedAccuracy(
    predictions.map((prediction) => prediction.target),
    correct,
  );
  return {
    score: input.task.scoreKind === 'balanced_accuracy' ? balanced : plain,
    accuracy: plain,
    balancedAccuracy: balanced,
    examples: predictions.length,
    failures: failed.length,
    predictions,
    usage,
  };
}
