import pLimit from 'p-limit';
import type { Example } from '../../datasets/types.js';
import type { GenerateRequest, LanguageModel } from '../../llm/types.js';
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

/** Accuracy and mean completion tokens of `prompt` over `examples` (0 and 0 for an empty set). */
export function summarizeOutcomes(outcomes: readonly ExampleOutcome[]): EvaluationSummary {
  const examples = outcomes.length;
  if (examples === 0) return { accuracy: 0, meanCompletionTokens: 0, examples };
  const correct = outcomes.filter((outcome) => outcome.correct).length;
  const tokens = outcomes.reduce((sum, outcome) => sum + outcome.completionTokens, 0);
  return { accuracy: correct / examples, meanCompletionTokens: tokens / examples, examples };
}

export async function evaluatePrompt(
  context: EvaluationContext,
  prompt: string,
  examples: readonly Example[],
): Promise<Evaluation> {
  const outcomes = await Promise.all(
    examples.map((example) => context.limit(() => answerOne(context, prompt, example))),
  );
  return { ...summarizeOutcomes(outcomes), outcomes };
}

/** Drops the per-example outcomes: what the results file keeps for each epoch. */
export function summaryOf(evaluation: EvaluationSummary): EvaluationSummary {
  return {
    accuracy: evaluation.accuracy,
    meanCompletionTokens: evaluation.meanCompletionTokens,
    examples: evaluation.examples,
  };
}
