import { z } from 'zod';

/**
 * The balanced optimizer's parameters as a benchmark manifest (or the API) gives them; unset ones take
 * BALANCED_DEFAULTS when the run starts. The focus weights are normalized by `normalizeWeights`.
 */
export const balancedConfigSchema = z
  .object({
    batchSize: z.number().int().min(1).optional(),
    maxEpochs: z.number().int().min(0).optional(),
    numThreads: z.number().int().min(1).optional(),
    evalSamples: z.number().int().min(1).optional(),
    runValidation: z.boolean().optional(),
    maxTokens: z.number().int().min(1).optional(),
    optimizerTemperature: z.number().min(0).optional(),
    optimizerMaxTokens: z.number().int().min(1).optional(),
    thinkingBudget: z.number().int().min(1).nullable().optional(),
    initialPrompt: z.string().optional(),
    accuracyWeight: z.coerce.number().optional(),
    efficiencyWeight: z.coerce.number().optional(),
  })
  .strict();

export type BalancedParameters = z.output<typeof balancedConfigSchema>;
