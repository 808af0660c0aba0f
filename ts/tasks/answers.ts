/**
 * Pure answer converters: turn a model's raw text (or a dataset's answer field) into the normalized string that is
 * compared with a target. Each has its own tests (tests/tasks-answers.test.ts).
 */

import { canonicalNumber, numbersIn, parseGsm8kAnswer } from '../datasets/number-text.js';

export { canonicalNumber, parseGsm8kAnswer };

/**
 * The final numeric answer in a model's reply: after `####` when present, else after "answer is"/"answer:", else the
 * last number in the text. Units and currency around it ("$18", "18 eggs", "50%") are ignored.
 */
export function extractNumericAnswer(reply: string): string | null {
  const marked = parseGsm8kAnswer(reply);
  if (marked !== null) return marked;
  const lower = reply.toLowerCase();
  const cue = Math.max(lower.lastIndexOf('answer is'), lower.lastIndexOf('answer:'));
  const region = cue >= 0 ? reply.slice(cue) : reply;
  const candidates = numbersIn(region);
  const chosen = cue >= 0 ? candidates[0] : candidates[candidates.length - 1];
  return chosen === undefined ? null : canonicalNumber(chosen);
}

/** Exact numeric match after canonicalization ("18.0" equals "18"). */
export function numbersMatch(prediction: string | null, target: string): boolean {
  if (prediction === null) return false;
  const canonicalTarget = canonicalNumber(target);
  return canonicalTarget !== null && canonicalNumber(prediction) === canonicalTarget;
}

const MULTIPLE_CHOICE = /^\(([A-R])\)$/;

/**
 * BBH normalization: take what follows the last "answer is" cue, keep the first line, strip quotes, trailing periods
 * and surrounding whitespace, collapse spaces, lowercase. Multiple-choice answers reduce to their letter: "(B)",
 * "B", "(B) Blue" and "b." all become "(b)".
 */
export function normalizeExactAnswer(text: string): string {
  const lower = text.toLowerCase();
  const cue = lower.lastIndexOf('answer is');
  let answer = cue >= 0 ? text.slice(cue + 'answer is'.length) : text;
  answer = answer.replace(/^[\s:]+/, '');
  answer = (answer.split('\n')[0] ?? '').trim();
  answer = answer.replace(/^["'`*\s]+|["'`*.\s]+$/g, '');
  answer = answer.replace(/\s+/g, ' ').toLowerCase();
  const choice = /^\(?([a-r])\)(\s|$)/.exec(answer) ?? /^([a-r])$/.exec(answer);
  return choice?.[1] ? `(${choice[1]})` : answer;
}

/** BBH exact match: both sides normalized the same way. */
export function exactAnswersMatch(prediction: string | null, target: string): boolean {
  return prediction !== null && normalizeExactAnswer(prediction) === normalizeExactAnswer(target);
}

/** True when a target is a multiple-choice letter like "(A)". */
export function isMultipleChoiceTarget(target: string): boolean {
  return MULTIPLE_CHOICE.test(target.trim());
}
