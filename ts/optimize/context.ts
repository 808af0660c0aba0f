/**
 * What each strategy shows the model: `topk` rebuilds one bounded prompt per step; `chat` extends one
 * conversation. Pure functions of the run's state.
 */
import type { ChatMessage } from '../llm/types.js';
import {
  CHAT_FEEDBACK_PROMPT,
  CHAT_FIRST_PROMPT,
  fenced,
  fillTemplate,
  NO_HISTORY,
  OPTIMIZER_SYSTEM_PROMPT,
  TOPK_META_PROMPT,
  ANSWER_FORMAT,
} from './prompts.js';
import type { OptimizeCandidate } from './types.js';

export interface Framing {
  task: string;
  question: string;
  minimize: boolean;
}

/** How a candidate did, as the model reads it. */
export function resultText(candidate: OptimizeCandidate): string {
  if (candidate.score === null) return candidate.feedback;
  const feedback = candidate.feedback.trim() === '' ? '' : `\nfeedback: ${candidate.feedback.trim()}`;
  return `score: ${formatScore(candidate.score)}${feedback}`;
}

export function formatScore(score: number): string {
  return Number.isInteger(score) ? String(score) : String(Number(score.toPrecision(6)));
}

/** The best `k` distinct scored values, worst first (OPRO's order: the best sits closest to the question). */
export function topScored(history: readonly OptimizeCandidate[], k: number, minimize: boolean): OptimizeCandidate[] {
  const byX = new Map<string, OptimizeCandidate>();
  for (const candidate of history)
    if (candidate.score !== null && !byX.has(candidate.x)) byX.set(candidate.x, candidate);
  const better = (a: OptimizeCandidate, b: OptimizeCandidate) =>
    minimize ? (b.score ?? 0) - (a.score ?? 0) : (a.score ?? 0) - (b.score ?? 0);
  return [...byX.values()].sort(better).slice(-k);
}

export function topkMessages(framing: Framing, history: readonly OptimizeCandidate[], k: number): ChatMessage[] {
  const shown = topScored(history, k, framing.minimize);
  const historyText =
    shown.length === 0
      ? NO_HISTORY
      : shown.map((c) => `score: ${formatScore(c.score ?? 0)}\n${fenced(c.x)}`).join('\n\n');
  const latest = history[history.length - 1];
  const latestText = latest === undefined ? NO_HISTORY : `${fenced(latest.x)}\n${resultText(latest)}`;
  const content = fillTemplate(TOPK_META_PROMPT, {
    task: framing.task,
    direction: framing.minimize ? 'lower is better' : 'higher is better',
    history: historyText,
    latest: latestText,
    question: framing.question,
    format: ANSWER_FORMAT,
  });
  return [
    { role: 'system', content: OPTIMIZER_SYSTEM_PROMPT },
    { role: 'user', content },
  ];
}

export function chatOpening(framing: Framing, start: OptimizeCandidate): ChatMessage[] {
  const content = fillTemplate(CHAT_FIRST_PROMPT, {
    task: framing.task,
    candidate: fenced(start.x),
    result: resultText(start),
    question: framing.question,
    format: ANSWER_FORMAT,
  });
  return [
    { role: 'system', content: OPTIMIZER_SYSTEM_PROMPT },
    { role: 'user', content },
  ];
}

/** The turn pair a chat step adds: the reply that was followed up, and how its x did. */
export function chatTurn(framing: Framing, reply: string, outcome: OptimizeCandidate): ChatMessage[] {
  return [
    { role: 'assistant', content: reply },
    {
      role: 'user',
      content: fillTemplate(CHAT_FEEDBACK_PROMPT, {
        result: resultText(outcome),
        question: framing.question,
        format: ANSWER_FORMAT,
      }),
    },
  ];
}
