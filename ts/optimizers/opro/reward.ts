import type { RewardWeights } from './config.js';

/** The scores OPRO's reward is made of. `conditions` is null for tasks without conditions (text tasks). */
export interface RewardInputs {
  /** BA_clip for audio; the task score (accuracy or balanced accuracy) for text. */
  readonly primary: number;
  /** BA_conditions: macro-average over conditions; null drops the term. */
  readonly conditions: number | null;
  readonly promptLength: number;
}

/** R = w_clip·BA_clip + w_cond·BA_cond − w_len·(len(prompt)/100), as the original OPRO Classic tool. */
export function computeReward(inputs: RewardInputs, weights: RewardWeights): number {
  const conditionTerm = inputs.conditions === null ? 0 : weights.wBaCond * inputs.conditions;
  return weights.wBaClip * inputs.primary + conditionTerm - weights.wLengthPenalty * (inputs.promptLength / 100);
}
