/**
 * The contract every optimizer implements (DSPy's `compile(program, {trainset, valset, metric})`, adapted): one
 * `optimize` call takes the task, the data, the model being prompted and the model writing prompts, and resolves
 * with an immutable, JSON-serializable result.
 *
 * The run infrastructure (ts/run: Budget, RunDirectory) satisfies the small structural interfaces below, so that
 * optimizers depend on behaviour, not on one implementation.
 */
import type { Example } from '../datasets/types.js';
import type { LanguageModel, Usage } from '../llm/types.js';
import type { ExampleMetric } from '../tasks/types.js';

/** The least an optimizer needs to know of a task; text tasks (ts/tasks) and audio tasks extend it. */
export interface OptimizationTask {
  readonly name: string;
  /** One or two sentences that the optimizer model reads. */
  readonly description: string;
}

/** Spending limits and accounting shared by all model calls of a run (ts/run/budget.ts `Budget`). */
export interface OptimizationBudget {
  /** Throws E_BUDGET when a limit is reached. */
  check(): void;
  /** Records one finished call; returns its dollar cost. */
  record(call: { modelId: string; usage: Usage; cached?: boolean }): number;
}

/** Durable memo of a run's steps (ts/run/run-directory.ts `RunDirectory`): what is recorded is replayed on resume. */
export interface OptimizationRunDirectory {
  readonly dir: string;
  runStep<T>(key: string, fn: () => Promise<T>): Promise<T>;
  appendEvent(event: { type: string; [field: string]: unknown }): void;
}

export interface OptimizationProgress {
  readonly optimizer: string;
  /** `iteration` once per finished iteration (progress bars tick on it); `step` for finer news; `stop` at the end. */
  readonly kind: 'step' | 'iteration' | 'stop';
  readonly iteration: number;
  readonly totalIterations: number;
  readonly bestScore: number;
  readonly message: string;
}

export interface OptimizeInput<TTask extends OptimizationTask = OptimizationTask, TExample = Example> {
  readonly task: TTask;
  /** Examples the optimizer may show the optimizer model (exemplars, error analysis). */
  readonly trainset: readonly TExample[];
  /** Examples candidates are scored on. */
  readonly valset: readonly TExample[];
  /** The model being prompted. */
  readonly model: LanguageModel;
  /** The model writing prompts. */
  readonly optimizerModel: LanguageModel;
  readonly metric: ExampleMetric;
  readonly budget?: OptimizationBudget;
  readonly runDir?: OptimizationRunDirectory;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: OptimizationProgress) => void;
}

export interface OptimizationUsage {
  readonly calls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Dollars, where the providers price their calls; 0 for local models. */
  readonly cost: number;
  readonly cacheHits: number;
}

/** One candidate the optimizer considered, accepted or not. */
export interface OptimizationHistoryEntry {
  readonly iteration: number;
  readonly prompt: string;
  /** The optimizer's objective for this candidate (OPRO: the reward); null when it was never evaluated. */
  readonly score: number | null;
  /** Why the candidate was not evaluated (sanitization, duplicate, evaluation failure). */
  readonly rejectionReason?: string;
}

/** The optimizer model's own candidates (iterations 1..) and how many were worth an evaluation. */
export interface UsableCandidates {
  readonly proposed: number;
  readonly usable: number;
  /** usable / proposed; null when the optimizer proposed nothing. */
  readonly share: number | null;
}

/**
 * Usable candidates from any optimizer's history. Iteration 0 holds the baseline and seed prompts, which are not the
 * optimizer's. A candidate is usable when it got a score (a minibatch score counts) or was never refused; one refused
 * with no score (copied an exemplar, too long, a duplicate, a failed evaluation) is not.
 */
export function usableCandidates(history: readonly OptimizationHistoryEntry[]): UsableCandidates {
  const proposed = history.filter((entry) => entry.iteration > 0);
  const usable = proposed.filter((entry) => entry.score !== null || entry.rejectionReason === undefined).length;
  return { proposed: proposed.length, usable, share: proposed.length === 0 ? null : usable / proposed.length };
}

/** Why an optimization ended. */
export type StopReason = 'completed' | 'early_stopping' | 'circuit_open' | 'budget' | 'aborted';

export interface OptimizationResult {
  readonly bestPrompt: string;
  /** Score of the best prompt on the valset, in the optimizer's objective. */
  readonly score: number;
  readonly history: readonly OptimizationHistoryEntry[];
  readonly usage: OptimizationUsage;
  /** Milliseconds from the start of `optimize` to its end (summed over resumed sessions). */
  readonly wallTime: number;
  readonly stopReason: StopReason;
}

export interface Optimizer<Config, TTask extends OptimizationTask = OptimizationTask, TExample = Example> {
  readonly name: string;
  readonly config: Readonly<Config>;
  optimize(input: OptimizeInput<TTask, TExample>): Promise<OptimizationResult>;
}

export const EMPTY_USAGE: OptimizationUsage = Object.freeze({
  calls: 0,
  promptTokens: 0,
  completionTokens: 0,
  cost: 0,
  cacheHits: 0,
});

/** Sums usage records. */
export function addUsage(a: OptimizationUsage, b: OptimizationUsage): OptimizationUsage {
  return {
    calls: a.calls + b.calls,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    cost: a.cost + b.cost,
    cacheHits: a.cacheHits + b.cacheHits,
  };
}

/** Usage between an earlier total and a later one. */
export function subtractUsage(later: OptimizationUsage, earlier: OptimizationUsage): OptimizationUsage {
  return {
    calls: later.calls - earlier.calls,
    promptTokens: later.promptTokens - earlier.promptTokens,
    completionTokens: later.completionTokens - earlier.completionTokens,
    cost: later.cost - earlier.cost,
    cacheHits: later.cacheHits - earlier.cacheHits,
  };
}

/** Freezes a result deeply, so callers cannot mutate what an optimizer returned. */
export function freezeDeep<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) freezeDeep(child);
  }
  return value;
}
