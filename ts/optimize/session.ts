/**
 * One `optimize.run`: x0 is scored, then each step asks for several proposals at once, takes the last fenced block
 * of each reply (re-asking once when there is none), evaluates the new values concurrently and keeps the best.
 * Generations and evaluations are recorded steps (ts/optimizers/engine/steps.ts): a resumed run replays them, and a
 * value of x is evaluated once per run, however often it is proposed.
 */
import { OptNativeError } from '../errors.js';
import type { ChatMessage, LanguageModel } from '../llm/types.js';
import { addUsage, EMPTY_USAGE, type OptimizationProgress, type OptimizationUsage } from '../optimizers/contract.js';
import type { PromptEvaluator } from '../tasks/prompt-evaluator.js';
import { isStopError, promptDigest, type StepRunner } from '../optimizers/engine/steps.js';
import { chatOpening, chatTurn, topkMessages, type Framing } from './context.js';
import { lastFencedBlock } from './extract.js';
import { evaluateObjective, type Objective } from './objective.js';
import { REASK_PROMPT } from './prompts.js';
import type { OptimizeCandidate, OptimizeStopReason, OptimizeStrategy } from './types.js';

export interface SessionSettings {
  strategy: OptimizeStrategy;
  maxSteps: number;
  proposalsPerStep: number;
  topK: number;
  temperature: number;
  maxTokens: number;
  seed: number;
  stopScore?: number;
  signal?: AbortSignal;
  onProgress?: (progress: OptimizationProgress) => void;
}

/**
 * One proposal slot: its own meter-backed step runner and metered model. Usage per step is a difference of meter
 * snapshots, so concurrent slots must not share a meter (each would count the others' calls).
 */
export interface Lane {
  steps: StepRunner;
  model: LanguageModel;
}

type Evaluated = Pick<OptimizeCandidate, 'score' | 'feedback' | 'error'>;

interface Proposal {
  reply: string;
  x?: string;
  error?: string;
}

export class OptimizeSession {
  readonly history: OptimizeCandidate[] = [];
  stepsDone = 0;
  private readonly evaluations = new Map<string, Promise<Evaluated>>();
  private readonly evaluator: PromptEvaluator;
  private conversation: ChatMessage[] = [];

  constructor(
    private readonly framing: Framing,
    private readonly f: Objective,
    private readonly lanes: readonly Lane[],
    private readonly settings: SessionSettings,
  ) {
    // The recorded evaluation step stores the score as `primary` and the feedback in `metrics`.
    this.evaluator = {
      evaluate: async (x, signal) => {
        const { score, feedback } = await evaluateObjective(this.f, x, signal);
        return { primary: score, conditions: null, metrics: { feedback } };
      },
    };
  }

  get usage(): OptimizationUsage {
    return this.lanes.reduce((total, lane) => addUsage(total, lane.steps.usage), EMPTY_USAGE);
  }

  private lane(slot: number): Lane {
    const lane = this.lanes[slot];
    if (!lane) throw new OptNativeError('E_INTERNAL', `optimize: no lane for proposal slot ${slot}`);
    return lane;
  }

  get evaluationCount(): number {
    return this.evaluations.size;
  }

  best(): OptimizeCandidate | undefined {
    let best: OptimizeCandidate | undefined;
    for (const candidate of this.history) {
      if (candidate.score === null) continue;
      if (best === undefined || this.isBetter(candidate.score, best.score ?? 0)) best = candidate;
    }
    return best;
  }

  private isBetter(score: number, than: number): boolean {
    return this.framing.minimize ? score < than : score > than;
  }

  private reachedStopScore(): boolean {
    const { stopScore } = this.settings;
    const best = this.best()?.score;
    if (stopScore === undefined || best === undefined || best === null) return false;
    return this.framing.minimize ? best <= stopScore : best >= stopScore;
  }

  /** Runs to the end; stop errors (abort, budget) end it with the best so far. */
  async run(x0: string): Promise<OptimizeStopReason> {
    try {
      const start = await this.candidate(0, 0, x0);
      this.history.push(start);
      this.conversation = chatOpening(this.framing, start);
      this.progress(0, `x0 ${start.score === null ? 'failed' : `scored ${start.score}`}`);
      for (let step = 1; step <= this.settings.maxSteps; step += 1) {
        if (this.reachedStopScore()) return 'stop_score';
        await this.runStep(step);
        this.stepsDone = step;
      }
      return this.reachedStopScore() ? 'stop_score' : 'completed';
    } catch (error) {
      if (!isStopError(error)) throw error;
      return error.code === 'E_BUDGET' ? 'budget' : 'aborted';
    }
  }

  private async runStep(step: number): Promise<void> {
    const messages =
      this.settings.strategy === 'chat'
        ? this.conversation
        : topkMessages(this.framing, this.history, this.settings.topK);
    const slots = Array.from({ length: this.settings.proposalsPerStep }, (_, index) => index);
    const proposals = await Promise.all(slots.map((slot) => this.propose(step, slot, messages)));
    const outcomes = await Promise.all(
      proposals.map((proposal, slot) =>
        proposal.x === undefined ? this.unproposed(step, slot, proposal) : this.candidate(step, slot, proposal.x),
      ),
    );
    this.history.push(...outcomes);
    if (this.settings.strategy === 'chat') this.extendConversation(proposals, outcomes);
    const best = this.best();
    this.progress(step, `step ${step}: ${outcomes.map((o) => o.score ?? 'failed').join(', ')}`, best?.score);
  }

  /** Chat continues from the step's best-scoring proposal (the first one when none scored). */
  private extendConversation(proposals: Proposal[], outcomes: OptimizeCandidate[]): void {
    let chosen = 0;
    outcomes.forEach((outcome, index) => {
      const current = outcomes[chosen]?.score ?? null;
      if (outcome.score !== null && (current === null || this.isBetter(outcome.score, current))) chosen = index;
    });
    const reply = proposals[chosen]?.reply ?? '';
    const outcome = outcomes[chosen];
    if (outcome) this.conversation = [...this.conversation, ...chatTurn(this.framing, reply, outcome)];
  }

  private unproposed(step: number, proposal: number, outcome: Proposal): OptimizeCandidate {
    return {
      step,
      proposal,
      x: '',
      score: null,
      feedback: outcome.error ?? 'the reply held no fenced block with a new x',
      error: outcome.error,
      repeated: false,
    };
  }

  private request(messages: ChatMessage[], step: number, slot: number) {
    return {
      messages,
      temperature: this.settings.temperature,
      maxTokens: this.settings.maxTokens,
      seed: this.settings.seed + step * 1000 + slot,
      sampleIndex: slot,
      signal: this.settings.signal,
    };
  }

  /** One proposal: the reply's last fenced block, with one re-ask when there is none. */
  private async propose(step: number, slot: number, messages: ChatMessage[]): Promise<Proposal> {
    const key = `optimize/generate/${step}/${slot}`;
    const { steps, model } = this.lane(slot);
    const first = await steps.generate(key, model, this.request(messages, step, slot));
    if (!first.ok) return { reply: '', error: `generation failed: ${first.error}` };
    const x = lastFencedBlock(first.text);
    if (x !== undefined && x.trim() !== '') return { reply: first.text, x };
    const reask = [
      ...messages,
      { role: 'assistant' as const, content: first.text },
      { role: 'user' as const, content: REASK_PROMPT },
    ];
    const second = await steps.generate(`${key}/reask`, model, this.request(reask, step, slot));
    if (!second.ok) return { reply: first.text, error: `generation failed: ${second.error}` };
    const again = lastFencedBlock(second.text);
    if (again === undefined || again.trim() === '')
      return { reply: second.text, error: 'no fenced block with a new x, even after one re-ask' };
    return { reply: second.text, x: again };
  }

  private async candidate(step: number, proposal: number, x: string): Promise<OptimizeCandidate> {
    const digest = promptDigest(x);
    const earlier = this.evaluations.get(digest);
    const evaluation = earlier ?? this.evaluate(digest, x, this.lane(proposal).steps);
    if (!earlier) this.evaluations.set(digest, evaluation);
    return { step, proposal, x, ...(await evaluation), repeated: earlier !== undefined };
  }

  private async evaluate(digest: string, x: string, steps: StepRunner): Promise<Evaluated> {
    const outcome = await steps.evaluate(`optimize/evaluate/${digest}`, this.evaluator, x, this.settings.signal);
    if (!outcome.ok) return { score: null, feedback: `the evaluation failed: ${outcome.error}`, error: outcome.error };
    const feedback = outcome.score.metrics.feedback;
    return { score: outcome.score.primary, feedback: typeof feedback === 'string' ? feedback : '' };
  }

  private progress(step: number, message: string, bestScore = this.best()?.score ?? null): void {
    this.settings.onProgress?.({
      optimizer: 'optimize',
      kind: 'iteration',
      iteration: step,
      totalIterations: this.settings.maxSteps,
      bestScore: bestScore ?? Number.NaN,
      message,
    });
  }
}

/** A proposal count, step count or k that is not a positive integer is refused up front. */
export function requirePositiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new OptNativeError('E_BAD_INPUT', `optimize: ${name} must be a positive integer, got ${value}`);
  return value;
}
