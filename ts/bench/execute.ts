/**
 * Runs one benchmark task from its spec: data, models (behind a response cache in the task's checkpoint folder),
 * the optimizer with a resumable run directory, and a final evaluation of the best prompt on the test split (the
 * valset when there is none). The same function serves the local engine and BullMQ workers, so a task killed on
 * one machine resumes from its recorded steps wherever it runs next.
 */
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LanguageModelResolver } from '../llm/resolver.js';
import { OptNativeError } from '../errors.js';
import { wrapLanguageModel } from '../llm/middleware.js';
import { withRunControls } from '../llm/run-controls.js';
import type { LanguageModel } from '../llm/types.js';
import { addUsage, usableCandidates, type OptimizationResult, type OptimizationUsage } from '../optimizers/contract.js';
import { runOptimizationJob } from '../optimizers/engine/job.js';
import { UsageMeter } from '../optimizers/engine/meter.js';
import { promptDigest } from '../optimizers/engine/steps.js';
import { Budget } from '../run/budget.js';
import { ResponseCache } from '../run/cache.js';
import { RunDirectory } from '../run/run-directory.js';
import { pairedBootstrap, splitScoreOf, type ScoredOutcomes } from '../tasks/bootstrap.js';
import { evaluateTextPrompt, type EvalMode } from '../tasks/evaluate.js';
import { loadBenchTaskData, metricByName, type BenchTaskData } from './data.js';
import { modelParametersMiddleware } from './model-parameters.js';
import { createOptimizer, evaluationTaskOf, initialInstruction, optimizerConfigOf } from './optimizers.js';
import type { BenchTaskResult, BenchTaskSpec, FinalEvaluation, HeldoutComparison } from './types.js';

export interface ExecuteOptions {
  /** Root of checkpoints: the task's run directory is `<checkpointDir>/<runId>/<taskId>`. */
  readonly checkpointDir: string;
  readonly runId: string;
  readonly signal?: AbortSignal;
  /** Shared by the tasks of one process, so that a native model loads once. */
  readonly resolver?: LanguageModelResolver;
}

export function taskCheckpointDir(checkpointDir: string, runId: string, taskId: string): string {
  return join(checkpointDir, runId, taskId);
}

/**
 * One response cache for all the tasks of a run, behind each task's own: every optimizer of a dataset starts from
 * the same baseline prompt, so its validation and held-out evaluations are paid once per run, not once per task.
 */
export function sharedCachePath(checkpointDir: string, runId: string): string {
  return join(checkpointDir, runId, 'shared-cache.sqlite');
}

function openSharedCache(checkpointDir: string, runId: string): ResponseCache | undefined {
  try {
    mkdirSync(join(checkpointDir, runId), { recursive: true });
    return new ResponseCache(sharedCachePath(checkpointDir, runId));
  } catch {
    return undefined; // an optimization only: the task's own cache still keeps every response
  }
}

/**
 * Keeps a copy of a failed attempt's checkpoint (`<task>.failed-<time>`) for inspection. The checkpoint itself stays:
 * failed steps are never recorded, so the next attempt retries only what failed and replays every success instead of
 * paying the whole task again.
 */
export function keepFailedAttemptCopy(checkpointDir: string, runId: string, taskId: string): void {
  const dir = taskCheckpointDir(checkpointDir, runId, taskId);
  if (existsSync(dir)) cpSync(dir, `${dir}.failed-${Date.now()}`, { recursive: true });
}

interface FinalStep {
  final: FinalEvaluation;
  usage: OptimizationUsage;
  wallMs?: number;
  /** Per-example outcomes on the held-out split, for the paired bootstrap (absent from steps recorded before). */
  outcomes?: ScoredOutcomes;
}

async function finalEvaluation(
  spec: BenchTaskSpec,
  data: BenchTaskData,
  model: LanguageModel,
  prompt: string,
  runDir: RunDirectory,
  mode: EvalMode,
): Promise<FinalStep> {
  const split = data.testset.length > 0 ? 'test' : 'validation';
  const examples = split === 'test' ? data.testset : data.valset;
  const meter = new UsageMeter(new Budget());
  return runDir.runStep(`bench/final/${split}/${mode}/${promptDigest(prompt)}`, async () => {
    const started = Date.now();
    const report = await evaluateTextPrompt({
      task: data.task,
      examples,
      model: meter.wrap(model),
      instruction: prompt,
      mode,
    });
    const names = spec.metrics.length > 0 ? spec.metrics : [data.task.metricName];
    const metrics: Record<string, number> = {};
    for (const name of names) {
      const metric = metricByName(name);
      const total = report.predictions.reduce(
        (sum, prediction, index) => sum + metric(prediction.answer, examples[index]!).score,
        0,
      );
      metrics[name] = total / report.predictions.length;
    }
    const final: FinalEvaluation = { split, examples: report.examples, score: report.score, metrics };
    const outcomes = {
      targets: report.predictions.map((prediction) => prediction.target),
      correct: report.predictions.map((prediction) => prediction.correct),
    };
    // Recorded with the step, so a resumed task reports the time it took when it ran.
    return { final, usage: meter.snapshot(), wallMs: Date.now() - started, outcomes };
  });
}

/** The baseline prompt and the best one on the same held-out examples, with paired 95 % bootstrap intervals. */
function compareHeldout(
  data: BenchTaskData,
  seed: number,
  baseline: FinalStep,
  best: FinalStep,
): HeldoutComparison | null {
  if (!baseline.outcomes || !best.outcomes) return null;
  const result = pairedBootstrap(baseline.outcomes, best.outcomes, splitScoreOf(data.task), {
    resamples: 2000,
    seed,
  });
  return {
    baseline: result.baseline,
    best: result.candidate,
    gain: result.gain,
    baselineInterval: [result.baselineInterval.low, result.baselineInterval.high],
    bestInterval: [result.candidateInterval.low, result.candidateInterval.high],
    gainInterval: [result.gainInterval.low, result.gainInterval.high],
    resamples: result.resamples,
    confidence: result.confidence,
  };
}

interface HeldoutSteps {
  best: FinalStep;
  baseline: FinalStep | undefined;
  comparison: HeldoutComparison | null;
}

/** The candidate the optimizer scored first: its baseline. */
function firstScored(history: OptimizationResult['history']) {
  return history.find((entry) => entry.score !== null && entry.rejectionReason === undefined);
}

export async function executeBenchTask(spec: BenchTaskSpec, options: ExecuteOptions): Promise<BenchTaskResult> {
  const { config, runner } = optimizerConfigOf(spec.optimizer, spec.optimizerParams, spec.optimizerPromptParams);
  const data = await loadBenchTaskData(spec, runner);
  const resolver = options.resolver ?? new LanguageModelResolver();
  const sharedCache = openSharedCache(options.checkpointDir, options.runId);
  // The held-out split is scored the way the optimizer scored its candidates.
  const mode: EvalMode = config.evalMode === 'score' ? 'score' : 'generate';
  return runOptimizationJob({
    dir: taskCheckpointDir(options.checkpointDir, options.runId, spec.taskId),
    folder: 'open-or-create',
    models: async (cache) => {
      const shared = (resolved: LanguageModel) => withRunControls(resolved, { cache: sharedCache });
      const base = shared(await resolver.resolve(spec.model));
      const model = wrapLanguageModel(
        withRunControls(base, { cache }),
        modelParametersMiddleware(spec.modelParameters),
      );
      const optimizerModel = withRunControls(shared(await resolver.resolve(spec.optimizerModel)), { cache });
      return { model, optimizerModel };
    },
    optimize: async ({ runDir, model, optimizerModel }) => {
      const optimizer = createOptimizer(spec.optimizer, config, {
        initialPrompt: initialInstruction(spec.prompt),
        labels: data.task.labels,
      });
      runDir?.appendEvent({ type: 'bench_task_started', taskId: spec.taskId, pid: process.pid });
      const result = await optimizer.optimize({
        task: data.task,
        trainset: data.trainset,
        valset: data.valset,
        model,
        optimizerModel,
        metric: data.task.metric,
        budget: new Budget(),
        runDir,
        seed: spec.seed,
        signal: options.signal,
      });
      // A stopped optimizer returns its best so far; a benchmark task is not done until it ran to its end.
      if (result.stopReason === 'aborted' || options.signal?.aborted) {
        throw new OptNativeError('E_ABORTED', `${spec.taskId} was interrupted; resume the run to finish it`);
      }
      // Nor when the model kept failing: an optimization cut short by an outage is not a result. The attempt fails
      // (retryable), and the next one replays every recorded success and retries only what failed.
      if (result.stopReason === 'circuit_open') {
        throw new OptNativeError(
          'E_CIRCUIT_OPEN',
          `${spec.taskId}: the optimizer stopped after repeated model failures; the task is retried from its checkpoint`,
        );
      }
      return result;
    },
    heldout: async ({ runDir, model }, result) => {
      const finalData = { ...data, task: evaluationTaskOf(spec.optimizer, config, data.task) };
      const evaluate = (prompt: string) =>
        finalEvaluation(spec, finalData, model, prompt, runDir as RunDirectory, mode);
      const best = await evaluate(result.bestPrompt);
      const baselinePrompt = firstScored(result.history)?.prompt;
      if (baselinePrompt === undefined) return { best, baseline: undefined, comparison: null };
      const baseline = baselinePrompt === result.bestPrompt ? best : await evaluate(baselinePrompt);
      return { best, baseline, comparison: compareHeldout(finalData, spec.seed, baseline, best) };
    },
    finish: (_context, result, heldout) => {
      const { best, baseline, comparison } = heldout as HeldoutSteps;
      const { final, wallMs } = best;
      const usage = baseline && baseline !== best ? addUsage(best.usage, baseline.usage) : best.usage;
      return {
        taskId: spec.taskId,
        optimizer: spec.optimizer,
        dataset: spec.datasetName,
        model: spec.model,
        bestPrompt: result.bestPrompt,
        initialScore: firstScored(result.history)?.score ?? null,
        score: result.score,
        final,
        baselineFinal: baseline?.final ?? null,
        heldout: comparison,
        usage: addUsage(result.usage, usage),
        // Like calls and tokens, the time includes the final evaluations (absent from steps recorded before it was kept).
        wallTimeMs: result.wallTime + (wallMs ?? 0) + (baseline && baseline !== best ? (baseline.wallMs ?? 0) : 0),
        stopReason: result.stopReason,
        candidates: result.history.length,
        usableCandidates: usableCandidates(result.history),
      };
    },
    release: async () => {
      sharedCache?.close();
      if (!options.resolver) await resolver.disposeAll();
    },
  });
}
