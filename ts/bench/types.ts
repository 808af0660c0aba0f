import type { OptimizationUsage, StopReason, UsableCandidates } from '../optimizers/contract.js';
import type { OptimizerName } from '../optimizers/registry.js';

/** A dataset slice of a manifest: a loader spec, optionally one split of it and a seeded count. */
export interface LoaderRef {
  readonly loader: string;
  readonly split?: 'train' | 'validation' | 'test';
  readonly count?: number;
  readonly dataset_name?: string;
}

export type DatasetRef = string | LoaderRef;

export interface SplitRefs {
  readonly train: LoaderRef;
  readonly validation?: LoaderRef;
  readonly test?: LoaderRef;
}

export interface ModelParameters {
  readonly temperature?: number;
  readonly max_tokens?: number;
  readonly top_p?: number;
  readonly top_k?: number;
  readonly seed?: number;
}

export type MetricName = 'exact_match' | 'numeric_match';

export type { OptimizerName };

export interface PromptMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** One benchmark task after manifest expansion: everything a worker needs, JSON-serializable. */
export interface BenchTaskSpec {
  /** Unique in the run; stable for a given manifest (position + names). */
  readonly taskId: string;
  readonly datasetName: string;
  readonly dataset: DatasetRef;
  readonly datasets?: SplitRefs;
  readonly optimizer: OptimizerName;
  readonly model: string;
  readonly optimizerModel: string;
  readonly modelParameters: ModelParameters;
  readonly optimizerParams: Readonly<Record<string, unknown>>;
  readonly optimizerPromptParams: Readonly<Record<string, unknown>>;
  /** The first one is optimized; all are reported on the final evaluation. Empty: the dataset's own metric. */
  readonly metrics: readonly MetricName[];
  readonly prompt?: readonly PromptMessage[];
  readonly testMode: boolean;
  readonly seed: number;
}

export type TaskStatus = 'pending' | 'running' | 'succeeded' | 'failed';

export interface FinalEvaluation {
  readonly split: 'test' | 'validation';
  readonly examples: number;
  readonly score: number;
  /** Per reported metric: the mean over the examples. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** The baseline and the best prompt on the same held-out examples, with paired percentile bootstrap intervals. */
export interface HeldoutComparison {
  readonly baseline: number;
  readonly best: number;
  readonly gain: number;
  readonly baselineInterval: readonly [number, number];
  readonly bestInterval: readonly [number, number];
  readonly gainInterval: readonly [number, number];
  readonly resamples: number;
  readonly confidence: number;
}

/** What a finished task hands back (stored in SQLite, or as the BullMQ job's return value). */
export interface BenchTaskResult {
  readonly taskId: string;
  readonly optimizer: OptimizerName;
  readonly dataset: string;
  readonly model: string;
  readonly bestPrompt: string;
  /** The first scored candidate (usually the initial prompt), on the valset. */
  readonly initialScore: number | null;
  /** The best prompt's score on the valset. */
  readonly score: number;
  readonly final: FinalEvaluation | null;
  /** The baseline (first scored) prompt on the same held-out split; absent from results stored before it was kept. */
  readonly baselineFinal?: FinalEvaluation | null;
  readonly heldout?: HeldoutComparison | null;
  readonly usage: OptimizationUsage;
  readonly wallTimeMs: number;
  readonly stopReason: StopReason;
  readonly candidates: number;
  /** The optimizer model's candidates and how many were usable (absent from results stored before it was kept). */
  readonly usableCandidates?: UsableCandidates;
}
