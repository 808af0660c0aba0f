import { describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import { focusSchedule, normalizeWeights, parseWeightPair } from '../ts/optimizers/balanced/focus.js';

describe('normalizeWeights', () => {
  it('keeps weights that already sum to 1 and scales the others', () => {
    expect(normalizeWeights(0.3, 0.7)).toEqual({ accuracy: 0.3, efficiency: 0.7 });
    expect(normalizeWeights(3, 1)).toEqual({ accuracy: 0.75, efficiency: 0.25 });
    expect(normalizeWeights(0, 2)).toEqual({ accuracy: 0, efficiency: 1 });
  });

  it('refuses negative, non-finite and all-zero weights with E_BAD_INPUT', () => {
    for (const [accuracy, efficiency] of [
      [-0.1, 1],
      [Number.NaN, 1],
      [1, Infinity],
      [0, 0],
    ] as const) {
      expect(() => normalizeWeights(accuracy, efficiency)).toThrow(OptNativeError);
    }
  });
});

describe('parseWeightPair', () => {
  it('parses "accuracy,efficiency" and normalizes it', () => {
    expect(parseWeightPair('0.3,0.7')).toEqual({ accuracy: 0.3, efficiency: 0.7 });
    expect(parseWeightPair(' 1 , 1 ')).toEqual({ accuracy: 0.5, efficiency: 0.5 });
  });

  it('refuses anything but two numbers', () => {
    for (const text of ['0.3', '0.3,0.7,0', 'a,b', '0.3,', '']) {
      expect(() => parseWeightPair(text), text).toThrow(/accuracy,efficiency/);
    }
  });
});

describe('focusSchedule', () => {
  it('picks accuracy with the frequency of its weight (seeded, 20000 epochs)', () => {
    for (const accuracy of [0.3, 0.5, 0.7]) {
      const schedule = focusSchedule({ accuracy, efficiency: 1 - accuracy }, 20_000, 7);
      const frequency = schedule.filter((focus) => focus === 'accuracy').length / schedule.length;
      // Binomial standard deviation is at most sqrt(0.25 / 20000) = 0.0035; 0.015 is over 4 of them.
      expect(Math.abs(frequency - accuracy)).toBeLessThan(0.015);
    }
  });

  it('is a pure function of the seed', () => {
    const weights = { accuracy: 0.5, efficiency: 0.5 };
    expect(focusSchedule(weights, 50, 1)).toEqual(focusSchedule(weights, 50, 1));
    expect(focusSchedule(weights, 50, 1)).not.toEqual(focusSchedule(weights, 50, 2));
    // A longer run starts with the shorter run's schedule.
    expect(focusSchedule(weights, 80, 1).slice(0, 50)).toEqual(focusSchedule(weights, 50, 1));
  });

  it('never picks a focus of weight 0', () => {
    expect(new Set(focusSchedule({ accuracy: 1, efficiency: 0 }, 500, 3))).toEqual(new Set(['accuracy']));
    expect(new Set(focusSchedule({ accuracy: 0, efficiency: 1 }, 500, 3))).toEqual(new Set(['efficiency']));
    expect(focusSchedule({ accuracy: 0.5, efficiency: 0.5 }, 0, 3)).toEqual([]);
  });
});
