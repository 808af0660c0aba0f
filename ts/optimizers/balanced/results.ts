import { z } from 'zod';

/** Version of the results file; bump on any breaking change, the report refuses other versions. */
export const BALANCED_RESULTS_VERSION = 1;
export const BALANCED_RESULTS_KIND = 'opt-native/balanced-run';

const summary = z.object({
  accuracy: z.number().min(0).max(1),
  meanCompletionTokens: z.number().min(0),
  examples: z.number().int().min(0),
  failures: z.number().int().min(1).optional(),
});

const roleUsage = z.object({
  calls: z.number().int().min(0),
  promptTokens: z.number().min(0),
  completionTokens: z.number().min(0),
  cost: z.number().min(0),
  cacheHits: z.number().int().min(0),
});

export const epochRecordSchema = z.object({
  epoch: z.number().int().min(1),
  focus: z.enum(['accuracy', 'efficiency']),
  promptBefore: z.string(),
  /** The rewrite the update step proposed; null when its reply held no prompt. */
  candidatePrompt: z.string().nullable(),
  /** The prompt kept after this epoch (the candidate, or the previous one when reverted or missing). */
  prompt: z.string(),
  batch: summary,
  critiques: z.array(z.string()),
  feedback: z.string(),
  /** The kept prompt on the evaluation sample: the per-epoch accuracy and tokens. */
  evaluation: summary,
  validation: z.object({ previous: summary, candidate: summary }).nullable(),
  reverted: z.boolean(),
  revertReason: z.string().nullable(),
});

export const balancedRunResultSchema = z.object({
  kind: z.literal(BALANCED_RESULTS_KIND),
  version: z.literal(BALANCED_RESULTS_VERSION),
  task: z.string(),
  model: z.string(),
  optimizerModel: z.string(),
  weights: z.object({ accuracy: z.number().min(0).max(1), efficiency: z.number().min(0).max(1) }),
  settings: z.object({
    batchSize: z.number().int().min(1),
    maxEpochs: z.number().int().min(0),
    numThreads: z.number().int().min(1),
    evalSamples: z.number().int().min(1),
    runValidation: z.boolean(),
    seed: z.number().int(),
    maxTokens: z.number().int().min(1),
    thinkingBudget: z.number().int().min(1).nullable(),
    /** null: the provider's default temperature. */
    optimizerTemperature: z.number().min(0).nullable(),
    optimizerMaxTokens: z.number().int().min(1),
  }),
  initialPrompt: z.string(),
  finalPrompt: z.string(),
  initial: summary,
  final: summary,
  epochs: z.array(epochRecordSchema),
  usage: z.object({ task: roleUsage, optimizer: roleUsage, total: roleUsage }),
  /**
   * Why the run ended: all epochs done, the budget ran out, it was aborted, or a model call failed for good; the
   * epochs done so far are kept in every case.
   */
  stopReason: z.enum(['completed', 'budget', 'aborted', 'error']),
  /** The error that ended the run early, for the budget, abort and error stops; null when completed. */
  stopMessage: z.string().nullable(),
  startedAt: z.string(),
  wallTimeMs: z.number().min(0),
});

export type EpochRecord = z.infer<typeof epochRecordSchema>;
export type BalancedRunResult = z.infer<typeof balancedRunResultSchema>;

/** The results file name of one run: `balanced-acc0.30-eff0.70.json`. */
export function resultsFileName(weights: { accuracy: number; efficiency: number }): string {
  return `balanced-acc${weights.accuracy.toFixed(2)}-eff${weights.efficiency.toFixed(2)}.json`;
}
