/**
 * The optimizers by name: each entry has its config schema (validation and defaults), the keys a benchmark manifest's
 * `max_trials` and prompt go to, the factory, and how its best prompt is scored on the held-out split. The benchmark
 * runner and the CLI read names and configs from here; the list of names is the entries' keys.
 */
import type { z } from 'zod';
import { OptNativeError } from '../errors.js';
import type { TextTask } from '../tasks/types.js';
import { BalancedOptimizer } from './balanced/balanced-optimizer.js';
import { balancedConfigSchema } from './balanced/config.js';
import { taskMessages } from './balanced/evaluate.js';
import { normalizeWeights } from './balanced/focus.js';
import type { Optimizer } from './contract.js';
import { parseConfig, withConfigErrors } from './engine/config.js';
import { EvolutionaryOptimizer, evolutionaryConfigSchema } from './evolutionary/optimizer.js';
import { FewShotOptimizer, fewShotConfigSchema } from './few-shot/optimizer.js';
import {
  HierarchicalReflectiveOptimizer,
  hierarchicalReflectiveConfigSchema,
} from './hierarchical-reflective/optimizer.js';
import { MetaPromptOptimizer, metaPromptConfigSchema } from './meta-prompt/optimizer.js';
import { miproConfigSchema } from './mipro/config.js';
import { MiproOptimizer } from './mipro/optimizer.js';
import { defaultBaselinePrompt, oproConfigSchema } from './opro/config.js';
import { OproOptimizer } from './opro/optimizer.js';

/** What a factory may use besides the config. */
export interface OptimizerContext {
  /** The task's answer words: balanced starts from naming them when no prompt is given. */
  readonly labels?: TextTask['labels'];
}

export interface OptimizerEntry {
  readonly schema: z.ZodType;
  /** The config key the original tool's `max_trials` sets: the optimizer's main iteration count. */
  readonly maxTrialsKey: string;
  /** The config key that takes a manifest's initial prompt. */
  readonly initialPromptKey: string;
  /** Validates `config` with the schema (E_BAD_INPUT naming the parameters) and builds the optimizer. */
  readonly create: (config: unknown, context: OptimizerContext) => Optimizer<unknown, TextTask>;
  /** The task as the optimizer prompts the evaluated model, so the held-out score measures the same thing. */
  readonly evaluationTask: (config: Readonly<Record<string, unknown>>, task: TextTask) => TextTask;
}

const sameTask = (_config: unknown, task: TextTask) => task;

function entry<Schema extends z.ZodType>(
  schema: Schema,
  keys: { maxTrialsKey: string; initialPromptKey: string },
  make: (config: z.output<Schema>, context: OptimizerContext) => Optimizer<unknown, TextTask>,
  evaluationTask: OptimizerEntry['evaluationTask'] = sameTask,
): OptimizerEntry {
  return { schema, ...keys, create: (config, context) => make(parseConfig(schema, config), context), evaluationTask };
}

/**
 * Balanced puts the prompt in the system message (not before a Q/A question) and answers within its own
 * `maxTokens`; the held-out evaluation does the same.
 */
function balancedEvaluationTask(config: Readonly<Record<string, unknown>>, task: TextTask): TextTask {
  const maxTokens = typeof config.maxTokens === 'number' ? config.maxTokens : task.maxAnswerTokens;
  return { ...task, formatMessages: taskMessages, maxAnswerTokens: maxTokens };
}

export const OPTIMIZERS = {
  opro: entry(
    oproConfigSchema,
    { maxTrialsKey: 'numIterations', initialPromptKey: 'baselinePrompt' },
    (config) => new OproOptimizer(config),
  ),
  balanced: entry(
    balancedConfigSchema,
    { maxTrialsKey: 'maxEpochs', initialPromptKey: 'initialPrompt' },
    ({ accuracyWeight = 0.5, efficiencyWeight = 0.5, initialPrompt, ...rest }, { labels }) =>
      new BalancedOptimizer({
        ...rest,
        initialPrompt: initialPrompt ?? defaultBaselinePrompt(labels),
        weights: normalizeWeights(accuracyWeight, efficiencyWeight),
      }),
    balancedEvaluationTask,
  ),
  meta_prompt: entry(
    metaPromptConfigSchema,
    { maxTrialsKey: 'rounds', initialPromptKey: 'initialPrompt' },
    (config) => new MetaPromptOptimizer(config),
  ),
  few_shot: entry(
    fewShotConfigSchema,
    { maxTrialsKey: 'trials', initialPromptKey: 'initialPrompt' },
    (config) => new FewShotOptimizer(config),
  ),
  evolutionary: entry(
    evolutionaryConfigSchema,
    { maxTrialsKey: 'generations', initialPromptKey: 'initialPrompt' },
    (config) => new EvolutionaryOptimizer(config),
  ),
  hierarchical_reflective: entry(
    hierarchicalReflectiveConfigSchema,
    { maxTrialsKey: 'rounds', initialPromptKey: 'initialPrompt' },
    (config) => new HierarchicalReflectiveOptimizer(config),
  ),
  mipro: entry(
    miproConfigSchema,
    { maxTrialsKey: 'numTrials', initialPromptKey: 'initialPrompt' },
    (config) => new MiproOptimizer(config),
  ),
} as const satisfies Record<string, OptimizerEntry>;

export type OptimizerName = keyof typeof OPTIMIZERS;

export const OPTIMIZER_NAMES = Object.keys(OPTIMIZERS) as OptimizerName[];

/** The original tool's names for the same optimizers. */
const ALIASES: Readonly<Record<string, OptimizerName>> = { evolutionary_optimizer: 'evolutionary' };

function isOptimizerName(name: string): name is OptimizerName {
  return Object.hasOwn(OPTIMIZERS, name);
}

export function canonicalOptimizerName(name: string): OptimizerName {
  const canonical = ALIASES[name] ?? name;
  if (!isOptimizerName(canonical)) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `unknown optimizer "${name}"; expected one of ${OPTIMIZER_NAMES.join(', ')}`,
    );
  }
  return canonical;
}

export function optimizerEntry(name: OptimizerName): OptimizerEntry {
  return OPTIMIZERS[name];
}

/**
 * Builds the optimizer `name` from its config; `initialPrompt` fills the optimizer's prompt key unless the config
 * sets it. An invalid config throws E_BAD_INPUT naming the offending parameters.
 */
export function createOptimizer(
  name: OptimizerName,
  config: Readonly<Record<string, unknown>>,
  options: { initialPrompt?: string; labels?: TextTask['labels'] } = {},
): Optimizer<unknown, TextTask> {
  const { initialPromptKey, create } = OPTIMIZERS[name];
  const withPrompt =
    options.initialPrompt === undefined || config[initialPromptKey] !== undefined
      ? config
      : { ...config, [initialPromptKey]: options.initialPrompt };
  return withConfigErrors(() => create(withPrompt, { labels: options.labels }));
}

/** The resolved config of `name` with nothing set: every default. */
export function optimizerDefaults(name: OptimizerName): unknown {
  return createOptimizer(name, {}).config;
}
