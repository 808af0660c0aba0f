/** The evaluation printout's numbers: mean score, exact matches, reasonable alternatives, lenient accuracy, κ. */
import { pairedBootstrap, pairedMeanBootstrap, type PairedComparison } from '../../tasks/bootstrap.js';
import { accuracy } from '../../tasks/metrics.js';
import { cohenKappa, type ConstantActionScore, type EpisodeOutcome } from '../../tasks/navigation/index.js';
import type { ScoredState } from './evaluate.js';

export interface StateSummary {
  readonly states: number;
  readonly meanScore: number;
  readonly exact: number;
  readonly reasonable: number;
  /** Exact or reasonable: the original's "Accuracy". */
  readonly lenientAccuracy: number;
  /** Cohen's κ between the assessor and the planner judge on the non-exact states, when both ran. */
  readonly kappa: { readonly value: number; readonly judged: number } | null;
}

export function summarizeStates(states: readonly ScoredState[]): StateSummary {
  const n = states.length;
  const exact = states.filter((state) => state.exact).length;
  const reasonable = states.filter((state) => state.verdict === 'reasonable').length;
  const pairs = states.filter((state) => state.verdict !== null && state.secondVerdict != null);
  const kappa =
    pairs.length === 0
      ? null
      : {
          value: cohenKappa(
            pairs.map((state) => state.verdict === 'reasonable'),
            pairs.map((state) => state.secondVerdict === 'reasonable'),
          ),
          judged: pairs.length,
        };
  return {
    states: n,
    meanScore: n === 0 ? 0 : states.reduce((sum, state) => sum + state.score, 0) / n,
    exact,
    reasonable,
    lenientAccuracy: n === 0 ? 0 : (exact + reasonable) / n,
    kappa,
  };
}

/** Paired bootstrap (95%) of lenient accuracy, before → after, on the same held-out states. */
export function lenientGain(
  before: readonly ScoredState[],
  after: readonly ScoredState[],
  seed: number,
): PairedComparison {
  const ids = before.map((state) => state.id);
  return pairedBootstrap(
    { targets: ids, correct: before.map((state) => state.score > 0) },
    { targets: ids, correct: after.map((state) => state.score > 0) },
    (_targets, correct) => accuracy(correct),
    { seed },
  );
}

/** Paired bootstrap (95%) of the mean score of `candidate` against `reference` on the same held-out states. */
export function meanScoreGain(
  reference: readonly ScoredState[],
  candidate: readonly ScoredState[],
  seed: number,
): PairedComparison {
  return pairedMeanBootstrap(
    reference.map((state) => state.score),
    candidate.map((state) => state.score),
    { seed },
  );
}

const f3 = (value: number) => value.toFixed(3);
const signed = (value: number) => `${value >= 0 ? '+' : ''}${f3(value)}`;

/** `  Mean score against the teacher's zero-shot 0.490: student + adapter 0.570, +0.080 [0.000, +0.160]`. */
export function referenceGainLine(reference: string, agent: string, comparison: PairedComparison): string {
  const { baseline, candidate, gain, gainInterval } = comparison;
  return (
    `  Mean score against ${reference} ${f3(baseline)}: ${agent} ${f3(candidate)}, ${signed(gain)} ` +
    `(95% paired bootstrap [${signed(gainInterval.low)}, ${signed(gainInterval.high)}])`
  );
}

export function summaryLines(label: string, summary: StateSummary): string[] {
  const rest = summary.states - summary.exact;
  const lenient = summary.exact + summary.reasonable;
  const lines = [
    `${label} on ${summary.states} held-out states:`,
    `  Mean score ${f3(summary.meanScore)}`,
    `  Exact matches ${summary.exact}/${summary.states}`,
    `  Assessor-reasonable among the rest ${summary.reasonable}/${rest}`,
    `  Accuracy ${f3(summary.lenientAccuracy)} (${lenient}/${summary.states})`,
  ];
  if (summary.kappa) {
    lines.push(
      `  Cohen's kappa (assessor vs planner) ${f3(summary.kappa.value)} on ${summary.kappa.judged} judged states`,
    );
  }
  return lines;
}

export function episodeLine(outcomes: readonly EpisodeOutcome[], maxSteps: number): string {
  const successes = outcomes.filter((outcome) => outcome.success).length;
  return `  Episode success ${successes}/${outcomes.length} on held-out seeds (closed loop, at most ${maxSteps} steps)`;
}

export function gainLine(comparison: PairedComparison): string {
  const { baseline, candidate, gain, gainInterval } = comparison;
  return (
    `  Lenient accuracy ${f3(baseline)} → ${f3(candidate)}, gain ${gain >= 0 ? '+' : ''}${f3(gain)} ` +
    `(95% paired bootstrap [${f3(gainInterval.low)}, ${f3(gainInterval.high)}])`
  );
}

/** The reference an agent must clear: one action on every held-out state, graded by the planner judge. */
export function constantActionLines(constant: ConstantActionScore, states: number): string[] {
  return [
    `Best constant action (${constant.action} everywhere, planner judge) on ${states} held-out states:`,
    `  Mean score ${f3(constant.meanScore)}`,
    `  Exact matches ${constant.exact}/${states}`,
  ];
}
