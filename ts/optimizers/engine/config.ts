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

/**
 * Runs `build`, turning a zod validation error into E_BAD_INPUT (prefixed with `context` when given); a config error
 * already turned so (by `parseConfig` in a constructor) gets the context too.
 */
export function withConfigErrors<T>(build: () => T, context?: string): T {
  try {
    return build();
  } catch (error) {
    const zodError = error instanceof ZodError ? error : configErrorCause(error);
    if (!zodError) throw error;
    const message = zodMessage(zodError);
    throw new OptNativeError('E_BAD_INPUT', context ? `${context}: ${message}` : message, { cause: zodError });
  }
}

function configErrorCause(error: unknown): ZodError | undefined {
  const isConfigError = error instanceof OptNativeError && error.code === 'E_BAD_INPUT';
  return isConfigError && error.cause instanceof ZodError ? error.cause : undefined;
}

/** `schema.parse(config)` with a failure as E_BAD_INPUT naming the parameters: how every optimizer reads its config. */
export function parseConfig<Schema extends z.ZodType>(schema: Schema, config: unknown): z.output<Schema> {
  return withConfigErrors(() => schema.parse(config));
}
