import pLimit from 'p-limit';
import type { Example } from '../../datasets/types.js';
import { OptNativeError } from '../../errors.js';
import { errorMessage } from '../../secrets.js';
import type { GenerateRequest, LanguageModel } from '../../llm/types.js';
import { accuracy } from '../../tasks/metrics.js';
import { isStopError } from '../engine/steps.js';
import type { EvaluationSummary } from './revert.js';
import type { ReplyMetric } from './task.js';
import type { CallMeter } from './usage.js';

/** One example answered under a prompt, as the metric judged it. */
export interface ExampleOutcome {
  readonly exampleId: string;
  readonly input: string;
  readonly target: string;
  readonly response: string;
  readonly correct: boolean;
  readonly completionTokens: number;
  readonly metricFeedback?: string;
  /** Why the model gave no answer (the example then counts as wrong and is left out of the token mean). */
  readonly error?: string;
}

export interface Evaluation extends EvaluationSummary {
  readonly outcomes: readonly ExampleOutcome[];
}

export interface EvaluationContext {
  readonly model: LanguageModel;
  readonly metric: ReplyMetric;
  /** At most this many requests in flight at once (the CLI's --num-threads). */
  readonly limit: ReturnType<typeof pLimit>;
  /** Sampling settings for the prompted model; greedy by default so evaluations repeat. */
  readonly sampling: Omit<GenerateRequest, 'messages' | 'signal'>;
  readonly meter: CallMeter;
  readonly signal?: AbortSignal;
}

/** The prompt under test is the system message; the example's input is the user message. */
export function taskMessages(prompt: string, example: Example): GenerateRequest['messages'] {
  return [
    { role: 'system', content: prompt },
    { role: 'user', content: example.input },
  ];
}

async function answerOrFailure(context: EvaluationContext, prompt: string, example: Example): Promise<ExampleOutcome> {
  try {
    return await answerOne(context, prompt, example);
  } catch (error) {
    // Aborts and exhausted budgets stop the run instead of counting as one wrong answer.
    if (isStopError(error)) throw error;
    return {
      exampleId: example.id,
      input: example.input,
      target: example.target,
      response: '',
      correct: false,
      completionTokens: 0,
      error: errorMessage(error),
    };
  }
}

async function answerOne(context: EvaluationContext, prompt: string, example: Example): Promise<ExampleOutcome> {
  context.meter.beforeCall();
  const result = await context.model.generate({
    ...context.sampling,
    messages: taskMessages(prompt, example),
    signal: context.signal,
  });
  context.meter.afterCall(result);
  const judged = context.metric(result.text, example);
  return {
    exampleId: example.id,
    input: example.input,
    target: example.target,
    response: result.text,
    correct: judged.score >= 1,
    completionTokens: result.usage.completionTokens,
    ...(judged.feedback === undefined ? {} : { metricFeedback: judged.feedback }),
  };
}

/**
 * Accuracy over all examples (a failed call counts as wrong) and mean completion tokens over the answered ones
 * (0 when none was answered). `failures` appears only when some calls failed.
 */
export function summarizeOutcomes(outcomes: readonly ExampleOutcome[]): EvaluationSummary {
  const examples = outcomes.length;
  const answered = outcomes.filter((outcome) => outcome.error === undefined);
  const failures = examples - answered.length;
  const tokens = answered.reduce((sum, outcome) => sum + outcome.completionTokens, 0);
  return {
    accuracy: accuracy(outcomes.map((outcome) => outcome.correct)),
    meanCompletionTokens: answered.length === 0 ? 0 : tokens / answered.length,
    examples,
    ...(failures > 0 ? { failures } : {}),
  };
}

export async function evaluatePrompt(
  context: EvaluationContext,
  prompt: string,
  examples: readonly Example[],
): Promise<Evaluation> {
  const outcomes = await Promise.all(
    examples.map((example) => context.limit(() => answerOrFailure(context, prompt, example))),
  );
  const failed = outcomes.filter((outcome) => outcome.error !== undefined);
  // More than half failing is a broken model, not a bad prompt: stop instead of optimizing on noise.
  if (failed.length * 2 > outcomes.length) {
    throw new OptNativeError(
      'E_PROVIDER',
      `the prompted model failed on ${failed.length} of ${outcomes.length} examples; first error: ${failed[0]?.error}`,
    );
  }
  return { ...summarizeOutcomes(outcomes), outcomes };
}

/** Drops the per-example outcomes: what the results file keeps for each epoch. */
export function summaryOf(evaluation: EvaluationSummary): EvaluationSummary {
  return {
    accuracy: evaluation.accuracy,
    meanCompletionTokens: evaluation.meanCompletionTokens,
    examples: evaluation.examples,
    ...(evaluation.failures === undefined ? {} : { failures: evaluation.failures }),
  };
}
