import { z } from 'zod';

/**
 * Task-independent instructions an optimizer may evaluate beside its baseline before it proposes anything. Small
 * optimizer models rarely write a short generic instruction, yet on some tasks one holds most of the headroom a
 * small scorer has (docs/quality.md, "Seed instructions"). Fixed in advance from the literature and earlier
 * sessions, never chosen per task: validation picks among them.
 */
export const GENERIC_SEED_INSTRUCTIONS: readonly string[] = Object.freeze([
  // Kojima et al. 2022, zero-shot chain of thought.
  "Let's think step by step.",
  // Yang et al. 2023 (OPRO), the best instruction found for PaLM 2 on GSM8K.
  'Take a deep breath and work on this problem step-by-step.',
  // Zhou et al. 2022 (APE), the best instruction found for zero-shot chain of thought.
  "Let's work this out in a step by step way to be sure we have the right answer.",
  'Read the question carefully and answer it.',
  'Think about what the question asks, check each detail, then give the single correct answer.',
]);

export const SEED_INSTRUCTION_SETS = ['none', 'generic'] as const;
export type SeedInstructionSet = (typeof SEED_INSTRUCTION_SETS)[number];

export function seedInstructionsOf(set: SeedInstructionSet): readonly string[] {
  return set === 'generic' ? GENERIC_SEED_INSTRUCTIONS : [];
}

/** The config key of every optimizer that starts from seeds as well as its baseline (spread into its schema). */
export const seedInstructionsShape = {
  seedInstructions: z.enum(SEED_INSTRUCTION_SETS).default('none'),
};
