// The seam between an optimizer and what it optimizes for: a prompt in, the reward terms out. Text tasks score
// prompts with `textPromptEvaluator`; audio manifests with ts/audio/evaluator.ts. Both go through a LanguageModel,
// so the optimizers' meter and budget count every call.
import type { Example } from '../datasets/types.js';
import type { LanguageModel } from '../llm/types.js';
import { evaluateTextPrompt, type EvalMode } from './evaluate.js';
import type { ExampleMetric, TextTask } from './types.js';

/** What OPRO needs from evaluating one prompt: the two reward terms and metrics to record. */
export interface PromptScore {
  /** BA_clip for audio; the task score for text. */
  readonly primary: number;
  /** BA_conditions for audio; null for text tasks. */
  readonly conditions: number | null;
  readonly metrics: Readonly<Record<string, unknown>>;
}

/** Scores one prompt. Must throw on a failed evaluation (the optimizers' circuit breaker counts those). */
export interface PromptEvaluator {
  evaluate(prompt: string, signal?: AbortSignal): Promise<PromptScore>;
}

export interface TextPromptEvaluatorOptions {
  task: TextTask;
  examples: readonly Example[];
  model: LanguageModel;
  metric?: ExampleMetric;
  mode?: EvalMode;
}

/** Scores prompts on text examples: primary = the task score, no condition term. */
export function textPromptEvaluator(options: TextPromptEvaluatorOptions): PromptEvaluator {
  const task = options.metric ? { ...options.task, metric: options.metric } : options.task;
  return {
    async evaluate(prompt, signal) {
      const report = await evaluateTextPrompt({
        task,
        examples: options.examples,
        model: options.model,
        instruction: prompt,
        mode: options.mode,
        signal,
      });
      return {
        primary: report.score,
        conditions: null,
        metrics: {
          score: report.score,
          score_kind: task.scoreKind,
          accuracy: report.accuracy,
          balanced_accuracy: report.balancedAccuracy,
          n_samples: report.examples,
          failures: report.failures,
        },
      };
    },
  };
}
