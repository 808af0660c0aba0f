/**
 * Numbers as people write them, read out of text: the GSM8K loader reads its targets with these, and the task
 * answer converters (ts/tasks/answers.ts) read model replies with the same rules.
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

/** The numbers written in `text`, in order, as written. */
export function numbersIn(text: string): string[] {
  return (text.match(NUMBER_PATTERN) ?? []).filter((match) => /\d/.test(match));
}

/**
 * GSM8K's worked solution: the lines before the last `#### ` marker, without the `<<48/2=24>>` calculator
 * annotations (they are tool calls of the dataset's authors, not text a model should learn to write).
 */
export function parseGsm8kRationale(answer: string): string {
  const marker = answer.lastIndexOf('####');
  const solution = marker < 0 ? answer : answer.slice(0, marker);
  return solution.replace(/<<[^<>]*>>/g, '').trim();
}

/** GSM8K's reference answer: the number after the last `#### ` marker. */
export function parseGsm8kAnswer(answer: string): string | null {
  const marker = answer.lastIndexOf('####');
  if (marker < 0) return null;
  const [first] = numbersIn(answer.slice(marker + 4));
  return first === undefined ? null : canonicalNumber(first);
}
