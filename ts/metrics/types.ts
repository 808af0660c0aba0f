/**
 * The metrics report: the same shape everywhere (Rust `MetricsReport`, the native binding, and
 * `opt-native metrics --json`), so field names are snake_case like the JSON users script against.
 */
export interface MetricsReport {
  n: number;
  /** Class names; `confusion` rows follow this order and its last column counts `unknown`. */
  labels: string[];
  /** Whether balanced accuracies are chance-adjusted (0 = chance, 1 = perfect). */
  adjusted: boolean;
  accuracy: number;
  /** Mean recall over the classes present in the true labels; `null` only if adjusted with one class. */
  balanced_accuracy: number | null;
  macro_f1: number;
  per_class: ClassReport[];
  confusion: number[][];
  /** Predictions that could not be mapped to a label; they count as wrong. */
  unknown: number;
  unknown_rate: number;
  /** Up to 10 distinct unparseable predictions, first seen first. */
  unknown_examples: string[];
  /** Mean over condition columns of each column's mean balanced accuracy (`BA_conditions` in OPRO). */
  ba_conditions_macro: number | null;
  ba_conditions_by_column: Record<string, number | null>;
  /** `per_condition[column][value]` */
  per_condition: Record<string, Record<string, ConditionValueReport>>;
  bootstrap: BootstrapInterval | null;
}

export interface ClassReport {
  label: string;
  support: number;
  predicted: number;
  recall: number | null;
}

export interface ConditionValueReport {
  n: number;
  accuracy: number;
  balanced_accuracy: number | null;
  unknown: number;
  /** Confusion counts: rows are true labels, columns are labels then `unknown`. */
  counts: number[][];
}

export interface BootstrapInterval {
  low: number;
  high: number;
  confidence: number;
  resamples: number;
  seed: number;
  std_error: number;
}

/** A label set: names in class order, optional synonyms and negations. */
export interface LabelSetOptions {
  labels: string[];
  /** Extra phrases per label, e.g. `{ SPEECH: ['voice', 'talking'] }`. */
  synonyms?: Record<string, string[]>;
  /** What a negated mention means, e.g. `{ MUSIC: 'SPEECH' }` (NON-X/X pairs and two-label sets pair up by themselves). */
  negations?: Record<string, string>;
}

export interface ScoreOptions {
  /** Chance-adjusted balanced accuracy (scikit-learn `adjusted=True`). */
  adjusted?: boolean;
  /** Bootstrap resamples for a balanced-accuracy interval (0 or absent: none). */
  bootstrap?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** Interval coverage (default 0.95). */
  confidence?: number;
}

export type TableFormat = 'parquet' | 'csv' | 'tsv' | 'jsonl' | 'arrow';

export interface TableMetricsOptions extends ScoreOptions, Partial<LabelSetOptions> {
  labelCol: string;
  predCol: string;
  conditionCols?: string[];
  /** Map free-text predictions ("There is no speech") to labels. */
  normalize?: boolean;
  /** Overrides the format implied by the file extension. */
  format?: TableFormat;
}

/** Rows as class codes: `yPred[i] === labels.length` means `unknown`. */
export interface CodedRows {
  yTrue: Uint32Array;
  yPred: Uint32Array;
  labels: string[];
  conditions?: { name: string; codes: Uint32Array; values: string[] }[];
}
