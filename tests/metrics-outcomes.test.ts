// The outcome scores every task, optimizer and the audio reward read (ts/metrics/outcomes.ts), computed by
// crates/metrics: hand-computed values, empty inputs and single-condition cases.
import { describe, expect, it } from 'vitest';
import { accuracyOfOutcomes, balancedAccuracyOfOutcomes, conditionReport } from '../ts/metrics/outcomes.js';

describe('outcome scores from crates/metrics', () => {
  it('accuracy and balanced accuracy of right/wrong outcomes', () => {
    expect(accuracyOfOutcomes([true, false, false, true, true])).toBe(0.6);
    expect(accuracyOfOutcomes([])).toBe(0);
    // a: 1 of 3 right, b: 2 of 2 → (1/3 + 1) / 2
    const targets = ['a', 'a', 'b', 'a', 'b'];
    expect(balancedAccuracyOfOutcomes(targets, [true, false, true, false, true])).toBeCloseTo(2 / 3, 12);
    expect(balancedAccuracyOfOutcomes(['a'], [false])).toBe(0);
    expect(balancedAccuracyOfOutcomes([], [])).toBe(0);
    expect(() => balancedAccuracyOfOutcomes(['a'], [])).toThrow(RangeError);
  });

  it('BA per condition value, per column and over columns; no answer and foreign labels are wrong', () => {
    const targets = ['S', 'S', 'N', 'N'];
    // Row 2 names a label no target has; row 3 gave no answer.
    const predictions = ['S', 'N', 'MUSIC', null];
    const report = conditionReport(targets, predictions, [
      { name: 'snr', values: ['0', '0', '0', '10'] },
      { name: 'band', values: ['full', 'full', 'full', 'full'] },
    ]);
    // Overall: S 1/2, N 0/2 → 1/4. snr 0: S 1/2, N 0/1 → 1/4; snr 10: N 0/1 → 0; column 1/8. band: one value, 1/4.
    expect(report?.balanced_accuracy).toBe(0.25);
    expect(report?.per_condition.snr?.['0']).toMatchObject({ n: 3, balanced_accuracy: 0.25 });
    expect(report?.per_condition.snr?.['10']).toMatchObject({ n: 1, balanced_accuracy: 0 });
    expect(report?.ba_conditions_by_column).toEqual({ snr: 0.125, band: 0.25 });
    expect(report?.ba_conditions_macro).toBeCloseTo(0.1875, 12);
    expect(report?.unknown).toBe(2);
    expect(conditionReport(targets, predictions, [])?.ba_conditions_macro).toBeNull();
    expect(conditionReport([], [], [{ name: 'snr', values: [] }])).toBeNull();
  });
});
