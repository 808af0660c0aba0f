import { describe, expect, it } from 'vitest';
import {
  canonicalNumber,
  exactAnswersMatch,
  extractNumericAnswer,
  normalizeExactAnswer,
  numbersMatch,
  parseGsm8kAnswer,
} from '../ts/tasks/answers.js';
import { accuracy, balancedAccuracy } from '../ts/tasks/metrics.js';
import { extractLabel } from '../ts/tasks/text-task.js';

describe('GSM8K answers', () => {
  it('reads the number after ####, with commas, negatives and decimals', () => {
    expect(parseGsm8kAnswer('She makes 9 * 2 = $18.\n#### 18')).toBe('18');
    expect(parseGsm8kAnswer('#### 1,080')).toBe('1080');
    expect(parseGsm8kAnswer('#### 109,200,000')).toBe('109200000');
    expect(parseGsm8kAnswer('#### -3')).toBe('-3');
    expect(parseGsm8kAnswer('#### 2.50')).toBe('2.5');
    expect(parseGsm8kAnswer('no marker 12')).toBeNull();
  });

  it('extracts a model answer: marker, then "answer is", then the last number; units ignored', () => {
    expect(extractNumericAnswer('9 eggs * $2 = $18\n#### 18')).toBe('18');
    expect(extractNumericAnswer('The answer is $1,234.00 dollars. Check: 5 + 5')).toBe('1234');
    expect(extractNumericAnswer('Answer: -7 degrees')).toBe('-7');
    expect(extractNumericAnswer('16 - 3 - 4 = 9, and 9 * 2 = 18 eggs')).toBe('18');
    expect(extractNumericAnswer('It costs 0.75 per pound')).toBe('0.75');
    expect(extractNumericAnswer('about 50% of them')).toBe('50');
    expect(extractNumericAnswer('I do not know')).toBeNull();
  });

  it('compares numbers after canonicalization', () => {
    expect(canonicalNumber('1,000.50')).toBe('1000.5');
    expect(canonicalNumber('-0')).toBe('0');
    expect(canonicalNumber('12abc')).toBeNull();
    expect(numbersMatch('18.0', '18')).toBe(true);
    expect(numbersMatch('18', '1,8')).toBe(false);
    expect(numbersMatch(null, '18')).toBe(false);
  });
});

describe('BBH exact match', () => {
  it('normalizes case, punctuation, quotes and the "answer is" cue', () => {
    expect(normalizeExactAnswer('  Yes. ')).toBe('yes');
    expect(normalizeExactAnswer('Let us think. So the answer is "False".')).toBe('false');
    expect(normalizeExactAnswer('**valid**')).toBe('valid');
    expect(normalizeExactAnswer('apple  banana\ncherry')).toBe('apple banana');
    expect(normalizeExactAnswer(') ] >')).toBe(') ] >');
  });

  it('reduces multiple-choice answers to their letter', () => {
    expect(normalizeExactAnswer('(B)')).toBe('(b)');
    expect(normalizeExactAnswer('B')).toBe('(b)');
    expect(normalizeExactAnswer('(B) The blue book')).toBe('(b)');
    expect(exactAnswersMatch('So the answer is (C).', '(C)')).toBe(true);
    expect(exactAnswersMatch('(C)', '(D)')).toBe(false);
    expect(exactAnswersMatch(null, 'Yes')).toBe(false);
  });

  it('finds a closed-set label as a whole word, preferring the one after the cue', () => {
    expect(extractLabel('No, you do not return.', ['No', 'Yes'])).toBe('No');
    expect(extractLabel('Yes and no... the answer is no', ['No', 'Yes'])).toBe('No');
    expect(extractLabel('Nobody knows', ['No', 'Yes'])).toBeNull();
    expect(extractLabel('YES', ['No', 'Yes'])).toBe('Yes');
    // A reasoned reply without the cue: its last line naming a label is the conclusion.
    const reasoned = 'not False is True.\nTrue and False is False.\nTrue or False is True.\nSo the value is True.';
    expect(extractLabel(reasoned, ['False', 'True'])).toBe('True');
    expect(extractLabel('True or False\n\nThat gives False, since...\n', ['False', 'True'])).toBe('False');
  });
});

describe('task metrics', () => {
  it('accuracy counts correct answers', () => {
    expect(accuracy([true, false, true, true])).toBe(0.75);
    expect(accuracy([])).toBe(0);
  });

  it('balanced accuracy averages per-class recall (hand-computed)', () => {
    // Yes: 2 of 3 right; No: 1 of 1 right → (2/3 + 1) / 2 = 0.8333…
    expect(balancedAccuracy(['Yes', 'Yes', 'Yes', 'No'], [true, true, false, true])).toBeCloseTo(5 / 6, 12);
    // A single class is its recall.
    expect(balancedAccuracy(['No', 'No'], [true, false])).toBe(0.5);
    expect(balancedAccuracy([], [])).toBe(0);
    expect(() => balancedAccuracy(['a'], [])).toThrow(RangeError);
  });
});
