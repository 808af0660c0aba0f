export {
  BATCH_ANALYSIS_PROMPT,
  HierarchicalReflectiveOptimizer,
  SYNTHESIS_PROMPT,
  TARGETED_EDIT_PROMPT,
  hierarchicalReflectiveConfigSchema,
  parseFailureModes,
  parseRootCauses,
  type FailureMode,
  type HierarchicalReflectiveConfig,
} from './optimizer.js';
