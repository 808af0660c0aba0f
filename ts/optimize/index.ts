import { run } from './run.js';

/** `optimize.run(task, question, f, x0, options)`: LLM-guided black-box optimization of a string x. */
export const optimize = { run } as const;

export { run as runOptimize, DEFAULT_OPTIMIZE_MODEL, OPTIMIZE_DEFAULTS } from './run.js';
export { llmScorer, parseFinalScore, median, JUDGE_PROMPT, type LlmScorerOptions } from './scorer.js';
export { lastFencedBlock } from './extract.js';
export {
  sandboxEvaluator,
  parseEvaluatorOutput,
  CANDIDATE_FILE,
  type SandboxEvaluatorOptions,
} from './sandbox-evaluator.js';
export { normalizeEvaluation, type Evaluation, type Objective, type ObjectiveValue } from './objective.js';
export {
  CHAT_FEEDBACK_PROMPT,
  CHAT_FIRST_PROMPT,
  OPTIMIZER_SYSTEM_PROMPT,
  REASK_PROMPT,
  TOPK_META_PROMPT,
} from './prompts.js';
export type {
  OptimizeCandidate,
  OptimizeResult,
  OptimizeRunOptions,
  OptimizeStopReason,
  OptimizeStrategy,
} from './types.js';
