/**
 * The benchmark's optimizer registry: manifest names and snake_case parameters (`optimizer_params` and
 * `optimizer_prompt_params`, as the original tool has them) become configured optimizers of the shared contract.
 */
import { ZodError } from 'zod';
import { OptNativeError } from '../errors.js';
import { BalancedOptimizer } from '../optimizers/balanced/balanced-optimizer.js';
import { taskMessages } from '../optimizers/balanced/evaluate.js';
import { normalizeWeights } from '../optimizers/balanced/focus.js';
import type { Optimizer } from '../optimizers/contract.js';
import { EvolutionaryOptimizer } from '../optimizers/evolutionary/optimizer.js';
import { FewShotOptimizer } from '../optimizers/few-shot/optimizer.js';
import { HierarchicalReflectiveOptimizer } from '../optimizers/hierarchical-reflective/optimizer.js';
import { MetaPromptOptimizer } from '../optimizers/meta-prompt/optimizer.js';
import { defaultBaselinePrompt } from '../optimizers/opro/config.js';
import { OproOptimizer } from '../optimizers/opro/optimizer.js';
import type { TextTask } from '../tasks/types.js';
import type { OptimizerName, PromptMessage } from './types.js';

export const OPTIMIZER_NAMES: readonly OptimizerName[] = [
  'opro',
  'balanced',
  'meta_prompt',
  'few_shot',
  'evolutionary',
  'hierarchical_reflective',
];

/** The original tool's names for the same optimizers. */
const ALIASES: Readonly<Record<string, OptimizerName>> = { evolutionary_optimizer: 'evolutionary' };

export function canonicalOptimizerName(name: string): OptimizerName {
  const canonical = ALIASES[name] ?? name;
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(canonical)) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `unknown optimizer "${name}"; expected one of ${OPTIMIZER_NAMES.join(', ')}`,
    );
  }
  return canonical as OptimizerName;
}

/** `max_trials` of the original tool: each optimizer's main iteration count. */
const MAX_TRIALS_KEY: Readonly<Record<OptimizerName, string>> = {
  opro: 'numIterations',
  balanced: 'maxEpochs',
  meta_prompt: 'rounds',
  few_shot: 'trials',
  evolutionary: 'generations',
  hierarchical_reflective: 'rounds',
};

/** The original tool's parameter names that mean something else here. */
const RENAMED: Readonly<Record<string, string>> = { numGenerations: 'generations' };

/** Parameters the runner itself reads (not passed to the optimizer). */
export const RUNNER_PARAMS = ['nSamples'] as const;

const BALANCED_KEYS = new Set([
  'batchSize',
  'maxEpochs',
  'numThreads',
  'evalSamples',
  'runValidation',
  'maxTokens',
  'optimizerTemperature',
  'optimizerMaxTokens',
  'thinkingBudget',
  'initialPrompt',
  'accuracyWeight',
  'efficiencyWeight',
]);

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
    if (camel === 'maxTrials') camel = MAX_TRIALS_KEY[name];
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

function zodMessage(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.join('.');
      return issue.code === 'unrecognized_keys'
        ? `unknown parameter(s) ${issue.keys.join(', ')}`
        : `${where === '' ? '' : `${where}: `}${issue.message}`;
    })
    .join('; ');
}

function balancedOptimizer(config: Record<string, unknown>, labels: TextTask['labels']): BalancedOptimizer {
  const unknown = Object.keys(config).filter((key) => !BALANCED_KEYS.has(key));
  if (unknown.length > 0) throw new OptNativeError('E_BAD_INPUT', `unknown parameter(s) ${unknown.join(', ')}`);
  const { accuracyWeight = 0.5, efficiencyWeight = 0.5, initialPrompt, ...rest } = config;
  return new BalancedOptimizer({
    ...(rest as object),
    initialPrompt: (initialPrompt as string | undefined) ?? defaultBaselinePrompt(labels),
    weights: normalizeWeights(Number(accuracyWeight), Number(efficiencyWeight)),
  });
}

/**
 * Builds the optimizer a task names. Throws E_BAD_INPUT with the offending parameters when the config is invalid,
 * which manifest validation uses to refuse a manifest before anything starts.
 */
export function createOptimizer(
  name: OptimizerName,
  config: Record<string, unknown>,
  options: { initialPrompt?: string; labels?: TextTask['labels'] } = {},
): Optimizer<unknown, TextTask> {
  const withPrompt = (key: string) =>
    options.initialPrompt === undefined || config[key] !== undefined
      ? config
      : { ...config, [key]: options.initialPrompt };
  try {
    switch (name) {
      case 'opro':
        return new OproOptimizer(withPrompt('baselinePrompt'));
      case 'balanced':
        return balancedOptimizer(withPrompt('initialPrompt'), options.labels);
      case 'meta_prompt':
        return new MetaPromptOptimizer(withPrompt('initialPrompt') as never);
      case 'few_shot':
        return new FewShotOptimizer(withPrompt('initialPrompt') as never);
      case 'evolutionary':
        return new EvolutionaryOptimizer(withPrompt('initialPrompt') as never);
      case 'hierarchical_reflective':
        return new HierarchicalReflectiveOptimizer(withPrompt('initialPrompt') as never);
    }
  } catch (error) {
    if (error instanceof ZodError) throw new OptNativeError('E_BAD_INPUT', zodMessage(error), { cause: error });
    throw error;
  }
}

/**
 * The task as the optimizer prompts the evaluated model, so that the final evaluation scores the best prompt the way
 * it was optimized: balanced puts the prompt in the system message (not before a Q/A question) and answers within
 * its own `maxTokens`; the other optimizers use the task's own format.
 */
export function evaluationTaskOf(name: OptimizerName, config: Record<string, unknown>, task: TextTask): TextTask {
  if (name !== 'balanced') return task;
  const maxTokens = typeof config.maxTokens === 'number' ? config.maxTokens : task.maxAnswerTokens;
  return { ...task, formatMessages: taskMessages, maxAnswerTokens: maxTokens };
}
