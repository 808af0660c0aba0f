// BA_clip and BA_conditions of OPRO's audio reward, from predictions on manifest clips, computed by crates/metrics
// (its `ba_conditions_macro`, through ts/metrics/outcomes.ts).
import type { AudioExample } from '../datasets/audio-manifest.js';
import { conditionReport } from '../metrics/outcomes.js';

export interface ConditionValueScore {
  readonly n: number;
  readonly balancedAccuracy: number;
}

export interface ConditionScores {
  /** Balanced accuracy over all clips (mean recall over the labels present). */
  readonly baClip: number;
  /**
   * BA_conditions: for each condition column, the mean over its values of the balanced accuracy of the clips with
   * that value; then the mean over columns. Null without condition columns.
   */
  readonly baConditions: number | null;
  readonly byColumn: Readonly<Record<string, number>>;
  readonly perValue: Readonly<Record<string, Readonly<Record<string, ConditionValueScore>>>>;
}

/** Scores predictions (null = no usable answer, counted wrong) against the clips' labels, per condition value. */
export function scoreByCondition(
  clips: readonly AudioExample[],
  predictions: readonly (string | null)[],
  conditionColumns: readonly string[],
): ConditionScores {
  if (clips.length !== predictions.length) throw new RangeError('clips and predictions differ in length');
  const columns = conditionColumns.map((name) => ({ name, values: clips.map((clip) => clip.conditions[name] ?? '') }));
  const report = conditionReport(
    clips.map((clip) => clip.target),
    predictions,
    columns,
  );
  const perValue: Record<string, Record<string, ConditionValueScore>> = {};
  const byColumn: Record<string, number> = {};
  for (const { name } of columns) {
    const values = Object.entries(report?.per_condition[name] ?? {});
    perValue[name] = Object.fromEntries(
      values.map(([value, score]) => [value, { n: score.n, balancedAccuracy: score.balanced_accuracy ?? 0 }]),
    );
    const columnScore = report?.ba_conditions_by_column[name];
    if (columnScore !== undefined && columnScore !== null) byColumn[name] = columnScore;
  }
  return {
    baClip: report?.balanced_accuracy ?? 0,
    baConditions: report === null || columns.length === 0 ? null : report.ba_conditions_macro,
    byColumn,
    perValue,
  };
}
