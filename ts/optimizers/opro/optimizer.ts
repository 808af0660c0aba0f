import { SeededRandom, deriveSeed } from '../../random.js';
import { OptNativeError } from '../../errors.js';
import type { LanguageModel } from '../../llm/types.js';
import type { TextTask } from '../../tasks/types.js';
import {
  freezeDeep,
  type OptimizationProgress,
  type OptimizationResult,
  type OptimizeInput,
  type Optimizer,
  type StopReason,
} from '../contract.js';
import { defaultBaselinePrompt, resolveOproConfig, type OproConfig } from './config.js';
import { textPromptEvaluator, type PromptEvaluator } from '../../tasks/prompt-evaluator.js';
import { insertIntoMemory, type EvaluatedCandidate } from './memory.js';
import { buildMetaPrompt, buildVariationPrompt, parseCandidates } from './meta-prompt.js';
import {
  writeOproOutputs,
  type CandidateRecord,
  type CandidateStatus,
  type IterationStats,
  type OproOutputState,
} from './outputs.js';
import { computeReward } from './reward.js';
import { copyIndexOf, dedupeKey, sanitizeCandidate, type CopyIndex } from '../engine/sanitize.js';
import { runSearchLoop } from '../engine/loop.js';
import { OptimizerSession } from '../engine/session.js';
import { seedInstructionsOf } from '../engine/seed-instructions.js';

/** OPRO's result: the shared contract plus the top-k memory, every candidate record and per-iteration stats. */
export interface OproResult extends OptimizationResult {
  readonly best: EvaluatedCandidate;
  readonly memory: readonly EvaluatedCandidate[];
  readonly records: readonly CandidateRecord[];
  readonly iterationStats: readonly IterationStats[];
}

export interface OproOptions {
  /** Where the original tool's six files go after every iteration; defaults to the run directory. */
  outputDir?: string;
  /**
   * Replaces the text evaluator (the audio path plugs in here); built on the metered prompted model (`input.model`),
   * so that the budget and the usage count its calls.
   */
  evaluator?: (model: LanguageModel) => PromptEvaluator;
  now?: () => number;
}

type OproInput = OptimizeInput<TextTask>;

/** Mutable state of one optimize() call; the class keeps the loop's functions small. */
class OproRun {
  memory: EvaluatedCandidate[] = [];
  records: CandidateRecord[] = [];
  iterationStats: IterationStats[] = [];
  stopReason: StopReason | null = null;
  private readonly seen = new Set<string>();
  /** Steps, usage, wall time, the breaker, history and progress: the engine's, as for every optimizer. */
  private readonly session: OptimizerSession;
  /** The evaluator of one step, on that step's metered prompted model. */
  private readonly evaluatorFor: (model: LanguageModel) => PromptEvaluator;
  private readonly copySources: CopyIndex;

  constructor(
    private readonly config: OproConfig,
    private readonly input: OproInput,
    private readonly options: OproOptions,
  ) {
    this.copySources = copyIndexOf([...input.trainset, ...input.valset]);
    this.session = new OptimizerSession(input, {
      optimizer: 'opro',
      totalIterations: config.numIterations,
      maxConsecutiveFailures: config.maxConsecutiveFailures,
      // The original tool's files are OPRO's record; its event log holds the steps only.
      logProgress: false,
      now: options.now,
    });
    this.evaluatorFor = (model) =>
      options.evaluator?.(model) ??
      textPromptEvaluator({
        task: input.task,
        examples: input.valset,
        model,
        metric: input.metric,
        mode: config.evalMode,
      });
  }

  get outputDir(): string | undefined {
    return this.options.outputDir ?? this.input.runDir?.dir;
  }

  get best(): EvaluatedCandidate | undefined {
    return this.memory[0];
  }

  outputState(): OproOutputState {
    return {
      records: this.records,
      memory: this.memory,
      iterationStats: this.iterationStats,
      usage: this.session.usage,
      wallTimeMs: this.session.wallMs,
      stopReason: this.stopReason,
    };
  }

  save(): void {
    if (this.outputDir) writeOproOutputs(this.outputDir, this.outputState());
  }

  /** Records a candidate that got no reward: refused by screening, or its evaluation failed. */
  private recordUnscored(prompt: string, iteration: number, status: CandidateStatus, reason: string): void {
    this.session.record(iteration, prompt, null, reason);
    this.records.push({
      prompt,
      reward: null,
      ba_clip: null,
      ba_conditions: null,
      prompt_length: prompt.length,
      iteration,
      timestamp: null,
      metrics: {},
      status,
      rejection_reason: reason,
    });
  }

  private reject(prompt: string, iteration: number, reason: string): void {
    this.recordUnscored(prompt, iteration, 'rejected', reason);
  }

  /** Evaluates one prompt as a recorded step (the session's breaker counts it); updates memory and records. */
  async evaluate(prompt: string, iteration: number, index: number): Promise<void> {
    this.seen.add(dedupeKey(prompt));
    const step = await this.session.evaluationStep(`evaluate/${iteration}/${index}`, prompt, this.evaluatorFor);
    if (!step.ok) {
      this.recordUnscored(prompt, iteration, 'evaluation_failed', `evaluation failed: ${step.error}`);
      return;
    }
    const { primary, conditions, metrics } = step.score;
    const reward = computeReward({ primary, conditions, promptLength: prompt.length }, this.config.reward);
    const candidate: EvaluatedCandidate = {
      prompt,
      reward,
      ba_clip: primary,
      ba_conditions: conditions,
      prompt_length: prompt.length,
      iteration,
      timestamp: step.timestamp,
      metrics,
    };
    this.memory = insertIntoMemory(this.memory, candidate, this.config.topK);
    this.session.record(iteration, prompt, reward);
    this.records.push({ ...candidate, status: 'evaluated', rejection_reason: null });
    this.progress(iteration, `evaluated candidate ${index + 1}: reward ${reward.toFixed(4)}`);
  }

  metaPrompt(iteration: number): string {
    const random = new SeededRandom(deriveSeed(this.input.seed, 'opro-exemplars', iteration));
    return buildMetaPrompt({
      taskDescription: this.input.task.description,
      scoredInstructions: this.memory,
      exemplars: random.sample(this.input.trainset, this.config.exemplarsPerStep),
      requiredWords: this.input.task.requiredLabelWords,
      maxChars: this.config.maxPromptChars,
    });
  }

  /**
   * The request of one candidate slot. Variation style rewrites a prompt of the memory: slot 0 the best, the others
   * a seeded pick, so that one iteration explores around several good prompts.
   */
  proposalRequest(iteration: number, slot: number, metaPrompt: string): string {
    if (this.config.proposalStyle !== 'variation') return metaPrompt;
    const random = new SeededRandom(deriveSeed(this.input.seed, 'opro-variation', iteration, slot));
    const source = slot === 0 ? this.best : (random.sample(this.memory, 1)[0] ?? this.best);
    return buildVariationPrompt({
      taskDescription: this.input.task.description,
      instruction: source?.prompt ?? '',
      maxChars: this.config.maxPromptChars,
    });
  }

  /** Asks the optimizer model for candidates (one call a candidate slot) and returns the raw instructions. */
  async generateRaw(iteration: number): Promise<string[]> {
    const metaPrompt = this.metaPrompt(iteration);
    const raw: string[] = [];
    for (let slot = 0; slot < this.config.candidatesPerIter; slot += 1) {
      if (this.breakerOpen) break;
      const text = await this.session.generate(`generate/${iteration}/${slot}`, {
        messages: [{ role: 'user', content: this.proposalRequest(iteration, slot, metaPrompt) }],
        temperature: this.config.optimizerTemperature,
        maxTokens: this.config.optimizerMaxNewTokens,
        seed: deriveSeed(this.input.seed, 'opro-generate', iteration, slot),
        sampleIndex: slot,
      });
      if (text !== null) raw.push(...parseCandidates(text));
    }
    return raw;
  }

  /** Sanitizes and deduplicates raw candidates, recording each refusal; returns those to evaluate. */
  screen(raw: readonly string[], iteration: number): string[] {
    const accepted: string[] = [];
    const rules = {
      minChars: this.config.minPromptChars,
      maxChars: this.config.maxPromptChars,
      requiredWords: this.input.task.requiredLabelWords,
      copySources: this.copySources,
      labels: this.input.task.labels,
    };
    for (const candidate of raw) {
      const outcome = sanitizeCandidate(candidate, rules);
      if (!outcome.ok) this.reject(outcome.prompt, iteration, outcome.reason);
      else if (this.seen.has(dedupeKey(outcome.prompt)))
        this.reject(outcome.prompt, iteration, 'duplicate of a prompt already tried');
      else if (accepted.length >= this.config.candidatesPerIter)
        this.reject(outcome.prompt, iteration, 'beyond --candidates-per-iter');
      else {
        accepted.push(outcome.prompt);
        this.seen.add(dedupeKey(outcome.prompt));
      }
    }
    return accepted;
  }

  async runIteration(iteration: number): Promise<void> {
    const usageBefore = this.session.usage;
    const wallBefore = this.session.wallMs;
    const recordsBefore = this.records.length;
    if (iteration === 0) {
      const baseline = this.config.baselinePrompt ?? defaultBaselinePrompt(this.input.task.labels);
      const unique = new Map<string, string>();
      for (const prompt of [
        baseline,
        ...this.config.initialPrompts,
        ...seedInstructionsOf(this.config.seedInstructions),
      ]) {
        if (!unique.has(dedupeKey(prompt))) unique.set(dedupeKey(prompt), prompt);
      }
      for (const [index, prompt] of [...unique.values()].entries()) await this.evaluate(prompt, 0, index);
    } else {
      const accepted = this.screen(await this.generateRaw(iteration), iteration);
      for (const [index, prompt] of accepted.entries()) {
        if (this.breakerOpen) break;
        await this.evaluate(prompt, iteration, index);
      }
    }
    this.iterationStats.push(this.statsSince(iteration, usageBefore, wallBefore, recordsBefore));
  }

  private statsSince(
    iteration: number,
    usageBefore: OproOutputState['usage'],
    wallBefore: number,
    recordsBefore: number,
  ): IterationStats {
    const usage = this.session.usage;
    const records = this.records.slice(recordsBefore);
    return {
      iteration,
      candidates: records.length,
      evaluated: records.filter((record) => record.status === 'evaluated').length,
      rejected: records.filter((record) => record.status !== 'evaluated').length,
      calls: usage.calls - usageBefore.calls,
      prompt_tokens: usage.promptTokens - usageBefore.promptTokens,
      completion_tokens: usage.completionTokens - usageBefore.completionTokens,
      cache_hits: usage.cacheHits - usageBefore.cacheHits,
      cost: usage.cost - usageBefore.cost,
      wall_time_s: (this.session.wallMs - wallBefore) / 1000,
      best_reward: this.best?.reward ?? null,
    };
  }

  get breakerOpen(): boolean {
    return this.session.breakerOpen;
  }

  get breakerReason(): string {
    return this.session.breakerReason;
  }

  throwIfAborted(): void {
    this.session.throwIfAborted();
  }

  /** A progress event; the best score is the best reward so far (the session's best). */
  progress(iteration: number, message: string, kind: OptimizationProgress['kind'] = 'step'): void {
    this.session.progress(iteration, message, kind);
  }

  result(): OproResult {
    const best = this.best;
    if (!best) throw new OptNativeError('E_INTERNAL', 'no evaluated prompt');
    return freezeDeep({
      bestPrompt: best.prompt,
      score: best.reward,
      history: this.session.history,
      usage: this.session.usage,
      wallTime: this.session.wallMs,
      stopReason: this.stopReason ?? 'completed',
      best,
      memory: this.memory,
      records: this.records,
      iterationStats: this.iterationStats,
    });
  }
}

/**
 * OPRO (Yang et al. 2023) as the OPRO Classic tool runs it: evaluate the baseline and initial prompts, then each
 * iteration show the optimizer model the top-k prompts with their rewards and a few exemplars, sanitize and
 * deduplicate what it proposes, evaluate the survivors, and keep the top-k. Stops after `numIterations`, after
 * `earlyStopping` iterations without a better best reward, when the circuit breaker opens, or when the budget or the
 * signal says so — always with the best result so far saved.
 */
export class OproOptimizer implements Optimizer<OproConfig, TextTask> {
  readonly name = 'opro';
  readonly config: OproConfig;

  constructor(
    config: Partial<OproConfig> = {},
    private readonly options: OproOptions = {},
  ) {
    this.config = resolveOproConfig(config);
  }

  async optimize(input: OproInput): Promise<OproResult> {
    const run = new OproRun(this.config, input, this.options);
    await runSearchLoop(
      () => this.loop(run),
      (reason, error) => {
        run.stopReason = reason;
        run.progress(run.iterationStats.length, `stopped: ${error.message}`, 'stop');
      },
    );
    run.save();
    if (!run.best) {
      throw new OptNativeError(
        'E_CIRCUIT_OPEN',
        `no prompt could be evaluated (${run.stopReason ?? 'failed'}): ${run.breakerReason}`,
      );
    }
    return run.result();
  }

  private async loop(run: OproRun): Promise<void> {
    await run.runIteration(0);
    run.save();
    let bestReward = run.best?.reward ?? -Infinity;
    let iterationsWithoutImprovement = 0;
    for (let iteration = 1; iteration <= this.config.numIterations; iteration += 1) {
      if (run.breakerOpen) break;
      run.throwIfAborted();
      await run.runIteration(iteration);
      const current = run.best?.reward ?? -Infinity;
      if (current > bestReward) {
        bestReward = current;
        iterationsWithoutImprovement = 0;
      } else {
        iterationsWithoutImprovement += 1;
      }
      run.save();
      run.progress(iteration, `iteration ${iteration} done, best reward ${bestReward.toFixed(4)}`, 'iteration');
      if (iterationsWithoutImprovement >= this.config.earlyStopping) {
        run.stopReason = 'early_stopping';
        return;
      }
    }
    if (run.breakerOpen) {
      run.stopReason = 'circuit_open';
      run.progress(run.iterationStats.length, `circuit open: ${run.breakerReason}`, 'stop');
    } else {
      run.stopReason = 'completed';
    }
  }
}
