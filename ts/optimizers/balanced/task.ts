import type { Example } from '../../datasets/types.js';
import type { MetricResult, TextTask } from '../../tasks/types.js';

/** Scores one raw reply of the prompted model: extraction and the task's metric in one step. */
export type ReplyMetric = (reply: string, example: Example) => MetricResult;

/** The task as the balanced optimizer sees it: named splits and the metric that checks replies. */
export interface BalancedTask {
  readonly name: string;
  readonly train: readonly Example[];
  readonly validation: readonly Example[];
  readonly test: readonly Example[];
  readonly metric: ReplyMetric;
  /** Completion cap for the prompted model when the caller sets none. */
  readonly maxAnswerTokens?: number;
  /** Answer words a rewritten prompt must keep (classification tasks); a rewrite that drops one is not adopted. */
  readonly requiredWords?: readonly string[];
}

/** A reply metric from a text task: its answer extraction (GSM8K numbers, BBH letters/labels) and its metric. */
export function replyMetricOf(task: Pick<TextTask, 'extractAnswer' | 'metric'>): ReplyMetric {
  return (reply, example) => task.metric(task.extractAnswer(reply), example);
}

/** Wraps a loaded text task (ts/tasks) for the balanced optimizer. */
export function balancedTaskFromText(task: TextTask): BalancedTask {
  return {
    name: task.name,
    train: task.splits.train,
    validation: task.splits.validation,
    test: task.splits.test,
    metric: replyMetricOf(task),
    maxAnswerTokens: task.maxAnswerTokens,
    requiredWords: balancedRequiredWords(task),
  };
}

/**
 * Balanced prompts carry their own answer format (system message + raw input, no answer line added), so a
 * classification task's answer words stay required of every rewrite.
 */
export function balancedRequiredWords(
  task: Pick<TextTask, 'kind' | 'labels' | 'requiredLabelWords'>,
): readonly string[] {
  return task.kind === 'classification' ? (task.labels ?? []) : task.requiredLabelWords;
}
