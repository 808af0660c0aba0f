/**
 * Pure answer converters: turn a model's raw text (or a dataset's answer field) into the normalized string that is
 * compared with a target. Each has its own tests (tests/tasks-answers.test.ts).
 */

// A number as people write it: optional sign, thousands commas, decimals ("-1,234.50", ".5", "42").
const NUMBER_PATTERN = /-?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?/g;

/** Canonical decimal form: no commas, no trailing zeros after the point, no "-0" ("1,000.50" → "1000.5"). */
export function canonicalNumber(text: string): string | null {
  const trimmed = text.trim();
  // Commas only as thousands separators: "1,000" is a number, "1,8" is not.
  if (!/^-?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$/.test(trimmed) || !/\d/.test(trimmed)) return null;
  const cleaned = trimmed.replace(/,/g, '');
  const value = Number(cleaned);
  if (!Number.isFinite(value)) return null;
  return String(value === 0 ? 0 : value);
}

function numbersIn(text: string): string[] {
  return (text.match(NUMBER_PATTERN) ?? []).filter((match) => /\d/.test(match));
}

/** GSM8K's reference answer: the number after the last `#### ` marker. */
export function parseGsm8kAnswer(answer: string): string | null {
  const marker = answer.lastIndexOf('####');
  if (marker < 0) return null;
  const [first] = numbersIn(answer.slice(marker + 4));
  return first === undefined ? null : canonicalNumber(first);
}

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
