// BA_clip and BA_conditions of OPRO's audio reward, from predictions on manifest clips.
import type { AudioExample } from '../datasets/audio-manifest.js';
import { balancedAccuracy } from '../tasks/metrics.js';

export interface ConditionValueScore {
  readonly n: number;
  readonly balancedAccuracy: number;
}

export interface ConditionScores {
  /** Balanced accuracy over all clips (mean recall over the labels present). */
  readonly baClip: number;
  /**
   * BA_conditions: for each condition column, the mean over its values of the balanced accuracy of the clips with
   * that value; then the mean over columns. Null without condition columns. Same definition as the Rust metrics
   * crate's `ba_conditions_macro`.
   */
  readonly baConditions: number | null;
  readonly byColumn: Readonly<Record<string, number>>;
  readonly perValue: Readonly<Record<string, Readonly<Record<string, ConditionValueScore>>>>;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** Scores predictions (null = no usable answer, counted wrong) against the clips' labels, per condition value. */
export function scoreByCondition(
  clips: readonly AudioExample[],
  predictions: readonly (string | null)[],
  conditionColumns: readonly string[],
): ConditionScores {
  if (clips.length !== predictions.length) throw new RangeError('clips and predictions differ in length');
  const targets = clips.map((clip) => clip.target);
  const correct = clips.map((clip, index) => predictions[index] === clip.target);
  const byColumn: Record<string, number> = {};
  const perValue: Record<string, Record<string, ConditionValueScore>> = {};
  for (const column of conditionColumns) {
    const groups = new Map<string, number[]>();
    clips.forEach((clip, index) => {
      const value = clip.conditions[column] ?? '';
      groups.set(value, [...(groups.get(value) ?? []), index]);
    });
    const values: Record<string, ConditionValueScore> = {};
    for (const [value, members] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      values[value] = {
        n: members.length,
        balancedAccuracy: balancedAccuracy(
          members.map((index) => targets[index] as string),
          members.map((index) => correct[index] as boolean),
        ),
      };
    }
    perValue[column] = values;
    if (groups.size > 0) byColumn[column] = mean(Object.values(values).map((score) => score.balancedAccuracy));
  }
  const columnScores = Object.values(byColumn);
  return {
    baClip: balancedAccuracy(targets, correct),
    baConditions: columnScores.length > 0 ? mean(columnScores) : null,
    byColumn,
    perValue,
  };
}
