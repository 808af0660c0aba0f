/**
 * The meta-prompts of the three TextGrad steps (loss → gradient → update), as named constants, and the small
 * functions that fill them in. Wording follows TextGrad's (Yuksekgonul et al., 2024) textual-gradient prompts,
 * specialized to the two focuses of the balanced optimizer.
 */
import type { ChatMessage } from '../../llm/types.js';
import type { Focus } from './focus.js';

/** The starting prompt when the user gives none: reasoning plus the answer cue the task metrics look for. */
export const DEFAULT_BALANCED_PROMPT =
  'You are a careful problem solver. Think through the problem step by step, then finish with a final line of ' +
  'the form "The answer is X".';

export const IMPROVED_PROMPT_START_TAG = '<IMPROVED_VARIABLE>';
export const IMPROVED_PROMPT_END_TAG = '</IMPROVED_VARIABLE>';

/** Loss step: the optimizer model critiques one answer of the prompted model against the epoch's focus. */
export const LOSS_SYSTEM_PROMPT =
  'You are a meticulous evaluator of answers produced by a language model that follows a system prompt. ' +
  'You critique; you never solve the problem again yourself beyond what the critique needs, and you never ' +
  'rewrite the system prompt. Be concise and specific.';

export const ACCURACY_LOSS_INSTRUCTION =
  'Objective: CORRECTNESS. Judge whether the response reaches the correct final answer in the expected format. ' +
  'If it is wrong, point to the first step where the reasoning or the format went wrong and why. ' +
  'If it is right, say which parts of the response were essential to getting it right.';

export const EFFICIENCY_LOSS_INSTRUCTION =
  'Objective: TOKEN EFFICIENCY WHILE STAYING CORRECT. Judge how many of the response tokens were needed to reach ' +
  'the correct final answer. Name the parts that could be cut or shortened (restated questions, filler, ' +
  'redundant checks, verbose formatting) and the parts that must stay for the answer to remain correct. ' +
  'If the response is wrong, say so first: a shorter wrong answer is not an improvement.';

/** Gradient step: turn the batch's critiques into feedback on the system prompt, without rewriting it. */
export const GRADIENT_SYSTEM_PROMPT =
  'You are part of an optimization system that improves a system prompt (the variable) given to a language ' +
  'model. You receive the current system prompt and critiques of the answers it produced on a batch of ' +
  'problems. Give feedback on how the system prompt should change to improve the objective: what to add, ' +
  'remove or reword, and why, tied to the critiques. Do NOT write the new system prompt; give feedback only, ' +
  'as a short list of concrete points.';

export const ACCURACY_GRADIENT_OBJECTIVE =
  'Objective: more problems answered correctly, in the answer format the task expects.';

export const EFFICIENCY_GRADIENT_OBJECTIVE =
  'Objective: fewer completion tokens per answer while every answer that was correct stays correct.';

/** Update step: rewrite the system prompt from the feedback, under the constraints (token budget included). */
export const UPDATE_SYSTEM_PROMPT =
  'You are part of an optimization system that improves a system prompt (the variable) given to a language ' +
  'model. You receive the current system prompt, feedback on it, and constraints. Write an improved system ' +
  'prompt that acts on the feedback and respects every constraint. Keep what already works; keep any answer-' +
  'format instruction the task needs. Reply with the improved system prompt only, between ' +
  `${IMPROVED_PROMPT_START_TAG} and ${IMPROVED_PROMPT_END_TAG}, and nothing else inside the tags.`;

/** Fraction of the current mean answer length an efficiency epoch asks the new prompt to aim for. */
export const EFFICIENCY_TOKEN_TARGET_RATIO = 0.8;

export interface LossInput {
  readonly focus: Focus;
  readonly systemPrompt: string;
  readonly question: string;
  readonly response: string;
  readonly expectedAnswer: string;
  readonly judgedCorrect: boolean;
  readonly completionTokens: number;
}

export function lossMessages(input: LossInput): ChatMessage[] {
  const instruction = input.focus === 'accuracy' ? ACCURACY_LOSS_INSTRUCTION : EFFICIENCY_LOSS_INSTRUCTION;
  const content = [
    instruction,
    `<SYSTEM_PROMPT>\n${input.systemPrompt}\n</SYSTEM_PROMPT>`,
    `<QUESTION>\n${input.question}\n</QUESTION>`,
    `<RESPONSE completion_tokens="${input.completionTokens}">\n${input.response}\n</RESPONSE>`,
    `<EXPECTED_ANSWER>\n${input.expectedAnswer}\n</EXPECTED_ANSWER>`,
    `The task's metric judged this response ${input.judgedCorrect ? 'CORRECT' : 'INCORRECT'}.`,
  ].join('\n\n');
  return [
    { role: 'system', content: LOSS_SYSTEM_PROMPT },
    { role: 'user', content },
  ];
}

export interface GradientInput {
  readonly focus: Focus;
  readonly systemPrompt: string;
  readonly critiques: readonly string[];
  readonly batchAccuracy: number;
  readonly batchMeanCompletionTokens: number;
}

export function gradientMessages(input: GradientInput): ChatMessage[] {
  const objective = input.focus === 'accuracy' ? ACCURACY_GRADIENT_OBJECTIVE : EFFICIENCY_GRADIENT_OBJECTIVE;
  const critiques = input.critiques.map(
    (critique, index) => `<CRITIQUE index="${index + 1}">\n${critique}\n</CRITIQUE>`,
  );
  const content = [
    objective,
    `<VARIABLE>\n${input.systemPrompt}\n</VARIABLE>`,
    `On this batch: ${formatPercent(input.batchAccuracy)} correct, ` +
      `${input.batchMeanCompletionTokens.toFixed(1)} completion tokens per answer on average.`,
    `<LM_OUTPUT_CRITIQUES>\n${critiques.join('\n')}\n</LM_OUTPUT_CRITIQUES>`,
  ].join('\n\n');
  return [
    { role: 'system', content: GRADIENT_SYSTEM_PROMPT },
    { role: 'user', content },
  ];
}

export interface UpdateInput {
  readonly focus: Focus;
  readonly systemPrompt: string;
  readonly feedback: string;
  /** Mean completion tokens per answer under the current prompt (the token budget is set from it). */
  readonly currentMeanCompletionTokens: number;
}

/** The constraints of the update step; the token budget depends on the focus. */
export function updateConstraints(focus: Focus, currentMeanCompletionTokens: number): string[] {
  const current = Math.round(currentMeanCompletionTokens);
  const tokenBudget =
    focus === 'efficiency'
      ? `Token budget: answers produced under the new prompt should average at most ` +
        `${Math.max(1, Math.round(currentMeanCompletionTokens * EFFICIENCY_TOKEN_TARGET_RATIO))} completion tokens ` +
        `(now ${current}), without losing correct answers.`
      : `Token budget: answers produced under the new prompt should not average more than ${current} completion ` +
        `tokens (the current mean); spend extra tokens only where they fix wrong answers.`;
  return [
    tokenBudget,
    'The new prompt must keep the final-answer format the task expects.',
    'The new prompt must be self-contained: no references to the feedback, the critiques or this optimization.',
  ];
}

export function updateMessages(input: UpdateInput): ChatMessage[] {
  const constraints = updateConstraints(input.focus, input.currentMeanCompletionTokens)
    .map((constraint, index) => `${index + 1}. ${constraint}`)
    .join('\n');
  const content = [
    `<VARIABLE>\n${input.systemPrompt}\n</VARIABLE>`,
    `<FEEDBACK>\n${input.feedback}\n</FEEDBACK>`,
    `<CONSTRAINTS>\n${constraints}\n</CONSTRAINTS>`,
    `Reply with the improved system prompt between ${IMPROVED_PROMPT_START_TAG} and ${IMPROVED_PROMPT_END_TAG}.`,
  ].join('\n\n');
  return [
    { role: 'system', content: UPDATE_SYSTEM_PROMPT },
    { role: 'user', content },
  ];
}

/** The improved prompt between the tags (the last pair, trimmed), or null when the reply has none or it is empty. */
export function parseImprovedPrompt(reply: string): string | null {
  const end = reply.lastIndexOf(IMPROVED_PROMPT_END_TAG);
  if (end < 0) return null;
  const start = reply.lastIndexOf(IMPROVED_PROMPT_START_TAG, end);
  if (start < 0) return null;
  const prompt = reply.slice(start + IMPROVED_PROMPT_START_TAG.length, end).trim();
  return prompt === '' ? null : prompt;
}

function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
