// Scores of per-example outcomes (a target, and whether the answer was right or which label it named), computed by
// crates/metrics through the addon: the task scores, the bootstrap and OPRO's audio reward all read accuracy,
// balanced accuracy and BA over conditions from here, so each has one implementation.
import { balancedAccuracy as nativeBalancedAccuracy, encodeLabels, metricsFromCodes } from './index.js';
import type { MetricsReport } from './types.js';

/** The classes of `targets` in order of first appearance. */
function classesOf(targets: readonly string[]): string[] {
  return [...new Set(targets)];
}

/**
 * Outcomes as class codes: the true class of each target, and that class again when the answer was right, else
 * `unknown` (balanced accuracy and accuracy only ask whether each answer was right).
 */
function outcomeCodes(targets: readonly string[], correct: readonly boolean[]) {
  const labels = classesOf(targets);
  const yTrue = encodeLabels(targets, labels);
  const yPred = yTrue.map((code, index) => (correct[index] ? code : labels.length));
  return { labels, yTrue, yPred };
}

/** Fraction of correct answers (crates/metrics `accuracy`); 0 for no examples. */
export function accuracyOfOutcomes(correct: readonly boolean[]): number {
  if (correct.length === 0) return 0;
  // One class: a right answer is that class, a wrong one unknown.
  const yTrue = new Uint32Array(correct.length);
  const yPred = Uint32Array.from(correct, (right) => (right ? 0 : 1));
  return metricsFromCodes({ yTrue, yPred, labels: ['target'] }).accuracy;
}

/**
 * Balanced accuracy (crates/metrics, scikit-learn's `balanced_accuracy_score`): the mean over the classes present
 * among the targets of the fraction of that class answered right; 0 for no examples.
 */
export function balancedAccuracyOfOutcomes(targets: readonly string[], correct: readonly boolean[]): number {
  if (targets.length !== correct.length) throw new RangeError('targets and correct differ in length');
  if (targets.length === 0) return 0;
  const { labels, yTrue, yPred } = outcomeCodes(targets, correct);
  return nativeBalancedAccuracy(yTrue, yPred, labels.length) ?? 0;
}

/** One condition column: each example's value. */
export interface ConditionColumn {
  readonly name: string;
  readonly values: readonly string[];
}

/**
 * The crates/metrics report of predictions (null = no usable answer, counted wrong) against targets, with balanced
 * accuracy per condition value, per column and over columns (`ba_conditions_macro`). Null for no examples.
 */
export function conditionReport(
  targets: readonly string[],
  predictions: readonly (string | null)[],
  columns: readonly ConditionColumn[],
): MetricsReport | null {
  if (targets.length !== predictions.length) throw new RangeError('targets and predictions differ in length');
  if (targets.length === 0) return null;
  const labels = classesOf(targets);
  const conditions = columns.map((column) => {
    const values = [...new Set(column.values)];
    return { name: column.name, codes: encodeLabels(column.values, values), values };
  });
  const codes = new Map(labels.map((label, code) => [label, code]));
  // No answer, or a label outside the targets' classes, is wrong either way: it counts as unknown.
  const yPred = Uint32Array.from(predictions, (prediction) =>
    prediction === null ? labels.length : (codes.get(prediction) ?? labels.length),
  );
  const yTrue = Uint32Array.from(targets, (target) => codes.get(target) as number);
  return metricsFromCodes({ yTrue, yPred, labels, conditions });
}
