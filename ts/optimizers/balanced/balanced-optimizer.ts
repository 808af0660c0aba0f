import type { TextTask } from '../../tasks/types.js';
import {
  freezeDeep,
  type OptimizationHistoryEntry,
  type OptimizationResult,
  type OptimizeInput,
  type Optimizer,
} from '../contract.js';
import { optimizeBalanced, type BalancedOptions } from './optimizer.js';
import type { BalancedRunResult, EpochRecord } from './results.js';
import { balancedRequiredWords, type BalancedTask } from './task.js';

/** The balanced optimizer's own settings; data, models, seed, budget and signal come with each `optimize` call. */
export type BalancedConfig = Omit<
  BalancedOptions,
  'task' | 'model' | 'optimizerModel' | 'seed' | 'signal' | 'onProgress' | 'budget' | 'runDir'
>;

/** The shared result, plus the full per-epoch record that the report reads. */
export interface BalancedOptimizationResult extends OptimizationResult {
  readonly run: BalancedRunResult;
}

/** A candidate's score: its evaluation when kept, its validation accuracy when reverted, null when none was made. */
function historyEntry(epoch: EpochRecord): OptimizationHistoryEntry {
  const entry = {
    iteration: epoch.epoch,
    prompt: epoch.candidatePrompt ?? epoch.promptBefore,
    score:
      epoch.candidatePrompt === null
        ? null
        : epoch.reverted
          ? (epoch.validation?.candidate.accuracy ?? null)
          : epoch.evaluation.accuracy,
  };
  return epoch.revertReason === null ? entry : { ...entry, rejectionReason: epoch.revertReason };
}

/**
 * The balanced optimizer behind the shared contract (ts/optimizers/contract.ts). The valset serves both as the
 * per-epoch evaluation sample and as the validation split of `runValidation`; the trainset feeds the batches.
 */
export class BalancedOptimizer implements Optimizer<BalancedConfig, TextTask> {
  readonly name = 'balanced';
  readonly config: Readonly<BalancedConfig>;

  constructor(config: BalancedConfig) {
    this.config = config;
  }

  async optimize(input: OptimizeInput<TextTask>): Promise<BalancedOptimizationResult> {
    const task: BalancedTask = {
      name: input.task.name,
      train: input.trainset,
      validation: input.valset,
      test: input.valset,
      metric: (reply, example) => input.metric(input.task.extractAnswer(reply), example),
      maxAnswerTokens: input.task.maxAnswerTokens,
      requiredWords: balancedRequiredWords(input.task),
    };
    const maxEpochs = this.config.maxEpochs;
    const run = await optimizeBalanced({
      ...this.config,
      task,
      model: input.model,
      optimizerModel: input.optimizerModel,
      seed: input.seed,
      signal: input.signal,
      budget: input.budget,
      runDir: input.runDir,
      onProgress: (progress) => {
        input.runDir?.appendEvent({ type: 'balanced_epoch', ...progress });
        const update = {
          optimizer: 'balanced',
          kind: 'iteration' as const,
          iteration: progress.epoch,
          totalIterations: maxEpochs ?? progress.maxEpochs,
          bestScore: progress.evaluation.accuracy,
          message: `focus ${progress.focus}${progress.reverted ? ', candidate reverted' : ''}`,
        };
        input.onProgress?.(update);
      },
    });
    const { total } = run.usage;
    return freezeDeep({
      bestPrompt: run.finalPrompt,
      score: run.final.accuracy,
      history: [
        { iteration: 0, prompt: run.initialPrompt, score: run.initial.accuracy },
        ...run.epochs.map(historyEntry),
      ],
      usage: {
        calls: total.calls,
        promptTokens: total.promptTokens,
        completionTokens: total.completionTokens,
        cost: total.cost,
        cacheHits: total.cacheHits,
      },
      wallTime: run.wallTimeMs,
      // The shared contract has no plain 'error': a model that keeps failing is what its circuit breaker reports.
      stopReason: run.stopReason === 'error' ? 'circuit_open' : run.stopReason,
      run,
    });
  }
}
