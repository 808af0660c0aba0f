export { BalancedOptimizer, type BalancedConfig, type BalancedOptimizationResult } from './balanced-optimizer.js';
export { runExperiments, writeRunResult, type ExperimentsOptions } from './experiments.js';
export { focusSchedule, normalizeWeights, parseWeightPair, type Focus, type FocusWeights } from './focus.js';
export { BALANCED_DEFAULTS, optimizeBalanced, type BalancedOptions, type BalancedProgress } from './optimizer.js';
export * from './prompts.js';
export { balancedRunResultSchema, resultsFileName, type BalancedRunResult, type EpochRecord } from './results.js';
export { decideRevert, type EvaluationSummary, type RevertDecision } from './revert.js';
export { balancedTaskFromText, replyMetricOf, type BalancedTask, type ReplyMetric } from './task.js';
