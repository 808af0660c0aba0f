/**
 * The objective `f(x)`: sync or async, returning `[score, feedback]` or `{ score, feedback }`. What it returns is
 * checked here, so that a NaN or a malformed value becomes a coded E_EVALUATOR failure (feedback for the model),
 * never a corrupt best score.
 */
import { OptNativeError } from '../errors.js';

export interface Evaluation {
  readonly score: number;
  /** What the optimizer model reads about this x. */
  readonly feedback: string;
}

export type ObjectiveValue = readonly [number, string?] | { score: number; feedback?: string };

export type Objective = (x: string, signal?: AbortSignal) => ObjectiveValue | Promise<ObjectiveValue>;

export function normalizeEvaluation(value: unknown): Evaluation {
  let score: unknown;
  let feedback: unknown;
  if (Array.isArray(value)) [score, feedback] = value as unknown[];
  else if (value !== null && typeof value === 'object') ({ score, feedback } = value as Record<string, unknown>);
  else throw new OptNativeError('E_EVALUATOR', `the objective returned ${describe(value)}, not [score, feedback]`);
  if (typeof score !== 'number' || !Number.isFinite(score))
    throw new OptNativeError('E_EVALUATOR', `the objective returned the score ${describe(score)}, not a finite number`);
  if (feedback !== undefined && feedback !== null && typeof feedback !== 'string')
    throw new OptNativeError('E_EVALUATOR', `the objective returned feedback ${describe(feedback)}, not a string`);
  return { score, feedback: feedback ?? '' };
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Runs `f` and normalizes what it returns; a throw is wrapped as E_EVALUATOR (abort and budget pass through). */
export async function evaluateObjective(f: Objective, x: string, signal?: AbortSignal): Promise<Evaluation> {
  let value: unknown;
  try {
    value = await f(x, signal);
  } catch (error) {
    if (error instanceof OptNativeError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new OptNativeError('E_EVALUATOR', `the objective threw: ${message}`, { cause: error });
  }
  return normalizeEvaluation(value);
}
