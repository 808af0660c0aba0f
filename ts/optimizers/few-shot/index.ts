export {
  FewShotOptimizer,
  INSTRUCTION_VARIANT_PROMPT,
  bestMeanTrial,
  trialKey,
  fewShotConfigSchema,
  renderFewShotPrompt,
  demoAnswerOf,
  type DemoAnswer,
  type FewShotConfig,
} from './optimizer.js';
export { CategoricalTpe, type CategoricalSpace, type Observation, type TpeOptions, type Trial } from './tpe.js';
