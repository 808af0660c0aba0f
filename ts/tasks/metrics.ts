/** Fraction of correct predictions; 0 for no examples. */
export function accuracy(correct: readonly boolean[]): number {
  if (correct.length === 0) return 0;
  return correct.filter(Boolean).length / correct.length;
}

/**
 * Balanced accuracy: the mean over target classes of the fraction of that class predicted correctly (recall), as
 * sklearn's balanced_accuracy_score. Classes are those present among the targets; 0 for no examples.
 */
export function balancedAccuracy(targets: readonly string[], correct: readonly boolean[]): number {
  if (targets.length !== correct.length) throw new RangeError('targets and correct differ in length');
  const perClass = new Map<string, { hits: number; total: number }>();
  targets.forEach((target, index) => {
    const entry = perClass.get(target) ?? { hits: 0, total: 0 };
    entry.total += 1;
    if (correct[index]) entry.hits += 1;
    perClass.set(target, entry);
  });
  if (perClass.size === 0) return 0;
  let recallSum = 0;
  for (const { hits, total } of perClass.values()) recallSum += hits / total;
  return recallSum / perClass.size;
}
