/**
 * MIPROv2's settings (DSPy's `MIPROv2(...)` and `compile(...)` arguments) and how the `auto` presets turn them into
 * the number of candidates, trials and the validation sample, as dspy/teleprompt/mipro_optimizer_v2.py does.
 */
import { z } from 'zod';
import { OptNativeError } from '../../errors.js';
import { baseConfigShape } from '../engine/config.js';

/** DSPy's AUTO_RUN_SETTINGS: candidates per variable and the size of the validation sample. */
export const AUTO_RUN_SETTINGS = {
  light: { n: 6, valSize: 100 },
  medium: { n: 12, valSize: 300 },
  heavy: { n: 18, valSize: 1000 },
} as const;

export type AutoMode = keyof typeof AUTO_RUN_SETTINGS;
export const AUTO_MODES = Object.keys(AUTO_RUN_SETTINGS) as AutoMode[];

/** Under `auto`, minibatches are used only when the validation sample is larger than this (DSPy's constant). */
export const MIN_MINIBATCH_SIZE = 50;
/** Bootstrapped demos the instruction proposer reads (DSPy's BOOTSTRAPPED_FEWSHOT_EXAMPLES_IN_CONTEXT). */
export const DEMOS_IN_PROPOSER_CONTEXT = 3;

export const miproConfigSchema = z
  .object({
    /** A preset, or null to set `numCandidates` and `numTrials` yourself. */
    auto: z.enum(['light', 'medium', 'heavy']).nullable().default('light'),
    numCandidates: z.number().int().min(1).optional(),
    numTrials: z.number().int().min(1).optional(),
    maxBootstrappedDemos: z.number().int().nonnegative().default(4),
    maxLabeledDemos: z.number().int().nonnegative().default(4),
    /**
     * A bootstrapped trace becomes a demo when its metric score reaches this. DSPy's default (none) keeps any truthy
     * score; ours keeps only fully correct traces, so that a 0.5 "reasonable" answer is never taught.
     */
    metricThreshold: z.number().min(0).max(1).default(1),
    minibatch: z.boolean().default(true),
    minibatchSize: z.number().int().min(1).default(35),
    minibatchFullEvalSteps: z.number().int().min(1).default(5),
    /** Examples per call of the dataset summarizer. */
    viewDataBatchSize: z.number().int().min(1).default(10),
    programAwareProposer: z.boolean().default(true),
    dataAwareProposer: z.boolean().default(true),
    tipAwareProposer: z.boolean().default(true),
    fewshotAwareProposer: z.boolean().default(true),
    /** Random trials before TPE takes over (Optuna's TPESampler default; the default program counts as one). */
    startupTrials: z.number().int().nonnegative().default(10),
    ...baseConfigShape({ optimizerTemperature: 1, optimizerMaxTokens: 400 }),
  })
  .strict();

export type MiproConfig = z.output<typeof miproConfigSchema>;

export interface MiproRunSettings {
  readonly numTrials: number;
  readonly numInstructCandidates: number;
  readonly numFewshotCandidates: number;
  /** Size of the validation sample (auto) or of the whole valset. */
  readonly valSize: number;
  readonly minibatch: boolean;
  /** No demos at all (max bootstrapped and labeled demos both 0): only instructions are searched. */
  readonly zeroShot: boolean;
}

/** DSPy's `_set_num_trials_from_num_candidates`: max(2·M·log2(N), 1.5·N), M = searched variables. */
export function trialsForCandidates(predictors: number, zeroShot: boolean, numCandidates: number): number {
  const variables = zeroShot ? predictors : predictors * 2;
  return Math.floor(Math.max(2 * variables * Math.log2(numCandidates), 1.5 * numCandidates));
}

/** The run's sizes from the config, the valset size and the number of predictors (DSPy's checks and presets). */
export function miproRunSettings(config: MiproConfig, valsetSize: number, predictors = 1): MiproRunSettings {
  const zeroShot = config.maxBootstrappedDemos === 0 && config.maxLabeledDemos === 0;
  if (config.auto === null) {
    if (config.numCandidates === undefined || config.numTrials === undefined) {
      throw new OptNativeError('E_BAD_INPUT', 'mipro: without auto, set both numCandidates and numTrials');
    }
    return {
      numTrials: config.numTrials,
      numInstructCandidates: config.numCandidates,
      numFewshotCandidates: config.numCandidates,
      valSize: valsetSize,
      minibatch: config.minibatch,
      zeroShot,
    };
  }
  if (config.numCandidates !== undefined || config.numTrials !== undefined) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `mipro: auto "${config.auto}" sets numCandidates and numTrials; set auto to null to choose them`,
    );
  }
  const { n, valSize } = AUTO_RUN_SETTINGS[config.auto];
  const sampled = Math.min(valSize, valsetSize);
  return {
    numTrials: trialsForCandidates(predictors, zeroShot, n),
    // With demos, half the candidates are instructions: the budget is better spent on demo sets (DSPy's finding).
    numInstructCandidates: zeroShot ? n : Math.floor(n * 0.5),
    numFewshotCandidates: n,
    valSize: sampled,
    minibatch: sampled > MIN_MINIBATCH_SIZE,
    zeroShot,
  };
}
