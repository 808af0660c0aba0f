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

/** The line the evaluator adds after every question of a task of this kind. */
export function answerFormatFor(kind: TaskKind, labels: readonly string[] | undefined): string {
  if (kind === 'classification' && labels && labels.length > 0) {
    return `Answer with one of: ${labels.join(', ')}.`;
  }
  if (kind === 'multiple_choice') return MULTIPLE_CHOICE_FORMAT;
  if (kind === 'numeric') return NUMERIC_FORMAT;
  return FREE_FORM_FORMAT;
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
  if (layout.formatPosition === 'start') return formatFirstMessages(instruction.trim(), example, layout);
  const trimmed = instruction.trim();
  const format = layout.answerFormat.trim();
  const question = `Q: ${example.input}`;
  if (trimmed !== '' && layout.position === 'system') {
    return [
      { role: 'system', content: trimmed },
      { role: 'user', content: joinLines([question, format, 'A:']) },
    ];
  }
  if (trimmed !== '' && layout.position === 'after') {
    return [{ role: 'user', content: `${question}\n\n${joinLines([trimmed, format, 'A:'])}` }];
  }
  const body = joinLines([question, format, 'A:']);
  return [{ role: 'user', content: trimmed === '' ? body : `${trimmed}\n\n${body}` }];
}

/** Format first: `[instruction]\nformat\n\nQ: …` (before), `format\n\nQ: …\n\ninstruction` (after). */
function formatFirstMessages(instruction: string, example: Example, layout: MessageLayout): ChatMessage[] {
  const format = layout.answerFormat.trim();
  const question = `Q: ${example.input}`;
  const opening = (lines: readonly string[]) => `${joinLines(lines)}\n\n${question}`;
  if (instruction !== '' && layout.position === 'system') {
    return [
      { role: 'system', content: instruction },
      { role: 'user', content: opening([format]) },
    ];
  }
  if (instruction !== '' && layout.position === 'after') {
    return [{ role: 'user', content: `${opening([format])}\n\n${instruction}` }];
  }
  return [{ role: 'user', content: opening([instruction, format]) }];
}

/** Parses a `--instruction-position` value. */
export function isInstructionPosition(value: string): value is InstructionPosition {
  return (INSTRUCTION_POSITIONS as readonly string[]).includes(value);
}

/** Parses a `--answer-format-position` value. */
export function isAnswerFormatPosition(value: string): value is AnswerFormatPosition {
  return (ANSWER_FORMAT_POSITIONS as readonly string[]).includes(value);
}
