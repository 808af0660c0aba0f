import { OptNativeError } from '../../errors.js';
import { SeededRandom, deriveSeed } from '../../random.js';

/** What an epoch optimizes for: answers being right, or answers being short while staying right. */
export type Focus = 'accuracy' | 'efficiency';

/** Normalized weights: both in [0, 1], summing to 1. */
export interface FocusWeights {
  readonly accuracy: number;
  readonly efficiency: number;
}

/** Scales two non-negative weights to sum to 1 (`0.3, 0.7` stays; `3, 7` becomes `0.3, 0.7`). */
export function normalizeWeights(accuracyWeight: number, efficiencyWeight: number): FocusWeights {
  for (const [name, value] of [
    ['accuracy', accuracyWeight],
    ['efficiency', efficiencyWeight],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) {
      throw new OptNativeError('E_BAD_INPUT', `the ${name} weight must be a finite number >= 0, got ${value}`);
    }
  }
  const total = accuracyWeight + efficiencyWeight;
  if (total === 0) throw new OptNativeError('E_BAD_INPUT', 'the accuracy and efficiency weights cannot both be 0');
  return { accuracy: accuracyWeight / total, efficiency: efficiencyWeight / total };
}

/** Parses an `accuracy,efficiency` pair such as `0.3,0.7` (the experiments command's config syntax). */
export function parseWeightPair(text: string): FocusWeights {
  const parts = text.split(',').map((part) => part.trim());
  const numbers = parts.map(Number);
  if (parts.length !== 2 || parts.some((part) => part === '') || numbers.some((value) => Number.isNaN(value))) {
    throw new OptNativeError('E_BAD_INPUT', `a weight config is "accuracy,efficiency" like 0.3,0.7, got "${text}"`);
  }
  return normalizeWeights(numbers[0] as number, numbers[1] as number);
}

// 2**30 buckets: fine enough for any weight a person types, and integer draws keep the RNG stream portable.
const UNIT_RESOLUTION = 2 ** 30;

/**
 * The focus of every epoch, drawn independently with P(accuracy) = weights.accuracy from a stream seeded by `seed`.
 * Drawn up front so that the schedule does not depend on how many random draws the epochs themselves make.
 */
export function focusSchedule(weights: FocusWeights, epochs: number, seed: number): Focus[] {
  const random = new SeededRandom(deriveSeed(seed, 'balanced-focus'));
  const schedule: Focus[] = [];
  for (let epoch = 0; epoch < epochs; epoch += 1) {
    const unit = random.integer(0, UNIT_RESOLUTION - 1) / UNIT_RESOLUTION;
    schedule.push(unit < weights.accuracy ? 'accuracy' : 'efficiency');
  }
  return schedule;
}
