export { OproOptimizer, type OproOptions, type OproResult } from './optimizer.js';
export {
  DEFAULT_OPRO_CONFIG,
  DEFAULT_REWARD_WEIGHTS,
  defaultBaselinePrompt,
  resolveOproConfig,
  type OproConfig,
  type RewardWeights,
} from './config.js';
export { computeReward, type RewardInputs } from './reward.js';
export {
  FORBIDDEN_TOKENS,
  dedupeKey,
  sanitizeCandidate,
  type SanitizeOutcome,
  type SanitizeRules,
} from './sanitize.js';
export { buildMetaPrompt, parseCandidates } from './meta-prompt.js';
export { insertIntoMemory, type EvaluatedCandidate } from './memory.js';
export { textPromptEvaluator, type PromptEvaluator, type PromptScore } from '../../tasks/prompt-evaluator.js';
export { OUTPUT_FILES, writeOproOutputs, type CandidateRecord, type IterationStats } from './outputs.js';
