import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OptNativeError } from '../errors.js';
import type { Focus } from '../optimizers/balanced/focus.js';
import { balancedRunResultSchema, type BalancedRunResult } from '../optimizers/balanced/results.js';

/** One row of the summary table: a weight configuration, before and after optimization. */
export interface ReportRow {
  readonly label: string;
  readonly accuracyWeight: number;
  readonly efficiencyWeight: number;
  readonly initialAccuracy: number;
  readonly finalAccuracy: number;
  /** Final minus initial accuracy, as a fraction (0.2 = +20 percentage points). */
  readonly accuracyImprovement: number;
  readonly initialTokens: number;
  readonly finalTokens: number;
  /** Initial minus final mean completion tokens (positive = shorter answers). */
  readonly tokenReduction: number;
  /** Reduction as a percentage of the initial tokens; null when the initial mean was 0. */
  readonly tokenReductionPercent: number | null;
  readonly epochs: number;
  readonly reverts: number;
}

/** Per-epoch curves of one configuration; index 0 is the initial prompt. */
export interface ReportSeries {
  readonly label: string;
  readonly accuracy: readonly number[];
  readonly tokens: readonly number[];
  /** Focus of epochs 1..N (one shorter than the curves). */
  readonly focus: readonly Focus[];
  readonly reverted: readonly boolean[];
}

export interface ReportData {
  readonly rows: readonly ReportRow[];
  readonly series: readonly ReportSeries[];
  readonly runs: readonly BalancedRunResult[];
}

export function configLabel(weights: BalancedRunResult['weights']): string {
  return `acc ${weights.accuracy.toFixed(2)} / eff ${weights.efficiency.toFixed(2)}`;
}

export function reportRow(run: BalancedRunResult): ReportRow {
  const tokenReduction = run.initial.meanCompletionTokens - run.final.meanCompletionTokens;
  return {
    label: configLabel(run.weights),
    accuracyWeight: run.weights.accuracy,
    efficiencyWeight: run.weights.efficiency,
    initialAccuracy: run.initial.accuracy,
    finalAccuracy: run.final.accuracy,
    accuracyImprovement: run.final.accuracy - run.initial.accuracy,
    initialTokens: run.initial.meanCompletionTokens,
    finalTokens: run.final.meanCompletionTokens,
    tokenReduction,
    tokenReductionPercent:
      run.initial.meanCompletionTokens === 0 ? null : (tokenReduction / run.initial.meanCompletionTokens) * 100,
    epochs: run.epochs.length,
    reverts: run.epochs.filter((epoch) => epoch.reverted).length,
  };
}

export function reportSeries(run: BalancedRunResult): ReportSeries {
  return {
    label: configLabel(run.weights),
    accuracy: [run.initial.accuracy, ...run.epochs.map((epoch) => epoch.evaluation.accuracy)],
    tokens: [run.initial.meanCompletionTokens, ...run.epochs.map((epoch) => epoch.evaluation.meanCompletionTokens)],
    focus: run.epochs.map((epoch) => epoch.focus),
    reverted: run.epochs.map((epoch) => epoch.reverted),
  };
}

/** Rows and curves, ordered by accuracy weight (then efficiency weight) so the table reads as a sweep. */
export function buildReportData(runs: readonly BalancedRunResult[]): ReportData {
  const ordered = [...runs].sort(
    (a, b) => a.weights.accuracy - b.weights.accuracy || a.weights.efficiency - b.weights.efficiency,
  );
  return { rows: ordered.map(reportRow), series: ordered.map(reportSeries), runs: ordered };
}

/** Parses one results file; a file that is not a balanced run (or another version) is a coded error. */
export function parseRunResult(text: string, path: string): BalancedRunResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new OptNativeError('E_BAD_INPUT', `${path} is not valid JSON`, { cause: error });
  }
  const parsed = balancedRunResultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${path} is not a balanced-optimizer results file (v1): ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/** Every `balanced-*.json` results file in a folder, parsed and checked. */
export async function loadResultsFolder(dir: string): Promise<BalancedRunResult[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new OptNativeError('E_FILE_NOT_FOUND', `results folder not found: ${dir}`, { cause: error });
  }
  const files = names.filter((name) => /^balanced-.*\.json$/.test(name)).sort();
  if (files.length === 0) {
    throw new OptNativeError('E_EMPTY_TABLE', `no balanced-*.json results files in ${dir}`);
  }
  return Promise.all(
    files.map(async (name) => parseRunResult(await readFile(join(dir, name), 'utf8'), join(dir, name))),
  );
}
