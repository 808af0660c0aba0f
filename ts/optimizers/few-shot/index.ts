export {
  FewShotOptimizer,
  INSTRUCTION_VARIANT_PROMPT,
  bestMeanTrial,
  trialKey,
  fewShotConfigSchema,
  renderFewShotPrompt,
  type FewShotConfig,
} from './optimizer.js';
export { CategoricalTpe, type CategoricalSpace, type Observation, type TpeOptions, type Trial } from './tpe.js';
