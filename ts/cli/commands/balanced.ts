import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { OptNativeError } from '../../errors.js';
import { withRunControls } from '../../llm/run-controls.js';
import { writeRunResult } from '../../optimizers/balanced/experiments.js';
import { normalizeWeights, type FocusWeights } from '../../optimizers/balanced/focus.js';
import { BALANCED_DEFAULTS, optimizeBalanced, type BalancedOptions } from '../../optimizers/balanced/optimizer.js';
import { DEFAULT_BALANCED_PROMPT } from '../../optimizers/balanced/prompts.js';
import type { BalancedRunResult } from '../../optimizers/balanced/results.js';
import { balancedTaskFromText } from '../../optimizers/balanced/task.js';
import { Budget } from '../../run/budget.js';
import { ResponseCache } from '../../run/cache.js';
import { loadTextTask } from '../../tasks/text-task.js';
import { LanguageModelResolver } from '../language-model-option.js';

/** The native default Qwen: what `--model` means when not given. */
export const DEFAULT_BALANCED_MODEL = 'native:default';

/** Options shared by `balanced` and `experiments` (everything but the weights). */
export interface SharedBalancedCliOptions {
  task: string;
  model: string;
  optimizerModel?: string;
  customPrompt?: string;
  promptFile?: string;
  batchSize: number;
  maxEpochs: number;
  numThreads: number;
  evalSamples: number;
  maxTokens?: number;
  thinkingBudget?: number;
  thinkingEnabled?: boolean;
  runValidation?: boolean;
  seed: number;
  outputDir?: string;
  cache: boolean;
  optimizerTemperature: number;
  optimizerMaxTokens: number;
  datasetsRoot?: string;
  maxCalls?: number;
  maxDollars?: number;
}

export function integerOption(flag: string, minimum: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isInteger(parsed) || parsed < minimum) {
      throw new OptNativeError('E_BAD_INPUT', `${flag} must be an integer >= ${minimum}, got "${value}"`);
    }
    return parsed;
  };
}

export function numberOption(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
      throw new OptNativeError('E_BAD_INPUT', `${flag} must be a number >= 0, got "${value}"`);
    }
    return parsed;
  };
}

/** Adds the options `balanced` and `experiments` share. */
export function addSharedBalancedOptions(command: Command): Command {
  return command
    .requiredOption('--task <task>', 'gsm8k, bbh:<task> (e.g. bbh:object_counting) or jsonl:PATH')
    .option('--model <model>', 'the model being prompted (model string)', DEFAULT_BALANCED_MODEL)
    .option('--optimizer-model <model>', 'the model writing critiques, feedback and edits (default: --model)')
    .option('--custom-prompt <text>', 'initial prompt text')
    .option('--prompt-file <path>', 'read the initial prompt from a file')
    .option(
      '--batch-size <n>',
      'training examples per epoch',
      integerOption('--batch-size', 1),
      BALANCED_DEFAULTS.batchSize,
    )
    .option(
      '--max-epochs <n>',
      'epochs (one textual-gradient step each)',
      integerOption('--max-epochs', 0),
      BALANCED_DEFAULTS.maxEpochs,
    )
    .option(
      '--num-threads <n>',
      'model requests in flight at once',
      integerOption('--num-threads', 1),
      BALANCED_DEFAULTS.numThreads,
    )
    .option(
      '--eval-samples <n>',
      'examples in the evaluation and validation samples',
      integerOption('--eval-samples', 1),
      5,
    )
    .option(
      '--max-tokens <n>',
      'completion cap of the prompted model (default: the task’s)',
      integerOption('--max-tokens', 1),
    )
    .option('--thinking-enabled', 'let the optimizer model think first (providers that support it)')
    .option('--thinking-budget <n>', 'thinking tokens when enabled', integerOption('--thinking-budget', 1))
    .option('--run-validation', 'evaluate each rewrite on the validation split; revert it if it got worse')
    .option(
      '--seed <n>',
      'seed of the splits, samples, batches and focus schedule',
      integerOption('--seed', 0),
      BALANCED_DEFAULTS.seed,
    )
    .option('--output-dir <dir>', 'folder for the results JSON (and the response cache)')
    .option('--no-cache', 'do not keep model responses in <output-dir>/cache.sqlite')
    .option(
      '--optimizer-temperature <t>',
      'sampling temperature of the optimizer model (ignored with thinking)',
      numberOption('--optimizer-temperature'),
      0,
    )
    .option(
      '--optimizer-max-tokens <n>',
      'completion cap of the optimizer model (critiques, feedback, rewrites)',
      integerOption('--optimizer-max-tokens', 1),
      BALANCED_DEFAULTS.optimizerMaxTokens,
    )
    .option(
      '--datasets-root <dir>',
      'folder holding gsm8k/ and bbh/ (default: $OPT_NATIVE_DATASETS or ../shared/datasets)',
    )
    .option('--max-calls <n>', 'stop after this many paid model calls', integerOption('--max-calls', 1))
    .option('--max-dollars <usd>', 'stop after spending this much', numberOption('--max-dollars'));
}

async function initialPrompt(options: SharedBalancedCliOptions): Promise<string> {
  if (options.customPrompt !== undefined && options.promptFile !== undefined) {
    throw new OptNativeError('E_BAD_INPUT', 'give either --custom-prompt or --prompt-file, not both');
  }
  if (options.customPrompt !== undefined) return options.customPrompt;
  if (options.promptFile === undefined) return DEFAULT_BALANCED_PROMPT;
  try {
    return (await readFile(options.promptFile, 'utf8')).trim();
  } catch (error) {
    throw new OptNativeError('E_FILE_NOT_FOUND', `prompt file not found: ${options.promptFile}`, { cause: error });
  }
}

export interface PreparedBalancedRun {
  readonly base: Omit<BalancedOptions, 'weights'>;
  readonly outputDir: string;
  /** True when no local (native) model is involved, so configurations can run at once. */
  readonly concurrentSafe: boolean;
  /** Releases the models and the cache. */
  close(): Promise<void>;
}

/**
 * Loads the task, prompt and models for a CLI run. Equal model strings share one instance (one native model in
 * memory); both go behind the response cache in the output folder, so a rerun replays what was already answered.
 */
export async function prepareBalancedRun(
  options: SharedBalancedCliOptions,
  defaultOutputDir: string,
  onProgress?: BalancedOptions['onProgress'],
): Promise<PreparedBalancedRun> {
  const prompt = await initialPrompt(options);
  const textTask = await loadTextTask(options.task, { seed: options.seed, datasetsRoot: options.datasetsRoot });
  const outputDir = resolve(options.outputDir ?? defaultOutputDir);
  const resolver = new LanguageModelResolver();
  let cache: ResponseCache | undefined;
  try {
    const rawModel = await resolver.resolve(options.model);
    const rawOptimizerModel = await resolver.resolve(options.optimizerModel ?? options.model);
    if (options.cache) {
      await mkdir(outputDir, { recursive: true });
      cache = new ResponseCache(join(outputDir, 'cache.sqlite'));
    }
    const budget =
      options.maxCalls !== undefined || options.maxDollars !== undefined
        ? new Budget({ maxCalls: options.maxCalls, maxDollars: options.maxDollars })
        : undefined;
    const thinkingBudget = options.thinkingEnabled
      ? (options.thinkingBudget ?? BALANCED_DEFAULTS.thinkingBudget)
      : null;
    return {
      base: {
        task: balancedTaskFromText(textTask),
        model: withRunControls(rawModel, { cache }),
        optimizerModel: withRunControls(rawOptimizerModel, { cache }),
        initialPrompt: prompt,
        batchSize: options.batchSize,
        maxEpochs: options.maxEpochs,
        numThreads: options.numThreads,
        evalSamples: options.evalSamples,
        maxTokens: options.maxTokens,
        runValidation: options.runValidation ?? false,
        thinkingBudget,
        optimizerTemperature: thinkingBudget === null ? options.optimizerTemperature : undefined,
        optimizerMaxTokens: options.optimizerMaxTokens,
        seed: options.seed,
        budget,
        onProgress,
      },
      outputDir,
      concurrentSafe: rawModel.provider !== 'native' && rawOptimizerModel.provider !== 'native',
      close: async () => {
        cache?.close();
        await resolver.disposeAll();
      },
    };
  } catch (error) {
    cache?.close();
    await resolver.disposeAll();
    throw error;
  }
}

export function progressPrinter(label: string): NonNullable<BalancedOptions['onProgress']> {
  return (progress) => {
    const { accuracy, meanCompletionTokens } = progress.evaluation;
    process.stderr.write(
      `[${label}] epoch ${progress.epoch}/${progress.maxEpochs} focus=${progress.focus} ` +
        `accuracy=${(accuracy * 100).toFixed(1)}% tokens=${meanCompletionTokens.toFixed(1)}` +
        `${progress.reverted ? ' (reverted)' : ''}\n`,
    );
  };
}

/** A run that a failing model cut short keeps its results file, but the command exits 1 and says why. */
export function reportFailedRun(result: BalancedRunResult): void {
  if (result.stopReason !== 'error') return;
  process.stderr.write(
    `error: the ${result.weights.accuracy.toFixed(2)}/${result.weights.efficiency.toFixed(2)} run stopped after ` +
      `${result.epochs.length} epochs: ${result.stopMessage}\n`,
  );
  process.exitCode = 1;
}

export function describeRun(result: BalancedRunResult): string {
  const percent = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;
  return (
    `${result.task} acc ${result.weights.accuracy.toFixed(2)} / eff ${result.weights.efficiency.toFixed(2)}: ` +
    `accuracy ${percent(result.initial.accuracy)} → ${percent(result.final.accuracy)}, ` +
    `tokens ${result.initial.meanCompletionTokens.toFixed(1)} → ${result.final.meanCompletionTokens.toFixed(1)}, ` +
    `${result.epochs.length} epochs (${result.stopReason}), ${result.usage.total.calls} calls`
  );
}

interface BalancedCliOptions extends SharedBalancedCliOptions {
  accuracyWeight: number;
  efficiencyWeight: number;
}

/** `opt-native balanced`: one accuracy/efficiency-balanced TextGrad optimization, results JSON in --output-dir. */
export function registerBalanced(program: Command): void {
  const command = program
    .command('balanced')
    .description('optimize a prompt for accuracy and token efficiency with textual gradients (TextGrad-style)');
  addSharedBalancedOptions(command)
    .option('--accuracy-weight <w>', 'probability weight of accuracy epochs', numberOption('--accuracy-weight'), 0.5)
    .option(
      '--efficiency-weight <w>',
      'probability weight of efficiency epochs',
      numberOption('--efficiency-weight'),
      0.5,
    )
    .action(async (options: BalancedCliOptions) => {
      const weights: FocusWeights = normalizeWeights(options.accuracyWeight, options.efficiencyWeight);
      const prepared = await prepareBalancedRun(options, join('runs', 'balanced'), progressPrinter(options.task));
      try {
        const result = await optimizeBalanced({ ...prepared.base, weights });
        const path = await writeRunResult(prepared.outputDir, result);
        process.stdout.write(`${describeRun(result)}\nresults: ${path}\n`);
        reportFailedRun(result);
      } finally {
        await prepared.close();
      }
    });
}
