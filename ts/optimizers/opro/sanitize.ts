import { META_PROMPT_REQUEST, VARIATION_PROMPT_REQUEST } from './meta-prompt.js';

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
  [/^\s*(prompt(_\d+)?|instruction|text|new instruction)\s*:/i, 'starts with a label like "PROMPT_1:"'],
  [/```/, 'contains a code fence'],
  // The meta-prompt's own layout echoed back: "Q:", "A:", "input:", "output:", "score:" lines.
  [/(^|\n)\s*(q|a|input|output|score|text)\s*:/i, 'echoes the meta-prompt scaffolding (a "Q:"/"input:"/"score:" line)'],
];

export interface SanitizeRules {
  readonly minChars: number;
  readonly maxChars: number;
  /** Words the prompt must mention (whole word, any case): a classification task's answer words. */
  readonly requiredWords: readonly string[];
  /** Dataset inputs and exemplars a candidate must not copy (see copiedPassage). */
  readonly copySources?: CopyIndex;
  /** The task's answers: a candidate that is one of them is an answer, not an instruction. */
  readonly labels?: readonly string[];
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
  const long = tooLong(prompt, rules.maxChars);
  if (long !== undefined) return { ok: false, prompt, reason: long };
  const answer = answerInsteadOfInstruction(prompt, rules.labels ?? []);
  if (answer !== undefined) return { ok: false, prompt, reason: answer };
  const missing = rules.requiredWords.filter((word) => !mentionsWord(prompt, word));
  if (missing.length > 0) return { ok: false, prompt, reason: `missing label word(s): ${missing.join(', ')}` };
  const echoed = copiedPassage(prompt, REQUEST_TEXTS);
  if (echoed !== undefined) return { ok: false, prompt, reason: `repeats the optimizer's request ("${echoed}")` };
  const copied = rules.copySources ? copiedPassage(prompt, rules.copySources) : undefined;
  if (copied !== undefined) return { ok: false, prompt, reason: `copies a dataset input ("${copied}")` };
  if (rules.copySources && imitatesInput(prompt, rules.copySources)) {
    return { ok: false, prompt, reason: "is a new question in the dataset's format, not an instruction" };
  }
  return { ok: true, prompt };
}

/** The key under which two prompts count as the same candidate (case and spacing ignored). */
export function dedupeKey(prompt: string): string {
  return prompt.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Word n-grams long enough that sharing one with an input means copying it, not using the task's vocabulary. */
export const COPY_NGRAM_WORDS = 6;

/**
 * Word n-grams of the dataset inputs and how many inputs hold each. An n-gram that most inputs share is the task's
 * own question template ("If you follow these instructions, do you return to the starting point?"), which an
 * instruction may restate; an n-gram of only a few inputs is one example's content.
 */
export interface CopyIndex {
  readonly inputs: number;
  readonly counts: ReadonlyMap<string, number>;
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function ngrams(text: string, size: number): Set<string> {
  const tokens = words(text);
  const grams = new Set<string>();
  for (let start = 0; start + size <= tokens.length; start += 1) grams.add(tokens.slice(start, start + size).join(' '));
  return grams;
}

export function buildCopyIndex(inputs: readonly string[], size = COPY_NGRAM_WORDS): CopyIndex {
  const counts = new Map<string, number>();
  for (const input of inputs) {
    for (const gram of ngrams(input, size)) counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return { inputs: inputs.length, counts };
}

/** The first n-gram the prompt shares with fewer than half of the inputs (one example's content), if any. */
export function copiedPassage(prompt: string, index: CopyIndex, size = COPY_NGRAM_WORDS): string | undefined {
  const templateShare = Math.max(2, index.inputs / 2);
  for (const gram of ngrams(prompt, size)) {
    const count = index.counts.get(gram) ?? 0;
    if (count > 0 && count < templateShare) return gram;
  }
  return undefined;
}

/** Words a restated question may add before it counts as a new example rather than an instruction. */
const IMITATION_EXTRA_WORDS = 8;

/**
 * Whether the prompt opens with the task's own question template (an n-gram most inputs share) and then goes on
 * with content of its own: a made-up example ("If you follow these instructions, … Take 4 steps forward. …"), as
 * small optimizer models write when shown exemplars. A short restatement of the question stays allowed.
 */
export function imitatesInput(prompt: string, index: CopyIndex, size = COPY_NGRAM_WORDS): boolean {
  if (index.inputs < 3) return false;
  const tokens = words(prompt);
  const covered = new Array<boolean>(tokens.length).fill(false);
  let firstTemplateAt = -1;
  for (let start = 0; start + size <= tokens.length; start += 1) {
    const count = index.counts.get(tokens.slice(start, start + size).join(' ')) ?? 0;
    if (count < index.inputs / 2) continue;
    if (firstTemplateAt < 0) firstTemplateAt = start;
    covered.fill(true, start, start + size);
  }
  const extra = covered.filter((isCovered) => !isCovered).length;
  return firstTemplateAt >= 0 && firstTemplateAt <= 2 && extra >= IMITATION_EXTRA_WORDS;
}

// The requests of the meta-prompts: a candidate that repeats them is an echo, not an instruction (the 1.5B model
// answered "Say how to approach the problem and what to check before …" to the variation request).
const REQUEST_TEXTS = buildCopyIndex([META_PROMPT_REQUEST, VARIATION_PROMPT_REQUEST]);

/** The copy index of what an optimizer may show or score: the training and validation inputs. */
export function copyIndexOf(examples: readonly { readonly input: string }[]): CopyIndex {
  return buildCopyIndex(examples.map((example) => example.input));
}

/**
 * Why a candidate is an answer rather than an instruction: it is one of the task's labels ("No", "(B)"), as small
 * optimizer models often reply. Undefined for a real instruction.
 */
export function answerInsteadOfInstruction(prompt: string, labels: readonly string[]): string | undefined {
  const bare = (text: string) => text.replace(/[\s.!"'“”]+/g, '').toLowerCase();
  const label = labels.find((candidate) => bare(candidate) === bare(prompt));
  return label === undefined ? undefined : `is an answer ("${label}"), not an instruction`;
}

/**
 * The length rule every optimizer shares: a candidate over `maxChars` is refused, never cut short (a cut prompt is
 * neither what the optimizer model wrote nor a complete instruction).
 */
export function tooLong(prompt: string, maxChars: number): string | undefined {
  return prompt.length > maxChars ? `too long (${prompt.length} chars, maximum ${maxChars})` : undefined;
}
