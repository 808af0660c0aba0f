import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { OptNativeError } from '../../errors.js';
import { integerFlag, numberFlag } from '../../numbers.js';
import { withRunControls } from '../../llm/run-controls.js';
import { writeRunResult } from '../../optimizers/balanced/experiments.js';
import { normalizeWeights, type FocusWeights } from '../../optimizers/balanced/focus.js';
import {
  BALANCED_DEFAULTS,
  optimizeBalanced,
  resolveBalancedSettings,
  type BalancedOptions,
} from '../../optimizers/balanced/optimizer.js';
import { DEFAULT_BALANCED_PROMPT } from '../../optimizers/balanced/prompts.js';
import { resultsFileName, type BalancedRunResult } from '../../optimizers/balanced/results.js';
import { balancedTaskFromText } from '../../optimizers/balanced/task.js';
import { Budget } from '../../run/budget.js';
import { runOptimizationJob } from '../../optimizers/engine/job.js';
import { checkOutputFolder, isCacheFile } from '../../run/output-folder.js';
import { loadTextTask } from '../../tasks/text-task.js';
import { LanguageModelResolver } from '../../llm/resolver.js';

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
  force?: boolean;
}

/** An integer flag from `minimum` to 2^32-1, parsed strictly (ts/numbers.ts: no '1e3', '0x10' or '2.0'). */
export function integerOption(flag: string, minimum: number): (value: string) => number {
  return integerFlag(flag, { min: minimum });
}

/** A finite number flag >= 0. */
export function numberOption(flag: string): (value: string) => number {
  return numberFlag(flag, { min: 0 });
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
    .option('--max-dollars <usd>', 'stop after spending this much', numberOption('--max-dollars'))
    .option('--force', 'write into a folder of other files, replacing results of a different run');
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

/** A balanced run's inputs, its folder, and whether its configurations may run at once. */
export interface PreparedBalancedRun {
  readonly base: Omit<BalancedOptions, 'weights'>;
  readonly outputDir: string;
  /** True when no local (native) model is involved, so configurations can run at once. */
  readonly concurrentSafe: boolean;
}

/** The files balanced and experiments write into their folder (results, cache, the report and its charts). */
function isBalancedFile(name: string): boolean {
  return /^balanced-acc.*\.json$/.test(name) || isCacheFile(name) || /\.(html|png)$/.test(name);
}

/**
 * Refuses to replace a results file that another command wrote (other task, models, prompt or settings), unless
 * --force: rerunning the same command into its folder replays its answers from the cache and rewrites the same file.
 */
async function checkResultsFiles(
  outputDir: string,
  planned: Pick<BalancedRunResult, 'task' | 'model' | 'optimizerModel' | 'initialPrompt' | 'settings'>,
  configs: readonly FocusWeights[],
  force: boolean | undefined,
): Promise<void> {
  if (force) return;
  for (const weights of configs) {
    const path = join(outputDir, resultsFileName(normalizeWeights(weights.accuracy, weights.efficiency)));
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    let previous: Record<string, unknown> = {};
    try {
      previous = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // An unreadable file is not this command's either.
    }
    const differing = (Object.keys(planned) as (keyof typeof planned)[]).filter(
      (key) => JSON.stringify(previous[key]) !== JSON.stringify(planned[key]),
    );
    if (differing.length > 0) {
      throw new OptNativeError(
        'E_BAD_INPUT',
        `${path} holds the results of a different run (${differing.join(', ')} differ); ` +
          'choose another --output-dir, or pass --force to replace it',
      );
    }
  }
}

/**
 * Loads the task, prompt and models, checks the output folder, and runs `run` inside one optimization job. Equal
 * model strings share one instance (one native model in memory); both go behind the response cache in the output
 * folder, so a rerun replays what was already answered. Everything is checked before the first write.
 */
export async function runBalancedJob<T>(
  options: SharedBalancedCliOptions,
  defaultOutputDir: string,
  configs: readonly FocusWeights[],
  run: (prepared: PreparedBalancedRun) => Promise<T>,
  onProgress?: BalancedOptions['onProgress'],
): Promise<T> {
  const prompt = await initialPrompt(options);
  const textTask = await loadTextTask(options.task, { seed: options.seed, datasetsRoot: options.datasetsRoot });
  const outputDir = resolve(options.outputDir ?? defaultOutputDir);
  const resolver = new LanguageModelResolver();
  try {
    const rawModel = await resolver.resolve(options.model);
    const rawOptimizerModel = await resolver.resolve(options.optimizerModel ?? options.model);
    const budget =
      options.maxCalls !== undefined || options.maxDollars !== undefined
        ? new Budget({ maxCalls: options.maxCalls, maxDollars: options.maxDollars })
        : undefined;
    const thinkingBudget = options.thinkingEnabled
      ? (options.thinkingBudget ?? BALANCED_DEFAULTS.thinkingBudget)
      : null;
    const task = balancedTaskFromText(textTask);
    const settingsInput = {
      task,
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
    };
    const planned = {
      task: task.name,
      model: rawModel.modelId,
      optimizerModel: rawOptimizerModel.modelId,
      initialPrompt: prompt,
      settings: resolveBalancedSettings(settingsInput),
    };
    checkOutputFolder(outputDir, { command: 'balanced', ownsFile: isBalancedFile, force: options.force });
    await checkResultsFiles(outputDir, planned, configs, options.force);
    return await runOptimizationJob({
      dir: outputDir,
      folder: 'cache-only',
      cache: options.cache,
      models: async (cache) => ({
        model: withRunControls(rawModel, { cache }),
        optimizerModel: withRunControls(rawOptimizerModel, { cache }),
      }),
      optimize: ({ model, optimizerModel }) =>
        run({
          base: { ...settingsInput, model, optimizerModel, budget, onProgress },
          outputDir,
          concurrentSafe: rawModel.provider !== 'native' && rawOptimizerModel.provider !== 'native',
        }),
      finish: (_context, result) => result,
    });
  } finally {
    await resolver.disposeAll();
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
      const run = async ({ base, outputDir }: PreparedBalancedRun) => {
        const result = await optimizeBalanced({ ...base, weights });
        const path = await writeRunResult(outputDir, result);
        process.stdout.write(`${describeRun(result)}\nresults: ${path}\n`);
        reportFailedRun(result);
      };
      await runBalancedJob(options, join('runs', 'balanced'), [weights], run, progressPrinter(options.task));
    });
}
