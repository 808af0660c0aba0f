/** One labelled example of a text task. `id` is stable across runs (file + position), so predictions can be joined. */
export interface Example {
  readonly id: string;
  readonly input: string;
  readonly target: string;
  /** The worked solution that leads to `target`, where the dataset has one (GSM8K); demonstrations show it. */
  readonly rationale?: string;
}

export type SplitName = 'train' | 'validation' | 'test';

export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test'];

/** How a dataset's answers are compared with its targets (see ts/tasks/answers.ts). */
export type DatasetMetricName = 'exact_match' | 'numeric_match';

export interface DatasetSplits {
  readonly name: string;
  readonly defaultMetric: DatasetMetricName;
  readonly train: readonly Example[];
  readonly validation: readonly Example[];
  readonly test: readonly Example[];
}

export interface SplitSizes {
  train?: number;
  validation?: number;
  test?: number;
}

export interface DatasetLoadOptions {
  /** Seed of the deterministic shuffle that assigns examples to splits. */
  seed?: number;
  /** Number of examples per split; each loader documents its defaults. */
  sizes?: SplitSizes;
  /** 5 examples per split: for smoke tests and CI. Wins over `sizes`. */
  testMode?: boolean;
  /** Folder holding gsm8k/ and bbh/; defaults to OPT_NATIVE_DATASETS or <repo>/../shared/datasets. */
  datasetsRoot?: string;
  /** Field names for `jsonl:` datasets. */
  inputField?: string;
  targetField?: string;
  idField?: string;
}

/** Loads one dataset family; `argument` is what follows the prefix (`navigate` in `bbh:navigate`). */
export type DatasetLoader = (argument: string, options: DatasetLoadOptions) => Promise<DatasetSplits>;

export const DEFAULT_SPLIT_SEED = 0;
export const TEST_MODE_SPLIT_SIZE = 5;
