export {
  META_PROMPT_TEMPLATE,
  NO_PROMPT_BLOCK,
  MetaPromptOptimizer,
  buildCritiquePrompt,
  metaPromptConfigSchema,
  type MetaPromptConfig,
} from './optimizer.js';
export {
  OptimizerSession,
  extractPromptBlock,
  failureKeepingEvaluator,
  formatFailures,
  type PromptEvaluation,
  type ScoredFailure,
  type TextOptimizeInput,
} from '../engine/session.js';
