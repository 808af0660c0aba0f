import pLimit from 'p-limit';
import { OptNativeError } from '../../errors.js';
import { errorMessage } from '../../secrets.js';
import { SeededRandom, deriveSeed } from '../../random.js';
import type { Example } from '../../datasets/types.js';
import type { LanguageModel } from '../../llm/types.js';
import { evaluatePrompt, summaryOf, type Evaluation, type EvaluationContext } from './evaluate.js';
import { focusSchedule, normalizeWeights, type Focus, type FocusWeights } from './focus.js';
import {
  BALANCED_RESULTS_KIND,
  BALANCED_RESULTS_VERSION,
  type BalancedRunResult,
  type EpochRecord,
} from './results.js';
import { decideRevert, type EvaluationSummary } from './revert.js';
import type { BalancedTask } from './task.js';
import { textualGradientStep, type OptimizerContext } from './textgrad.js';
import { CallMeter } from './usage.js';
import { mentionsWord } from '../engine/sanitize.js';
import { addUsage, subtractUsage, type OptimizationBudget, type OptimizationRunDirectory } from '../contract.js';
import { stopReasonOf, throwIfAborted } from '../engine/loop.js';
import { promptDigest } from '../engine/steps.js';

export const BALANCED_DEFAULTS = {
  batchSize: 3,
  maxEpochs: 10,
  numThreads: 4,
  evalSamples: 5,
  maxTokens: 512,
  /** Room for a critique, feedback list or rewritten prompt. */
  optimizerMaxTokens: 768,
  seed: 0,
  thinkingBudget: 2048,
} as const;

export interface BalancedProgress {
  readonly epoch: number;
  readonly maxEpochs: number;
  readonly focus: Focus;
  readonly evaluation: EvaluationSummary;
  readonly reverted: boolean;
}

export interface BalancedOptions {
  readonly task: BalancedTask;
  readonly model: LanguageModel;
  /** Writes critiques, feedback and rewrites; defaults to `model`. */
  readonly optimizerModel?: LanguageModel;
  readonly initialPrompt: string;
  readonly weights: FocusWeights;
  readonly batchSize?: number;
  readonly maxEpochs?: number;
  readonly numThreads?: number;
  /** Size of the evaluation sample (test split) and of the validation sample. */
  readonly evalSamples?: number;
  /** Evaluate each candidate on the validation split and keep the previous prompt when it got worse. */
  readonly runValidation?: boolean;
  /** Completion cap for the prompted model. */
  readonly maxTokens?: number;
  /** Sampling temperature of the optimizer model; unset leaves the provider's default (needed with thinking). */
  readonly optimizerTemperature?: number;
  /** Completion cap of the optimizer model's replies. */
  readonly optimizerMaxTokens?: number;
  /** Extended-thinking budget for the optimizer model (providers without thinking ignore it); null = off. */
  readonly thinkingBudget?: number | null;
  readonly seed?: number;
  /** Shared spending limits (ts/run Budget); every call is checked against it and recorded in it. */
  readonly budget?: OptimizationBudget;
  /** Records each evaluation and textual-gradient step, so that a resumed run replays them instead of paying again. */
  readonly runDir?: OptimizationRunDirectory;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: BalancedProgress) => void;
}

interface RunState {
  prompt: string;
  evaluation: Evaluation;
  validation: Evaluation | null;
}

function checkPositiveInteger(name: string, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new OptNativeError('E_BAD_INPUT', `${name} must be an integer >= ${minimum}, got ${value}`);
  }
}

/** Yields training batches from seeded reshuffles of the train split, so every example is used before repeats. */
function* trainingBatches(train: readonly Example[], batchSize: number, seed: number): Generator<Example[]> {
  const random = new SeededRandom(deriveSeed(seed, 'balanced-batches'));
  for (;;) {
    const order = random.shuffle(train);
    for (let start = 0; start < order.length; start += batchSize) yield order.slice(start, start + batchSize);
  }
}

function requireExamples(label: string, examples: readonly Example[]): readonly Example[] {
  if (examples.length === 0) throw new OptNativeError('E_BAD_INPUT', `the task's ${label} split is empty`);
  return examples;
}

/** A fixed seeded sample, so every prompt of the run is measured on the same examples. */
function sampleOf(label: string, examples: readonly Example[], count: number, seed: number): Example[] {
  return new SeededRandom(deriveSeed(seed, 'balanced', label)).sample(requireExamples(label, examples), count);
}

/**
 * Balanced accuracy/efficiency prompt optimization with textual gradients: each epoch draws its focus with the
 * weights' probabilities, answers a training batch, runs loss → gradient → update with the optimizer model, and
 * (optionally) keeps the rewrite only if validation did not get worse. Returns an immutable, serializable record.
 */
export async function optimizeBalanced(options: BalancedOptions): Promise<BalancedRunResult> {
  const started = Date.now();
  const settings = resolveBalancedSettings(options);
  const weights = normalizeWeights(options.weights.accuracy, options.weights.efficiency);
  const optimizerModel = options.optimizerModel ?? options.model;
  const taskMeter = new CallMeter(options.budget);
  const optimizerMeter = new CallMeter(options.budget);
  const tools = epochTools(options, settings, taskMeter, optimizerMeter);
  const train = requireExamples('train', options.task.train);
  const initialEvaluation = await tools.evaluateCached('evaluation', options.initialPrompt, tools.evalSet);
  let state: RunState = {
    prompt: options.initialPrompt,
    evaluation: initialEvaluation,
    validation: settings.runValidation
      ? await tools.evaluateCached('validation', options.initialPrompt, tools.validationSet)
      : null,
  };
  const batches = trainingBatches(train, settings.batchSize, settings.seed);
  const epochs: EpochRecord[] = [];
  let stop: { reason: BalancedRunResult['stopReason']; message: string | null } = {
    reason: 'completed',
    message: null,
  };
  for (const [index, focus] of focusSchedule(weights, settings.maxEpochs, settings.seed).entries()) {
    const batch = batches.next().value as Example[];
    try {
      throwIfAborted(options.signal);
      const { record, next } = await runEpoch(index + 1, focus, state, batch, tools);
      epochs.push(record);
      state = next;
      const { evaluation, reverted } = record;
      options.onProgress?.({ epoch: index + 1, maxEpochs: settings.maxEpochs, focus, evaluation, reverted });
    } catch (error) {
      stop = stopOf(error);
      break;
    }
  }
  return {
    kind: BALANCED_RESULTS_KIND,
    version: BALANCED_RESULTS_VERSION,
    task: options.task.name,
    model: options.model.modelId,
    optimizerModel: optimizerModel.modelId,
    weights,
    settings,
    initialPrompt: options.initialPrompt,
    finalPrompt: state.prompt,
    initial: summaryOf(initialEvaluation),
    final: summaryOf(state.evaluation),
    epochs,
    usage: {
      task: { ...taskMeter.usage },
      optimizer: { ...optimizerMeter.usage },
      total: addUsage(taskMeter.usage, optimizerMeter.usage),
    },
    stopReason: stop.reason,
    stopMessage: stop.message,
    startedAt: new Date(started).toISOString(),
    wallTimeMs: Date.now() - started,
  };
}

/** The models, samples and cached evaluator every epoch works with; one request limit shared by both models. */
function epochTools(
  options: BalancedOptions,
  settings: BalancedRunResult['settings'],
  taskMeter: CallMeter,
  optimizerMeter: CallMeter,
): EpochTools {
  const limit = pLimit(settings.numThreads);
  const evaluateCached = cachedEvaluator(
    {
      model: options.model,
      metric: options.task.metric,
      limit,
      sampling: { temperature: 0, maxTokens: settings.maxTokens },
      meter: taskMeter,
      signal: options.signal,
    },
    options.runDir,
  );
  const optimizer: OptimizerContext = {
    optimizerModel: options.optimizerModel ?? options.model,
    limit,
    sampling: {
      maxTokens: settings.optimizerMaxTokens,
      ...(settings.optimizerTemperature === null ? {} : { temperature: settings.optimizerTemperature }),
      ...(settings.thinkingBudget === null ? {} : { thinkingBudget: settings.thinkingBudget }),
    },
    meter: optimizerMeter,
    signal: options.signal,
  };
  return {
    requiredWords: options.task.requiredWords ?? [],
    evaluateCached,
    optimizer,
    runDir: options.runDir,
    evalSet: sampleOf('test', options.task.test, settings.evalSamples, settings.seed),
    validationSet: settings.runValidation
      ? sampleOf('validation', options.task.validation, settings.evalSamples, settings.seed)
      : [],
  };
}

/**
 * A failure inside an epoch ends the run with the epochs done so far, so hours of model calls are not lost to one
 * broken call; the reason and message say why. (Failures before the first epoch propagate: nothing to keep.)
 */
function stopOf(error: unknown): { reason: 'budget' | 'aborted' | 'error'; message: string } {
  const message = errorMessage(error);
  const stop = stopReasonOf(error);
  if (stop !== undefined) return { reason: stop, message };
  const code = error instanceof OptNativeError ? `[${error.code}] ` : '';
  return { reason: 'error', message: `${code}${message}` };
}

/** The settings a run will use (defaults filled in), checked: what its results file records. */
export function resolveBalancedSettings(
  options: Omit<BalancedOptions, 'weights' | 'model'>,
): BalancedRunResult['settings'] {
  const settings = {
    batchSize: options.batchSize ?? BALANCED_DEFAULTS.batchSize,
    maxEpochs: options.maxEpochs ?? BALANCED_DEFAULTS.maxEpochs,
    numThreads: options.numThreads ?? BALANCED_DEFAULTS.numThreads,
    evalSamples: options.evalSamples ?? BALANCED_DEFAULTS.evalSamples,
    runValidation: options.runValidation ?? false,
    seed: options.seed ?? BALANCED_DEFAULTS.seed,
    maxTokens: options.maxTokens ?? options.task.maxAnswerTokens ?? BALANCED_DEFAULTS.maxTokens,
    thinkingBudget: options.thinkingBudget ?? null,
    optimizerTemperature: options.optimizerTemperature ?? null,
    optimizerMaxTokens: options.optimizerMaxTokens ?? BALANCED_DEFAULTS.optimizerMaxTokens,
  };
  checkPositiveInteger('batch size', settings.batchSize, 1);
  checkPositiveInteger('max epochs', settings.maxEpochs, 0);
  checkPositiveInteger('num threads', settings.numThreads, 1);
  checkPositiveInteger('eval samples', settings.evalSamples, 1);
  checkPositiveInteger('max tokens', settings.maxTokens, 1);
  checkPositiveInteger('optimizer max tokens', settings.optimizerMaxTokens, 1);
  if (settings.thinkingBudget !== null) checkPositiveInteger('thinking budget', settings.thinkingBudget, 1);
  if (!Number.isSafeInteger(settings.seed)) throw new OptNativeError('E_BAD_INPUT', `seed must be an integer`);
  if (options.initialPrompt.trim() === '') throw new OptNativeError('E_BAD_INPUT', 'the initial prompt is empty');
  return settings;
}

type CachedEvaluator = (set: string, prompt: string, examples: readonly Example[]) => Promise<Evaluation>;

/**
 * Runs `work` as a recorded step of the run directory (when there is one), with the calls it made on `meter`: a
 * resumed run gets the recorded value back and adds the recorded usage, without calling a model. Failures are not
 * recorded, so a resume retries them.
 */
async function recordedStep<T>(
  runDir: OptimizationRunDirectory | undefined,
  key: string,
  meter: CallMeter,
  work: () => Promise<T>,
): Promise<T> {
  if (!runDir) return work();
  let ranNow = false;
  const step = await runDir.runStep(key, async () => {
    ranNow = true;
    const before = { ...meter.usage };
    const value = await work();
    return { value, usage: subtractUsage(meter.usage, before) };
  });
  if (!ranNow) meter.add(step.usage);
  return step.value;
}

/** Prompts are answered greedily, so re-evaluating a prompt on the same fixed sample is skipped. */
function cachedEvaluator(context: EvaluationContext, runDir?: OptimizationRunDirectory): CachedEvaluator {
  const cache = new Map<string, Promise<Evaluation>>();
  return (set, prompt, examples) => {
    const key = `${set}\u0000${prompt}`;
    let evaluation = cache.get(key);
    if (!evaluation) {
      const stepKey = `balanced/evaluate/${set}/${promptDigest(prompt)}`;
      evaluation = recordedStep(runDir, stepKey, context.meter, () => evaluatePrompt(context, prompt, examples));
      cache.set(key, evaluation);
    }
    return evaluation;
  };
}

interface EpochTools {
  readonly requiredWords: readonly string[];
  readonly evaluateCached: CachedEvaluator;
  readonly optimizer: OptimizerContext;
  readonly runDir: OptimizationRunDirectory | undefined;
  readonly evalSet: readonly Example[];
  readonly validationSet: readonly Example[];
}

async function runEpoch(
  epoch: number,
  focus: Focus,
  state: RunState,
  batchExamples: readonly Example[],
  tools: EpochTools,
): Promise<{ record: EpochRecord; next: RunState }> {
  const batch = await tools.evaluateCached(`batch-${epoch}`, state.prompt, batchExamples);
  const step = await recordedStep(
    tools.runDir,
    `balanced/gradient/${epoch}/${focus}/${promptDigest(state.prompt)}`,
    tools.optimizer.meter,
    () => textualGradientStep(tools.optimizer, focus, state.prompt, batch),
  );
  let next = state;
  let validation: EpochRecord['validation'] = null;
  let reverted = false;
  let revertReason: string | null = step.candidatePrompt === null ? 'the update reply held no improved prompt' : null;
  const missing = tools.requiredWords.filter((word) => !mentionsWord(step.candidatePrompt ?? '', word));
  if (step.candidatePrompt !== null && missing.length > 0) {
    // Small optimizer models sometimes reply with an answer ("Yes") instead of a prompt: never adopt it.
    reverted = true;
    revertReason = `missing label word(s): ${missing.join(', ')}`;
  } else if (step.candidatePrompt !== null) {
    const candidate = step.candidatePrompt;
    let candidateValidation: Evaluation | null = null;
    if (state.validation !== null) {
      candidateValidation = await tools.evaluateCached('validation', candidate, tools.validationSet);
      validation = { previous: summaryOf(state.validation), candidate: summaryOf(candidateValidation) };
      const decision = decideRevert(state.validation, candidateValidation, focus);
      reverted = decision.revert;
      revertReason = decision.revert ? decision.reason : null;
    }
    if (!reverted) {
      next = {
        prompt: candidate,
        evaluation: await tools.evaluateCached('evaluation', candidate, tools.evalSet),
        validation: candidateValidation,
      };
    }
  }
  const record: EpochRecord = {
    epoch,
    focus,
    promptBefore: state.prompt,
    candidatePrompt: step.candidatePrompt,
    prompt: next.prompt,
    batch: summaryOf(batch),
    critiques: [...step.critiques],
    feedback: step.feedback,
    evaluation: summaryOf(next.evaluation),
    validation,
    reverted,
    revertReason,
  };
  return { record, next };
}
