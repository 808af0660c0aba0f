import { z } from 'zod';
import { parseConfig } from '../engine/config.js';
import { SEED_INSTRUCTION_SETS, type SeedInstructionSet } from '../engine/seed-instructions.js';

/** Reward weights: R = wBaClip·BA_clip + wBaCond·BA_cond − wLengthPenalty·(len(prompt)/100). */
export interface RewardWeights {
  readonly wBaClip: number;
  readonly wBaCond: number;
  readonly wLengthPenalty: number;
}

export interface OproConfig {
  readonly numIterations: number;
  readonly candidatesPerIter: number;
  readonly topK: number;
  /** Iterations without a better best reward before stopping. */
  readonly earlyStopping: number;
  readonly optimizerTemperature: number;
  readonly optimizerMaxNewTokens: number;
  readonly reward: RewardWeights;
  /** Evaluated first; undefined picks a task-appropriate default (see defaultBaselinePrompt). */
  readonly baselinePrompt?: string;
  readonly initialPrompts: readonly string[];
  /** Generic instructions evaluated after the baseline and initialPrompts (engine/seed-instructions.ts). */
  readonly seedInstructions: SeedInstructionSet;
  /** Training examples shown in each meta-prompt. */
  readonly exemplarsPerStep: number;
  readonly minPromptChars: number;
  readonly maxPromptChars: number;
  /** Consecutive failed evaluations or generations that stop the run (circuit breaker). */
  readonly maxConsecutiveFailures: number;
  readonly evalMode: 'generate' | 'score';
  /** The paper's meta-prompt, or variations of the top prompts (small optimizer models; docs/quality.md). */
  readonly proposalStyle: 'opro' | 'variation';
}

export const DEFAULT_REWARD_WEIGHTS: RewardWeights = Object.freeze({
  wBaClip: 1.0,
  wBaCond: 0.25,
  wLengthPenalty: 0.05,
});

export const DEFAULT_OPRO_CONFIG: OproConfig = Object.freeze({
  numIterations: 30,
  candidatesPerIter: 3,
  topK: 10,
  earlyStopping: 5,
  optimizerTemperature: 0.7,
  optimizerMaxNewTokens: 2000,
  reward: DEFAULT_REWARD_WEIGHTS,
  initialPrompts: [],
  seedInstructions: 'none',
  exemplarsPerStep: 3,
  minPromptChars: 10,
  maxPromptChars: 300,
  maxConsecutiveFailures: 3,
  evalMode: 'generate',
  proposalStyle: 'opro',
});

const positiveInteger = z.number().int().positive();

/** Validates a partial config (from --config or the API) and fills in the defaults. */
export const oproConfigSchema = z
  .object({
    numIterations: z.number().int().nonnegative(),
    candidatesPerIter: positiveInteger,
    topK: positiveInteger,
    earlyStopping: positiveInteger,
    optimizerTemperature: z.number().min(0).max(2),
    optimizerMaxNewTokens: positiveInteger,
    reward: z
      .object({ wBaClip: z.number(), wBaCond: z.number(), wLengthPenalty: z.number() })
      .partial()
      .transform((weights) => ({ ...DEFAULT_REWARD_WEIGHTS, ...weights })),
    baselinePrompt: z.string().min(1),
    initialPrompts: z.array(z.string().min(1)),
    seedInstructions: z.enum(SEED_INSTRUCTION_SETS),
    exemplarsPerStep: z.number().int().nonnegative(),
    minPromptChars: z.number().int().nonnegative(),
    maxPromptChars: positiveInteger,
    maxConsecutiveFailures: positiveInteger,
    evalMode: z.enum(['generate', 'score']),
    proposalStyle: z.enum(['opro', 'variation']),
  })
  .partial()
  .strict();

export function resolveOproConfig(partial: unknown = {}): OproConfig {
  const parsed = parseConfig(oproConfigSchema, partial);
  const defined = Object.fromEntries(Object.entries(parsed).filter(([, value]) => value !== undefined));
  return Object.freeze({ ...DEFAULT_OPRO_CONFIG, ...defined }) as OproConfig;
}

/**
 * The paper's neutral start for open-ended tasks; classification tasks start from naming the answer words, as the
 * original tool did (the task's answer format repeats them after each question, so nothing is lost either way).
 */
export function defaultBaselinePrompt(labels: readonly string[] | undefined): string {
  if (labels && labels.length > 0) return `Answer the question with exactly one of: ${labels.join(', ')}.`;
  return "Let's think step by step.";
}
