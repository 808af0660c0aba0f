/**
 * The bookkeeping every prompt optimizer shares (OPRO, meta_prompt, few_shot, evolutionary, hierarchical_reflective,
 * MIPROv2): recorded model steps (replayed on resume through the run directory), usage and wall time, the circuit
 * breaker, candidate history, the best prompt so far, progress events and the stop reason. Each optimizer keeps only
 * its search logic.
 */
import { OptNativeError } from '../../errors.js';
import type { Example } from '../../datasets/types.js';
import type { GenerateRequest, LanguageModel } from '../../llm/types.js';
import { evaluateTextPrompt, type EvalMode } from '../../tasks/evaluate.js';
import type { TextTask } from '../../tasks/types.js';
import {
  addUsage,
  EMPTY_USAGE,
  freezeDeep,
  type OptimizationTask,
  type OptimizationHistoryEntry,
  type OptimizationProgress,
  type OptimizationResult,
  type OptimizationUsage,
  type OptimizeInput,
  type StopReason,
} from '../contract.js';
import { ConsecutiveFailureBreaker } from './breaker.js';
import type { PromptEvaluator, PromptScore } from '../../tasks/prompt-evaluator.js';
import {
  answerInsteadOfInstruction,
  copiedPassage,
  copyIndexOf,
  mentionsWord,
  tooLong,
  type CopyIndex,
} from './sanitize.js';
import { UsageMeter } from './meter.js';
import { runSearchLoop, throwIfAborted } from './loop.js';
import { StepRunner, promptDigest, type EvaluationStep } from './steps.js';

export type TextOptimizeInput = OptimizeInput<TextTask>;

/** One wrong answer of the prompted model, as an optimizer model reads it. */
export interface ScoredFailure {
  readonly id: string;
  readonly input: string;
  readonly target: string;
  readonly answer: string | null;
  /** The model's reply, cut to keep meta-prompts small. */
  readonly reply: string;
}

export interface PromptEvaluation {
  readonly score: number;
  readonly failures: readonly ScoredFailure[];
}

/** A starting prompt (the baseline or a seed instruction) and its valset evaluation. */
export interface ScoredStart {
  readonly prompt: string;
  readonly evaluation: PromptEvaluation;
}

/** The starting prompts that were scored, in order, and the best of them (the session's best prompt so far). */
export interface ScoredStarts {
  readonly starts: readonly ScoredStart[];
  readonly best: ScoredStart | undefined;
}

const MAX_REPLY_CHARS = 400;

/** Scores a prompt on fixed examples and keeps the failures (the text evaluator of OPRO keeps only aggregates). */
export function failureKeepingEvaluator(
  input: TextOptimizeInput,
  examples: readonly Example[],
  model: LanguageModel = input.model,
  mode: EvalMode = 'generate',
): PromptEvaluator {
  const task = { ...input.task, metric: input.metric };
  const inputs = new Map(examples.map((example) => [example.id, example.input]));
  return {
    async evaluate(prompt, signal): Promise<PromptScore> {
      const report = await evaluateTextPrompt({ task, examples, model, instruction: prompt, mode, signal });
      const failures: ScoredFailure[] = report.predictions
        .filter((prediction) => !prediction.correct)
        .map((prediction) => ({
          id: prediction.id,
          input: inputs.get(prediction.id) ?? '',
          target: prediction.target,
          answer: prediction.answer,
          reply: prediction.raw.slice(0, MAX_REPLY_CHARS),
        }));
      return { primary: report.score, conditions: null, metrics: { examples: report.examples, failures } };
    },
  };
}

export interface SessionOptions {
  readonly optimizer: string;
  readonly totalIterations: number;
  /** Consecutive failed evaluations or generations that stop the run. */
  readonly maxConsecutiveFailures?: number;
  /** `score`: each answer is the best-scored label (one prefill per example) instead of a generation. */
  readonly evalMode?: EvalMode;
  /** Append progress events to the run directory's event log (default true; OPRO's log holds its steps only). */
  readonly logProgress?: boolean;
  readonly now?: () => number;
}

/** Refuses score mode up front where it cannot work (no label set, or a model that cannot score choices). */
export function checkEvalMode(optimizer: string, mode: EvalMode | undefined, input: TextOptimizeInput): void {
  if (mode !== 'score') return;
  if (!input.task.labels || input.task.labels.length === 0) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${optimizer}: evalMode "score" needs a classification task; ${input.task.name} has no label set`,
    );
  }
  if (!input.model.scoreChoices) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${optimizer}: evalMode "score" needs a model that scores choices; ${input.model.provider} does not`,
    );
  }
}

/** What the session itself reads of an optimizer's input; text optimizers pass a whole TextOptimizeInput. */
export type SessionInput = Pick<
  OptimizeInput<OptimizationTask, unknown>,
  'model' | 'optimizerModel' | 'budget' | 'runDir' | 'signal' | 'onProgress'
>;

export class OptimizerSession<TInput extends SessionInput = TextOptimizeInput> {
  readonly history: OptimizationHistoryEntry[] = [];
  stopReason: StopReason | null = null;
  bestPrompt: string | null = null;
  bestScore = -Infinity;
  private usageTotal: OptimizationUsage = EMPTY_USAGE;
  private wallTotalMs = 0;
  private readonly breaker: ConsecutiveFailureBreaker;

  constructor(
    readonly input: TInput,
    private readonly options: SessionOptions,
  ) {
    // Score mode exists for text tasks only; other inputs never set it.
    if (options.evalMode === 'score') checkEvalMode(options.optimizer, options.evalMode, input as never);
    this.breaker = new ConsecutiveFailureBreaker(options.maxConsecutiveFailures ?? 3);
  }

  get usage(): OptimizationUsage {
    return this.usageTotal;
  }

  /** Wall time of the steps so far (parallel generations count the slowest), summed over resumed sessions. */
  get wallMs(): number {
    return this.wallTotalMs;
  }

  get breakerOpen(): boolean {
    return this.breaker.open;
  }

  /** Which source opened the breaker, how many failures in a row, and the last error. */
  get breakerReason(): string {
    return this.breaker.reason;
  }

  /** A fresh meter per step keeps usage right when steps run in parallel. */
  private runner(): { meter: UsageMeter; steps: StepRunner } {
    const meter = new UsageMeter(this.input.budget);
    return { meter, steps: new StepRunner(meter, this.input.runDir, this.options.now, this.input.signal) };
  }

  private account(usage: OptimizationUsage, wallMs: number): void {
    this.usageTotal = addUsage(this.usageTotal, usage);
    this.wallTotalMs += wallMs;
  }

  /** One optimizer-model call as a recorded step; null when it failed (counted by the breaker). */
  async generate(key: string, request: Omit<GenerateRequest, 'signal'>): Promise<string | null> {
    const [text] = await this.generateParallel([{ key, request }]);
    return text ?? null;
  }

  /** Optimizer-model calls at once; wall time counts the slowest, usage counts all. */
  async generateParallel(
    calls: readonly { key: string; request: Omit<GenerateRequest, 'signal'> }[],
  ): Promise<(string | null)[]> {
    const steps = await Promise.all(
      calls.map(({ key, request }) => {
        const { meter, steps } = this.runner();
        const model = meter.wrap(this.input.optimizerModel);
        return steps.generate(`${this.options.optimizer}/${key}`, model, { ...request, signal: this.input.signal });
      }),
    );
    for (const step of steps) this.account(step.usage, 0);
    this.wallTotalMs += Math.max(0, ...steps.map((step) => step.wallMs));
    return steps.map((step) => {
      if (step.ok) this.breaker.recordSuccess('optimizer model');
      else this.breaker.recordFailure('optimizer model', step.error);
      return step.ok ? step.text : null;
    });
  }

  /** Evaluates a prompt on `examples` as a recorded step; null when the evaluation failed. */
  async evaluate(
    this: OptimizerSession<TextOptimizeInput>,
    key: string,
    prompt: string,
    examples: readonly Example[],
  ): Promise<PromptEvaluation | null> {
    const { meter, steps } = this.runner();
    const evaluator = failureKeepingEvaluator(
      this.input,
      examples,
      meter.wrap(this.input.model),
      this.options.evalMode,
    );
    const stepKey = `${this.options.optimizer}/${key}/${promptDigest(prompt)}`;
    const step = this.counted(await steps.evaluate(stepKey, evaluator, prompt, this.input.signal));
    if (!step.ok) return null;
    const failures = (step.score.metrics.failures ?? []) as ScoredFailure[];
    return { score: step.score.primary, failures };
  }

  /**
   * Custom scoring work as a recorded step (keyed by `subject`, the serialized candidate and examples), with the
   * prompted model metered; null when it failed (counted by the breaker). For optimizers whose candidates are more
   * than a prompt string (MIPROv2's instruction plus demos).
   */
  async evaluateWith(
    key: string,
    subject: string,
    evaluator: (model: LanguageModel) => PromptEvaluator,
  ): Promise<PromptScore | null> {
    const step = await this.evaluationStep(key, subject, evaluator);
    return step.ok ? step.score : null;
  }

  /** `evaluateWith`'s recorded step itself: the score and when it was taken, or why it failed. */
  async evaluationStep(
    key: string,
    subject: string,
    evaluator: (model: LanguageModel) => PromptEvaluator,
  ): Promise<EvaluationStep> {
    const { meter, steps } = this.runner();
    const stepKey = `${this.options.optimizer}/${key}/${promptDigest(subject)}`;
    const prompted = evaluator(meter.wrap(this.input.model));
    return this.counted(await steps.evaluate(stepKey, prompted, subject, this.input.signal));
  }

  /** Adds an evaluation step's usage and wall time, and its outcome to the breaker. */
  private counted(step: EvaluationStep): EvaluationStep {
    this.account(step.usage, step.wallMs);
    if (step.ok) this.breaker.recordSuccess('evaluation');
    else this.breaker.recordFailure('evaluation', step.error);
    return step;
  }

  /**
   * Why a written candidate cannot serve as this task's instruction: it is an answer such as "No" (small optimizer
   * models often reply so), drops an answer word the task needs, or copies a dataset input. Such a candidate is
   * recorded as rejected and never evaluated, as OPRO does.
   */
  rejectionOf(this: OptimizerSession<TextOptimizeInput>, prompt: string, maxChars?: number): string | undefined {
    const long = maxChars === undefined ? undefined : tooLong(prompt, maxChars);
    if (long !== undefined) return long;
    const answer = answerInsteadOfInstruction(prompt, this.input.task.labels ?? []);
    if (answer !== undefined) return answer;
    const missing = this.input.task.requiredLabelWords.filter((word) => !mentionsWord(prompt, word));
    if (missing.length > 0) return `missing label word(s): ${missing.join(', ')}`;
    this.copySources ??= copyIndexOf([...this.input.trainset, ...this.input.valset]);
    const copied = copiedPassage(prompt, this.copySources);
    return copied === undefined ? undefined : `copies a dataset input ("${copied}")`;
  }

  private copySources: CopyIndex | undefined;

  /** Records a candidate; a strictly better score on the full valset makes it the best prompt. */
  record(iteration: number, prompt: string, score: number | null, rejectionReason?: string): void {
    this.history.push({ iteration, prompt, score, ...(rejectionReason === undefined ? {} : { rejectionReason }) });
    if (score !== null && rejectionReason === undefined && score > this.bestScore) {
      this.bestScore = score;
      this.bestPrompt = prompt;
    }
  }

  /** Scores the starting prompt on the valset and records it as iteration 0; null when its evaluation failed. */
  async evaluateInitial(
    this: OptimizerSession<TextOptimizeInput>,
    key: string,
    prompt: string,
  ): Promise<PromptEvaluation | null> {
    const evaluation = await this.evaluate(key, prompt, this.input.valset);
    this.record(0, prompt, evaluation?.score ?? null, evaluation ? undefined : 'evaluation failed');
    return evaluation;
  }

  /**
   * Scores the starting prompt, then each distinct seed instruction, on the valset, all recorded as iteration 0.
   * The first keeps `firstKey`, the key the optimizer gave its starting prompt before seeds existed, so older
   * runs resume. Seeds are fixed in advance, so they skip the candidate filters.
   */
  async evaluateStartingPrompts(
    this: OptimizerSession<TextOptimizeInput>,
    initial: string,
    seeds: readonly string[],
    firstKey = 'evaluate/0/0',
  ): Promise<ScoredStarts> {
    const prompts = [...new Set([initial, ...seeds])];
    const scored: ScoredStart[] = [];
    for (const [index, prompt] of prompts.entries()) {
      this.throwIfAborted();
      const evaluation = await this.evaluateInitial(index === 0 ? firstKey : `evaluate/0/${index}`, prompt);
      if (evaluation) scored.push({ prompt, evaluation });
      if (this.breakerOpen) break;
    }
    return { starts: scored, best: scored.find((start) => start.prompt === this.bestPrompt) };
  }

  /** Records a candidate scored on a sample only (a minibatch): history, never the best. */
  note(iteration: number, prompt: string, score: number | null, reason: string): void {
    this.history.push({ iteration, prompt, score, rejectionReason: reason });
  }

  progress(iteration: number, message: string, kind: OptimizationProgress['kind'] = 'step'): void {
    if (this.options.logProgress !== false) {
      this.input.runDir?.appendEvent({ type: `${this.options.optimizer}_progress`, kind, iteration, message });
    }
    this.input.onProgress?.({
      optimizer: this.options.optimizer,
      kind,
      iteration,
      totalIterations: this.options.totalIterations,
      bestScore: this.bestPrompt === null ? Number.NaN : this.bestScore,
      message,
    });
  }

  throwIfAborted(): void {
    throwIfAborted(this.input.signal);
  }

  /**
   * Runs the search loop: budget and abort stops keep the best so far, an open breaker reports circuit_open. A run
   * that never scored a prompt fails with E_CIRCUIT_OPEN.
   */
  async run(loop: () => Promise<StopReason | void>): Promise<OptimizationResult> {
    const started = (this.options.now ?? Date.now)();
    let stopped: StopReason | undefined;
    const reason = await runSearchLoop(loop, (stop, error) => {
      stopped = stop;
      this.progress(this.history.length, `stopped: ${error.message}`, 'stop');
    });
    const stopReason: StopReason = stopped ?? (this.breaker.open ? 'circuit_open' : (reason ?? 'completed'));
    this.stopReason = stopReason;
    if (this.bestPrompt === null) {
      throw new OptNativeError(
        'E_CIRCUIT_OPEN',
        `${this.options.optimizer}: no prompt could be evaluated` +
          `${this.stopReason === 'budget' || this.stopReason === 'aborted' ? ` (${this.stopReason})` : ''}: ` +
          this.breaker.reason,
      );
    }
    // With a run directory the wall time is that of the recorded steps, summed over resumed sessions (as OPRO).
    const elapsed = (this.options.now ?? Date.now)() - started;
    return freezeDeep({
      bestPrompt: this.bestPrompt,
      score: this.bestScore,
      history: this.history,
      usage: this.usageTotal,
      wallTime: this.input.runDir ? this.wallTotalMs : elapsed,
      stopReason,
    });
  }
}

/**
 * The first `<prompt>…</prompt>` block of a reply (to the reply's end when it was cut before the closing tag), else
 * the whole reply; trimmed, code fences removed.
 */
export function extractPromptBlock(reply: string): string {
  // An opening tag whose reply ran out of tokens before the closing one still marks where the prompt starts.
  const tagged = /<prompt>([\s\S]*?)(?:<\/prompt>|$)/i.exec(reply);
  const text = (tagged?.[1] ?? reply).trim();
  return text
    .replace(/^```[a-z]*\n?/i, '')
    .replace(/\n?```$/, '')
    .trim();
}

/** Whether a reply opened a `<prompt>` block at all. */
export function hasPromptBlock(reply: string): boolean {
  return /<prompt>/i.test(reply);
}

/** Failures as the optimizer model reads them, at most `limit`. */
export function formatFailures(failures: readonly ScoredFailure[], limit: number): string {
  if (failures.length === 0) return '(no failures)';
  return failures
    .slice(0, limit)
    .map(
      (failure, index) =>
        `Failure ${index + 1}:\nInput: ${failure.input}\nExpected: ${failure.target}\n` +
        `Model answer: ${failure.answer ?? '(none extracted)'}\nModel reply: ${failure.reply}`,
    )
    .join('\n\n');
}
