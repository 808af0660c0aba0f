import { SeededRandom } from '../random.js';
import { accuracy, balancedAccuracy } from './metrics.js';
import type { TextTask } from './types.js';

/** Per-example outcomes of one prompt on one split, in the split's order. */
export interface ScoredOutcomes {
  readonly targets: readonly string[];
  readonly correct: readonly boolean[];
}

export interface Interval {
  readonly low: number;
  readonly high: number;
}

/** A baseline and a candidate scored on the same examples, with percentile bootstrap intervals. */
export interface PairedComparison {
  readonly baseline: number;
  readonly candidate: number;
  readonly gain: number;
  readonly baselineInterval: Interval;
  readonly candidateInterval: Interval;
  /** Of the paired difference: both prompts are scored on the same resampled examples. */
  readonly gainInterval: Interval;
  readonly resamples: number;
  readonly confidence: number;
}

export interface BootstrapOptions {
  readonly resamples?: number;
  readonly confidence?: number;
  readonly seed?: number;
}

export type SplitScore = (targets: readonly string[], correct: readonly boolean[]) => number;

/** The task's own score over a split: balanced accuracy for word-label classification, accuracy otherwise. */
export function splitScoreOf(task: Pick<TextTask, 'scoreKind'>): SplitScore {
  return task.scoreKind === 'balanced_accuracy' ? balancedAccuracy : (_targets, correct) => accuracy(correct);
}

/** The value at quantile q of sorted values (linear interpolation, numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below] as number;
  return low + ((sorted[above] as number) - low) * (position - below);
}

function percentileInterval(values: number[], confidence: number): Interval {
  values.sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  return { low: quantile(values, tail), high: quantile(values, 1 - tail) };
}

function pick<T>(items: readonly T[], indices: readonly number[]): T[] {
  return indices.map((index) => items[index] as T);
}

/**
 * Paired percentile bootstrap of a baseline and a candidate prompt scored on the same examples: each resample draws
 * example indices with replacement and scores both prompts on them, so the gain's interval reflects the pairing.
 */
export function pairedBootstrap(
  baseline: ScoredOutcomes,
  candidate: ScoredOutcomes,
  score: SplitScore,
  options: BootstrapOptions = {},
): PairedComparison {
  const size = baseline.correct.length;
  if (size === 0 || candidate.correct.length !== size || baseline.targets.length !== size) {
    throw new RangeError('a paired bootstrap needs both prompts scored on the same, non-empty examples');
  }
  const scoreOf = (outcomes: ScoredOutcomes) => (indices: readonly number[] | null) =>
    indices === null
      ? score(outcomes.targets, outcomes.correct)
      : score(pick(baseline.targets, indices), pick(outcomes.correct, indices));
  return pairedResamples(size, scoreOf(baseline), scoreOf(candidate), options);
}

/** Paired percentile bootstrap of the means of two per-example score lists (e.g. 0, 0.5 or 1 per example). */
export function pairedMeanBootstrap(
  baseline: readonly number[],
  candidate: readonly number[],
  options: BootstrapOptions = {},
): PairedComparison {
  if (baseline.length === 0 || candidate.length !== baseline.length) {
    throw new RangeError('a paired bootstrap needs both score lists on the same, non-empty examples');
  }
  const meanOf = (scores: readonly number[]) => (indices: readonly number[] | null) => {
    const picked = indices === null ? scores : pick(scores, indices);
    return picked.reduce((sum, value) => sum + value, 0) / picked.length;
  };
  return pairedResamples(baseline.length, meanOf(baseline), meanOf(candidate), options);
}

/** A split's score on the resampled example indices, or on the whole split for `null`. */
type ResampledScore = (indices: readonly number[] | null) => number;

function pairedResamples(
  size: number,
  baseline: ResampledScore,
  candidate: ResampledScore,
  options: BootstrapOptions,
): PairedComparison {
  const resamples = options.resamples ?? 1000;
  const confidence = options.confidence ?? 0.95;
  const random = new SeededRandom(options.seed ?? 0);
  const baselineScores: number[] = [];
  const candidateScores: number[] = [];
  const gains: number[] = [];
  for (let round = 0; round < resamples; round += 1) {
    const indices = Array.from({ length: size }, () => random.integer(0, size - 1));
    const before = baseline(indices);
    const after = candidate(indices);
    baselineScores.push(before);
    candidateScores.push(after);
    gains.push(after - before);
  }
  const baselineScore = baseline(null);
  const candidateScore = candidate(null);
  return {
    baseline: baselineScore,
    candidate: candidateScore,
    gain: candidateScore - baselineScore,
    baselineInterval: percentileInterval(baselineScores, confidence),
    candidateInterval: percentileInterval(candidateScores, confidence),
    gainInterval: percentileInterval(gains, confidence),
    resamples,
    confidence,
  };
}
