import type { Focus } from './focus.js';

/** The two numbers an evaluation is judged on. */
export interface EvaluationSummary {
  /** Fraction of examples answered correctly, in [0, 1]. */
  readonly accuracy: number;
  /** Mean completion tokens per answer, as the prompted model's usage reports them. */
  readonly meanCompletionTokens: number;
  readonly examples: number;
  /** Examples whose call failed (counted wrong, left out of the token mean); absent when none did. */
  readonly failures?: number;
}

export interface RevertDecision {
  readonly revert: boolean;
  readonly reason: string;
}

/**
 * Whether a candidate prompt did worse than the prompt it replaced, on the validation split. Accuracy comes first
 * for both focuses: any drop reverts. An efficiency step whose answers got no shorter at unchanged accuracy also
 * reverts, since it bought nothing (ties on both keep the candidate, as TextGrad does).
 */
export function decideRevert(previous: EvaluationSummary, candidate: EvaluationSummary, focus: Focus): RevertDecision {
  if (candidate.accuracy < previous.accuracy) {
    return {
      revert: true,
      reason: `validation accuracy fell from ${formatPercent(previous.accuracy)} to ${formatPercent(candidate.accuracy)}`,
    };
  }
  if (
    focus === 'efficiency' &&
    candidate.accuracy === previous.accuracy &&
    candidate.meanCompletionTokens > previous.meanCompletionTokens
  ) {
    return {
      revert: true,
      reason:
        `efficiency step made answers longer (${previous.meanCompletionTokens.toFixed(1)} → ` +
        `${candidate.meanCompletionTokens.toFixed(1)} tokens) at unchanged accuracy`,
    };
  }
  return { revert: false, reason: 'validation did not get worse' };
}

function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
