/**
 * Manifest parameters for the optimizer registry (ts/optimizers/registry.ts): the snake_case `optimizer_params` and
 * `optimizer_prompt_params` of the original tool become a camelCase config, with `max_trials` mapped to each
 * optimizer's iteration count and the runner's own parameters split off.
 */
import { OptNativeError } from '../errors.js';
import { OPTIMIZERS, type OptimizerName } from '../optimizers/registry.js';
import type { TextTask } from '../tasks/types.js';
import type { PromptMessage } from './types.js';

export {
  OPTIMIZER_NAMES,
  canonicalOptimizerName,
  createOptimizer,
  type OptimizerName,
} from '../optimizers/registry.js';

/** The original tool's parameter names that mean something else here. */
const RENAMED: Readonly<Record<string, string>> = { numGenerations: 'generations' };

/** Parameters the runner itself reads (not passed to the optimizer). */
export const RUNNER_PARAMS = ['nSamples'] as const;

function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** Merged, camel-cased parameters with `max_trials` mapped; runner parameters are split off. */
export function optimizerConfigOf(
  name: OptimizerName,
  optimizerParams: Readonly<Record<string, unknown>>,
  promptParams: Readonly<Record<string, unknown>>,
): { config: Record<string, unknown>; runner: { nSamples?: number } } {
  const config: Record<string, unknown> = {};
  const runner: { nSamples?: number } = {};
  for (const [key, value] of Object.entries({ ...optimizerParams, ...promptParams })) {
    let camel = camelCase(key);
    camel = RENAMED[camel] ?? camel;
    if (camel === 'maxTrials') camel = OPTIMIZERS[name].maxTrialsKey;
    if (camel === 'nSamples') {
      if (!Number.isInteger(value) || (value as number) < 1) {
        throw new OptNativeError('E_BAD_INPUT', `n_samples must be a positive integer, got ${JSON.stringify(value)}`);
      }
      runner.nSamples = value as number;
    } else {
      config[camel] = value;
    }
  }
  return { config, runner };
}

/** The initial instruction of a manifest prompt: the system message, else the first message. */
export function initialInstruction(prompt: readonly PromptMessage[] | undefined): string | undefined {
  return (prompt?.find((message) => message.role === 'system') ?? prompt?.[0])?.content;
}

/** The task as the optimizer prompts the evaluated model (see OptimizerEntry.evaluationTask). */
export function evaluationTaskOf(name: OptimizerName, config: Record<string, unknown>, task: TextTask): TextTask {
  return OPTIMIZERS[name].evaluationTask(config, task);
}
