/**
 * Contextual calibration of label scoring (Zhao et al. 2021, "Calibrate Before Use"): a small model prefers some
 * labels whatever the input, so a prompt's raw label scores say little. Score the labels once on content-free inputs
 * under the same prompt, average those label distributions into a prior p_cf, and pick
 * argmax_i p(label_i | x) / p_cf(label_i) (the paper's W = diag(p_cf)^-1, b = 0).
 *
 * Batch calibration (Zhou et al. 2024, "Batch Calibration") takes the prior from the evaluated inputs themselves: the
 * mean label distribution over the batch. It needs no extra calls and no made-up input, and it removes a letter or
 * label bias that a content-free input does not show.
 */

/** Inputs that carry no content; the paper averages the label distributions of "N/A", "" and "[MASK]". */
export const CONTENT_FREE_INPUTS: readonly string[] = ['N/A', '', '[MASK]'];

export type CalibrationMode = 'none' | 'contextual' | 'batch';

export const CALIBRATION_MODES: readonly CalibrationMode[] = ['none', 'contextual', 'batch'];

/**
 * Measured default (docs/quality.md): on seven BBH tasks with the 0.5B scorer, batch calibration was never below raw
 * scoring and lifted it by 0.07 on average; contextual lifted some tasks more but lost 0.08 on one.
 */
export const DEFAULT_SCORE_CALIBRATION: CalibrationMode = 'batch';

/** Softmax of log-probabilities (summed choice log-probs) into a distribution over the choices. */
export function choiceDistribution(logprobs: readonly number[]): number[] {
  const max = Math.max(...logprobs);
  const weights = logprobs.map((logprob) => Math.exp(logprob - max));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => weight / total);
}

/** The mean of the label distributions of scored inputs: content-free ones (contextual) or the batch (batch). */
export function meanDistribution(rows: readonly (readonly number[])[]): number[] {
  if (rows.length === 0) throw new Error('a label prior needs at least one scored input');
  const distributions = rows.map(choiceDistribution);
  const width = distributions[0]?.length ?? 0;
  return Array.from(
    { length: width },
    (_, index) => distributions.reduce((sum, row) => sum + (row[index] ?? 0), 0) / distributions.length,
  );
}

/** The calibrated distribution p(label | x) / p_cf(label), renormalized. */
export function calibratedDistribution(logprobs: readonly number[], prior: readonly number[]): number[] {
  const raw = choiceDistribution(logprobs);
  // A prior of 0 would divide by zero; clamp so that such a label still ranks by its raw probability.
  const scaled = raw.map((probability, index) => probability / Math.max(prior[index] ?? 1, 1e-12));
  const total = scaled.reduce((sum, value) => sum + value, 0);
  return scaled.map((value) => value / total);
}

/** Index of the largest value (among `allowed` indices when given); the first on ties. */
export function argmax(values: readonly number[], allowed?: readonly number[]): number {
  const candidates = allowed && allowed.length > 0 ? allowed : values.map((_, index) => index);
  let best = candidates[0] ?? 0;
  for (const index of candidates) {
    if ((values[index] ?? -Infinity) > (values[best] ?? -Infinity)) best = index;
  }
  return best;
}
