import type { Example } from '../datasets/types.js';
import type { ChatMessage } from '../llm/types.js';

/**
 * What the evaluated model receives is split in two: the optimizer writes only the instruction, and the task owns
 * the answer format (which words, letter or final line to answer with). A candidate instruction therefore never has
 * to repeat label words to be scored fairly.
 */

/** What kind of answer a task expects; decides its answer format, extraction and metric. */
export type TaskKind = 'classification' | 'multiple_choice' | 'numeric' | 'free_form';

/**
 * Where the instruction goes (OPRO's placements): `before` the question in the user turn (Q_begin), `after` it
 * (Q_end), or as the `system` message.
 */
export type InstructionPosition = 'system' | 'before' | 'after';

export const INSTRUCTION_POSITIONS: readonly InstructionPosition[] = ['before', 'after', 'system'];

/** Measured default (docs/quality.md): before the question, as OPRO's Q_begin. */
export const DEFAULT_INSTRUCTION_POSITION: InstructionPosition = 'before';

/**
 * Where the answer format goes: at the `end` of the user turn, right before `A:` (a small model then answers at
 * once, whatever the instruction asks), or at the `start`, before the question and with no `A:`, so an instruction
 * that asks for working can get it (docs/quality.md, "The answer format decides whether the model reasons").
 */
export type AnswerFormatPosition = 'end' | 'start';

export const ANSWER_FORMAT_POSITIONS: readonly AnswerFormatPosition[] = ['end', 'start'];

export const DEFAULT_ANSWER_FORMAT_POSITION: AnswerFormatPosition = 'end';

export const MULTIPLE_CHOICE_FORMAT = 'Answer with the letter of the correct option, for example (A).';
export const NUMERIC_FORMAT = 'End your reply with the line "The answer is N." where N is a number.';
export const FREE_FORM_FORMAT = 'End your reply with the line "The answer is X." where X is your answer.';

/** The multiple-choice format when the model may work first: the letter goes on a final line. */
export const MULTIPLE_CHOICE_FINAL_LINE_FORMAT =
  'End your reply with the line "The answer is (X)." where (X) is the letter of the correct option.';

/**
 * The line the evaluator adds to every question of a task of this kind. With the format at the `start`, closed
 * label sets get a final-line wording too: "Answer with one of: …" read before the question makes a small model
 * answer at once whatever the instruction asks (docs/quality.md, "BIG-Bench Hard with the format first").
 */
export function answerFormatFor(
  kind: TaskKind,
  labels: readonly string[] | undefined,
  position: AnswerFormatPosition = DEFAULT_ANSWER_FORMAT_POSITION,
): string {
  const finalLine = position === 'start';
  if (kind === 'classification' && labels && labels.length > 0) {
    const choices = labels.join(', ');
    return finalLine
      ? `End your reply with the line "The answer is X." where X is one of: ${choices}.`
      : `Answer with one of: ${choices}.`;
  }
  if (kind === 'multiple_choice') return finalLine ? MULTIPLE_CHOICE_FINAL_LINE_FORMAT : MULTIPLE_CHOICE_FORMAT;
  if (kind === 'numeric') return NUMERIC_FORMAT;
  return FREE_FORM_FORMAT;
}

/**
 * A demonstration's answer in the form the task's answer format asks for, so demonstrations teach the format they
 * are scored in: the worked solution where the example has one, then the final line; the bare answer where the
 * format asks for it at once (closed label sets with the format at the `end`).
 */
export function formatDemoAnswer(kind: TaskKind, position: AnswerFormatPosition, example: Example): string {
  const direct = (kind === 'classification' || kind === 'multiple_choice') && position === 'end';
  if (direct) return example.target;
  const finalLine = `The answer is ${example.target}.`;
  return example.rationale ? `${example.rationale}\n${finalLine}` : finalLine;
}

export interface MessageLayout {
  readonly answerFormat: string;
  readonly position: InstructionPosition;
  /** Default `end`. */
  readonly formatPosition?: AnswerFormatPosition;
}

function joinLines(lines: readonly string[]): string {
  return lines.filter((line) => line !== '').join('\n');
}

/**
 * The chat messages for one example. Before: instruction, blank line, `Q: …`, format, `A:`. After: `Q: …`, blank
 * line, instruction, format, `A:`. System: the instruction as the system message, the rest as the user turn. With
 * the format at the `start`, the format line opens the user turn (after a `before` instruction) and no `A:` follows.
 */
export function formatTaskMessages(instruction: string, example: Example, layout: MessageLayout): ChatMessage[] {
  const trimmed = instruction.trim();
  const inSystem = trimmed !== '' && layout.position === 'system';
  const parts = {
    instruction: inSystem ? '' : trimmed,
    question: `Q: ${example.input}`,
    format: layout.answerFormat.trim(),
    after: layout.position === 'after',
  };
  const user = layout.formatPosition === 'start' ? formatFirstTurn(parts) : formatLastTurn(parts);
  const turn: ChatMessage = { role: 'user', content: user };
  return inSystem ? [{ role: 'system', content: trimmed }, turn] : [turn];
}

interface TurnParts {
  /** Empty when there is none or it went to the system message. */
  readonly instruction: string;
  readonly question: string;
  readonly format: string;
  /** The instruction follows the question. */
  readonly after: boolean;
}

/** `[instruction\n\n]Q: …\nformat\nA:`, or `Q: …\n\n[instruction\n]format\nA:` when it comes after. */
function formatLastTurn({ instruction, question, format, after }: TurnParts): string {
  if (instruction !== '' && after) return `${question}\n\n${joinLines([instruction, format, 'A:'])}`;
  const body = joinLines([question, format, 'A:']);
  return instruction === '' ? body : `${instruction}\n\n${body}`;
}

/** `[instruction\n]format\n\nQ: …`, or `format\n\nQ: …\n\ninstruction` when it comes after. */
function formatFirstTurn({ instruction, question, format, after }: TurnParts): string {
  if (instruction !== '' && after) return `${format}\n\n${question}\n\n${instruction}`;
  return `${joinLines([instruction, format])}\n\n${question}`;
}

/** Parses a `--instruction-position` value. */
export function isInstructionPosition(value: string): value is InstructionPosition {
  return (INSTRUCTION_POSITIONS as readonly string[]).includes(value);
}

/** Parses a `--answer-format-position` value. */
export function isAnswerFormatPosition(value: string): value is AnswerFormatPosition {
  return (ANSWER_FORMAT_POSITIONS as readonly string[]).includes(value);
}
