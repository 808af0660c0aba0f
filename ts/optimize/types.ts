import type { LanguageModel } from '../llm/types.js';
import type { BudgetLimits } from '../run/budget.js';
import type {
  OptimizationBudget,
  OptimizationProgress,
  OptimizationRunDirectory,
  OptimizationUsage,
} from '../optimizers/contract.js';

/** `topk`: bounded OPRO-style context (best k + latest feedback). `chat`: the original's growing conversation. */
export type OptimizeStrategy = 'topk' | 'chat';

export interface OptimizeRunOptions {
  /** A LanguageModel, or a model string (`native:default` when absent). */
  model?: LanguageModel | string;
  strategy?: OptimizeStrategy;
  /** Stop as soon as a score reaches it (at or above; at or below with `minimize`). */
  stopScore?: number;
  /** Proposal rounds after x0. Default 10. */
  maxSteps?: number;
  minimize?: boolean;
  /** Proposals asked for (and evaluated concurrently) per step. Default 2. */
  proposalsPerStep?: number;
  /** Scored values shown to the model by `topk`. Default 5. */
  topK?: number;
  /** Default 0.8, so that the proposals of one step differ. */
  temperature?: number;
  /** Completion limit of one proposal. Default 1024. */
  maxTokens?: number;
  seed?: number;
  /** A Budget (shared with other work) or its limits. */
  budget?: OptimizationBudget | BudgetLimits;
  signal?: AbortSignal;
  /** A RunDirectory or its folder: every generation and evaluation is recorded and replayed on resume. */
  runDir?: OptimizationRunDirectory | string;
  onProgress?: (progress: OptimizationProgress) => void;
}

/** One x the run considered. */
export interface OptimizeCandidate {
  /** 0 for x0. */
  readonly step: number;
  readonly proposal: number;
  readonly x: string;
  /** null when the evaluation failed or the proposal held no x. */
  readonly score: number | null;
  readonly feedback: string;
  /** `[E_CODE] message` of a failed evaluation or generation. */
  readonly error?: string;
  /** This x had been evaluated before in the run (the earlier result was reused). */
  readonly repeated: boolean;
}

export type OptimizeStopReason = 'completed' | 'stop_score' | 'budget' | 'aborted';

export interface OptimizeResult {
  readonly bestX: string;
  /** null when no x could be evaluated. */
  readonly bestScore: number | null;
  readonly history: readonly OptimizeCandidate[];
  /** Model calls of the optimizer (replayed steps included, so a resumed run reports the whole run). */
  readonly usage: OptimizationUsage;
  /** Distinct values of x evaluated by `f` (replayed ones included). */
  readonly evaluations: number;
  readonly steps: number;
  readonly stopReason: OptimizeStopReason;
  /** Wall time of this call in milliseconds (a resumed run counts from its resume). */
  readonly wallMs: number;
}
