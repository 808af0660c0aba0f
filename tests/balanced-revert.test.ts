import { describe, expect, it } from 'vitest';
import { decideRevert } from '../ts/optimizers/balanced/revert.js';

const summary = (accuracy: number, meanCompletionTokens: number) => ({ accuracy, meanCompletionTokens, examples: 5 });

describe('decideRevert', () => {
  it('reverts any accuracy drop, whatever the focus and however much shorter the answers got', () => {
    for (const focus of ['accuracy', 'efficiency'] as const) {
      const decision = decideRevert(summary(0.8, 100), summary(0.6, 20), focus);
      expect(decision.revert).toBe(true);
      expect(decision.reason).toBe('validation accuracy fell from 80.0% to 60.0%');
    }
  });

  it('keeps a candidate that improved accuracy, even with longer answers', () => {
    expect(decideRevert(summary(0.4, 50), summary(0.6, 90), 'accuracy').revert).toBe(false);
    expect(decideRevert(summary(0.4, 50), summary(0.6, 90), 'efficiency').revert).toBe(false);
  });

  it('reverts an efficiency step that lengthened answers at equal accuracy', () => {
    const decision = decideRevert(summary(0.6, 40), summary(0.6, 41.5), 'efficiency');
    expect(decision).toEqual({
      revert: true,
      reason: 'efficiency step made answers longer (40.0 → 41.5 tokens) at unchanged accuracy',
    });
  });

  it('keeps ties and equal-accuracy accuracy steps (as TextGrad does)', () => {
    expect(decideRevert(summary(0.6, 40), summary(0.6, 40), 'efficiency').revert).toBe(false);
    expect(decideRevert(summary(0.6, 40), summary(0.6, 80), 'accuracy').revert).toBe(false);
    expect(decideRevert(summary(0, 0), summary(0, 0), 'accuracy').revert).toBe(false);
  });
});
