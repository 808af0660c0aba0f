import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { OptNativeError } from '../../errors.js';
import type { FocusWeights } from './focus.js';
import { optimizeBalanced, type BalancedOptions } from './optimizer.js';
import { resultsFileName, type BalancedRunResult } from './results.js';

/** Writes one run's results JSON into `dir` (created when missing); returns the file's path. */
export async function writeRunResult(dir: string, result: BalancedRunResult): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(resolve(dir), resultsFileName(result.weights));
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`, 'utf8');
  return path;
}

export interface ExperimentsOptions {
  /** Everything but the weights, shared by all configurations. */
  readonly base: Omit<BalancedOptions, 'weights'>;
  readonly configs: readonly FocusWeights[];
  readonly outputDir: string;
  /** Run the configurations at once (HTTP providers); false runs them one after another (one local model). */
  readonly concurrent: boolean;
  /** Progress callback per configuration (overrides base.onProgress). */
  readonly progressFor?: (weights: FocusWeights) => BalancedOptions['onProgress'];
  readonly onRunDone?: (result: BalancedRunResult, path: string) => void;
}

export interface ExperimentsSummary {
  readonly outputDir: string;
  readonly files: string[];
  readonly results: BalancedRunResult[];
}

/** One balanced optimization per weight pair, each written to the same results folder as soon as it ends. */
export async function runExperiments(options: ExperimentsOptions): Promise<ExperimentsSummary> {
  const outputDir = resolve(options.outputDir);
  const names = options.configs.map(resultsFileName);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) {
    throw new OptNativeError('E_BAD_INPUT', `two weight configs normalize to the same pair (${repeated})`);
  }
  if (options.configs.length === 0) throw new OptNativeError('E_BAD_INPUT', 'no weight configs to run');
  const runOne = async (weights: FocusWeights): Promise<{ result: BalancedRunResult; path: string }> => {
    const onProgress = options.progressFor?.(weights) ?? options.base.onProgress;
    const result = await optimizeBalanced({ ...options.base, weights, onProgress });
    const path = await writeRunResult(outputDir, result);
    options.onRunDone?.(result, path);
    return { result, path };
  };
  const outcomes: { result: BalancedRunResult; path: string }[] = [];
  if (options.concurrent) {
    outcomes.push(...(await Promise.all(options.configs.map(runOne))));
  } else {
    for (const weights of options.configs) outcomes.push(await runOne(weights));
  }
  return {
    outputDir,
    files: outcomes.map((outcome) => outcome.path),
    results: outcomes.map((outcome) => outcome.result),
  };
}
