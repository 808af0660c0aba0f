/** Special tokens of chat and audio templates: a prompt containing one would corrupt the evaluated model's input. */
export const FORBIDDEN_TOKENS: readonly string[] = [
  '<|audio_bos|>',
  '<|AUDIO|>',
  '<|audio_eos|>',
  '<|im_start|>',
  '<|im_end|>',
  '<|endoftext|>',
  '<audio>',
  '</audio>',
];

// Any other `<|…|>` token (Qwen, Llama 3 and friends use this shape for control tokens).
const SPECIAL_TOKEN_SHAPE = /<\|[^|<>\s]{1,40}\|>/;

// Unfilled templates and echoed scaffolding from the meta-prompt.
const WRONG_FORMAT: readonly [RegExp, string][] = [
  [/<\/?INS>/i, 'contains <INS> markers'],
  [/\{[a-z_ ]*\}/i, 'contains a template placeholder like {input}'],
  [/<your [^>]*>|\[insert [^\]]*\]/i, 'contains a placeholder like <your prompt here>'],
  [/^\s*(prompt_\d+|instruction|text)\s*:/i, 'starts with a label like "PROMPT_1:"'],
  [/```/, 'contains a code fence'],
];

export interface SanitizeRules {
  readonly minChars: number;
  readonly maxChars: number;
  /** Words the prompt must mention (whole word, any case): a classification task's answer words. */
  readonly requiredWords: readonly string[];
}

export type SanitizeOutcome = { ok: true; prompt: string } | { ok: false; prompt: string; reason: string };

/** Whether `text` names `word` as a whole word, in any case. */
export function mentionsWord(text: string, word: string): boolean {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu').test(text);
}

/**
 * Cleans a candidate (trim, surrounding quotes, whitespace runs collapsed to one space as the original tool did) and
 * says why it is refused: special tokens, wrong format, length, missing label words.
 */
export function sanitizeCandidate(raw: string, rules: SanitizeRules): SanitizeOutcome {
  const trimmed = raw.trim();
  const forbidden = FORBIDDEN_TOKENS.find((token) => trimmed.includes(token)) ?? SPECIAL_TOKEN_SHAPE.exec(trimmed)?.[0];
  if (forbidden !== undefined) return { ok: false, prompt: trimmed, reason: `contains forbidden token ${forbidden}` };
  for (const [pattern, reason] of WRONG_FORMAT) {
    if (pattern.test(trimmed)) return { ok: false, prompt: trimmed, reason: `wrong format: ${reason}` };
  }
  const prompt = trimmed
    .replace(/^["'“]+|["'”]+$/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (prompt.length < rules.minChars) {
    return { ok: false, prompt, reason: `too short (${prompt.length} chars, minimum ${rules.minChars})` };
  }
  if (prompt.length > rules.maxChars) {
    return { ok: false, prompt, reason: `too long (${prompt.length} chars, maximum ${rules.maxChars})` };
  }
  const missing = rules.requiredWords.filter((word) => !mentionsWord(prompt, word));
  if (missing.length > 0) return { ok: false, prompt, reason: `missing label word(s): ${missing.join(', ')}` };
  return { ok: true, prompt };
}

/** The key under which two prompts count as the same candidate (case and spacing ignored). */
export function dedupeKey(prompt: string): string {
  return prompt.replace(/\s+/g, ' ').trim().toLowerCase();
}
