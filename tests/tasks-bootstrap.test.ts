import { describe, expect, it } from 'vitest';
import { pairedBootstrap, pairedMeanBootstrap, quantile, splitScoreOf } from '../ts/tasks/bootstrap.js';
import { balancedAccuracy } from '../ts/tasks/metrics.js';

const accuracyScore = splitScoreOf({ scoreKind: 'accuracy' });

function outcomes(correct: boolean[], targets?: string[]) {
  return { correct, targets: targets ?? correct.map(() => 'x') };
}

describe('quantile', () => {
  it('interpolates linearly between order statistics, as numpy.quantile does', () => {
    // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.975]) = [1.75, 2.5, 3.925]
    expect(quantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantile([1, 2, 3, 4], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantile([1, 2, 3, 4], 0.975)).toBeCloseTo(3.925, 12);
    expect(quantile([7], 0.3)).toBe(7);
  });
});

describe('pairedBootstrap', () => {
  it('gives a zero-width gain interval for two prompts with the same outcomes', () => {
    const same = outcomes([true, false, true, true, false, false, true, false]);
    const result = pairedBootstrap(same, same, accuracyScore, { resamples: 200, seed: 1 });
    expect(result.gain).toBe(0);
    expect(result.gainInterval).toEqual({ low: 0, high: 0 });
    expect(result.baseline).toBe(0.5);
  });

  it('gives +1 with certainty when the candidate fixes every example', () => {
    const size = 30;
    const result = pairedBootstrap(outcomes(Array(size).fill(false)), outcomes(Array(size).fill(true)), accuracyScore, {
      resamples: 100,
    });
    expect(result.gain).toBe(1);
    expect(result.gainInterval).toEqual({ low: 1, high: 1 });
    expect(result.candidateInterval).toEqual({ low: 1, high: 1 });
  });

  it('matches the normal approximation of a binomial proportion on 400 examples', () => {
    // p = 0.5, n = 400: the 95 % interval is 0.5 ± 1.96 * sqrt(0.25 / 400) = 0.5 ± 0.049.
    const correct = Array.from({ length: 400 }, (_, index) => index % 2 === 0);
    const result = pairedBootstrap(outcomes(correct), outcomes(correct), accuracyScore, {
      resamples: 2000,
      seed: 7,
    });
    expect(result.baselineInterval.low).toBeGreaterThan(0.44);
    expect(result.baselineInterval.low).toBeLessThan(0.46);
    expect(result.baselineInterval.high).toBeGreaterThan(0.54);
    expect(result.baselineInterval.high).toBeLessThan(0.56);
  });

  it('is narrower for the paired gain than the two intervals suggest when the prompts agree on most examples', () => {
    // The candidate fixes 10 of 100 examples and breaks none: every resample's gain is >= 0.
    const baseline = Array.from({ length: 100 }, (_, index) => index < 40);
    const candidate = Array.from({ length: 100 }, (_, index) => index < 50);
    const result = pairedBootstrap(outcomes(baseline), outcomes(candidate), accuracyScore, { seed: 3 });
    expect(result.gain).toBeCloseTo(0.1, 12);
    expect(result.gainInterval.low).toBeGreaterThan(0.03);
    // Unpaired intervals overlap: the candidate's low end is below the baseline's high end.
    expect(result.candidateInterval.low).toBeLessThan(result.baselineInterval.high);
  });

  it('scores classification splits with balanced accuracy over the resampled targets', () => {
    const targets = ['Yes', 'Yes', 'Yes', 'No'];
    const always = outcomes([true, true, true, false], targets); // always "Yes": BA = (1 + 0) / 2
    const score = splitScoreOf({ scoreKind: 'balanced_accuracy' });
    const result = pairedBootstrap(always, always, score, { resamples: 50 });
    expect(result.baseline).toBe(balancedAccuracy(targets, always.correct));
    expect(result.baseline).toBe(0.5);
  });

  it('is reproducible for a seed and refuses unpaired outcomes', () => {
    const a = outcomes([true, false, false, true, true]);
    const b = outcomes([true, true, false, true, false]);
    const first = pairedBootstrap(a, b, accuracyScore, { seed: 11, resamples: 300 });
    expect(pairedBootstrap(a, b, accuracyScore, { seed: 11, resamples: 300 })).toEqual(first);
    expect(() => pairedBootstrap(a, outcomes([true]), accuracyScore)).toThrow(RangeError);
    expect(() => pairedBootstrap(outcomes([]), outcomes([]), accuracyScore)).toThrow(RangeError);
  });
});

describe('pairedMeanBootstrap', () => {
  it('equals the accuracy bootstrap on 0/1 scores, resample for resample', () => {
    const before = [true, false, false, true, false, true, false, false, true, false];
    const after = [true, true, false, true, true, true, false, true, true, false];
    const asScores = (correct: boolean[]) => correct.map((value) => (value ? 1 : 0));
    const options = { resamples: 300, seed: 7 };
    const byAccuracy = pairedBootstrap(outcomes(before), outcomes(after), accuracyScore, options);
    const byMean = pairedMeanBootstrap(asScores(before), asScores(after), options);
    expect(byMean).toEqual(byAccuracy);
  });

  it('takes partial credit: the gain is the difference of the means', () => {
    // means 0.5 and 0.75 (hand-computed); every example gains 0 or +0.5, so no resample can lose
    const result = pairedMeanBootstrap([0, 0.5, 1, 0.5], [0.5, 0.5, 1, 1], { resamples: 200, seed: 3 });
    expect(result.baseline).toBeCloseTo(0.5, 12);
    expect(result.candidate).toBeCloseTo(0.75, 12);
    expect(result.gain).toBeCloseTo(0.25, 12);
    expect(result.gainInterval.low).toBeGreaterThanOrEqual(0);
    expect(result.gainInterval.high).toBeLessThanOrEqual(0.5);
  });

  it('refuses lists of different lengths', () => {
    expect(() => pairedMeanBootstrap([1], [1, 0])).toThrow(RangeError);
    expect(() => pairedMeanBootstrap([], [])).toThrow(RangeError);
  });
});
