export {
  META_PROMPT_TEMPLATE,
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
