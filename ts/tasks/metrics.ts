// The task scores under their task names. They come from crates/metrics (ts/metrics/outcomes.ts): one
// implementation for the tasks, the bootstrap, the optimizers and the audio reward.
export { accuracyOfOutcomes as accuracy, balancedAccuracyOfOutcomes as balancedAccuracy } from '../metrics/outcomes.js';
