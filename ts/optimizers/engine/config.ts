/**
 * The settings every optimizer shares, as one zod shape (each optimizer keeps its own defaults for them), and the
 * one way a config error reaches the user: E_BAD_INPUT naming the offending parameters.
 */
import { z, ZodError } from 'zod';
import { OptNativeError } from '../../errors.js';

export interface BaseConfigDefaults {
  readonly optimizerTemperature: number;
  readonly optimizerMaxTokens: number;
}

/** How candidates are scored: `score` picks the best-scored label (classification tasks, native models). */
export const evalModeSchema = z.enum(['generate', 'score']);

/**
 * The shared part of an optimizer's config schema: the first prompt, how candidates are scored, and how the
 * optimizer model samples. Spread into each optimizer's `z.object({...})`.
 */
export function baseConfigShape(defaults: BaseConfigDefaults) {
  return {
    initialPrompt: z.string().min(1).optional(),
    evalMode: evalModeSchema.default('generate'),
    optimizerTemperature: z.number().min(0).max(2).default(defaults.optimizerTemperature),
    optimizerMaxTokens: z.number().int().positive().default(defaults.optimizerMaxTokens),
  };
}

/** One line per zod issue: `unknown parameter(s) a, b` or `path: message`. */
export function zodMessage(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.join('.');
      return issue.code === 'unrecognized_keys'
        ? `unknown parameter(s) ${issue.keys.join(', ')}`
        : `${where === '' ? '' : `${where}: `}${issue.message}`;
    })
    .join('; ');
}

/** Runs `build`, turning a zod validation error into E_BAD_INPUT (prefixed with `context` when given). */
export function withConfigErrors<T>(build: () => T, context?: string): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    const message = zodMessage(error);
    throw new OptNativeError('E_BAD_INPUT', context ? `${context}: ${message}` : message, { cause: error });
  }
}
