// `opt-native metrics`: accuracy, balanced accuracy and per-condition BA of a predictions table.
import { Option, type Command } from 'commander';
import { OptNativeError } from '../../errors.js';
import { parseInteger } from '../../numbers.js';
import {
  formatMetricsReport,
  metricsFromFile,
  type TableFormat,
  type TableMetricsOptions,
} from '../../metrics/index.js';

interface MetricsOptionValues {
  input: string;
  labelCol: string;
  predCol: string;
  conditionCols?: string;
  labels?: string;
  synonym: string[];
  normalize?: boolean;
  adjusted?: boolean;
  bootstrap?: string;
  seed: string;
  confidence: string;
  format?: TableFormat;
  json?: boolean;
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length > 0 ? items : undefined;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Resamples beyond this change a 95 % interval by less than its rounding; more is only work. */
const MAX_BOOTSTRAP_RESAMPLES = 1_000_000;

/** `--synonym SPEECH=voice|talking` (repeatable) → `{ SPEECH: ['voice', 'talking'] }`. */
export function parseSynonyms(entries: readonly string[]): Record<string, string[]> | undefined {
  if (entries.length === 0) return undefined;
  const synonyms: Record<string, string[]> = {};
  for (const entry of entries) {
    const split = entry.indexOf('=');
    const label = entry.slice(0, split).trim();
    const phrases = entry
      .slice(split + 1)
      .split('|')
      .map((phrase) => phrase.trim())
      .filter((phrase) => phrase !== '');
    if (split <= 0 || label === '' || phrases.length === 0) {
      throw new OptNativeError('E_BAD_INPUT', `--synonym expects LABEL=phrase|phrase, got \`${entry}\``);
    }
    synonyms[label] = [...(synonyms[label] ?? []), ...phrases];
  }
  return synonyms;
}

/** Turns the parsed flags into the native options (validating numbers and label flags). */
export function metricsOptionsFromFlags(values: MetricsOptionValues): TableMetricsOptions {
  const labels = list(values.labels);
  const synonyms = parseSynonyms(values.synonym);
  if (synonyms && !labels) throw new OptNativeError('E_BAD_INPUT', '--synonym needs --labels');
  const confidence = Number(values.confidence);
  if (!(confidence > 0 && confidence < 1)) {
    throw new OptNativeError('E_BAD_INPUT', `--confidence must be in (0, 1), got \`${values.confidence}\``);
  }
  return {
    labelCol: values.labelCol,
    predCol: values.predCol,
    conditionCols: list(values.conditionCols),
    labels,
    synonyms,
    normalize: values.normalize ?? false,
    adjusted: values.adjusted ?? false,
    bootstrap:
      values.bootstrap === undefined
        ? undefined
        : parseInteger('--bootstrap', values.bootstrap, { min: 1, max: MAX_BOOTSTRAP_RESAMPLES }),
    seed: parseInteger('--seed', values.seed), // the native bootstrap takes a u32
    confidence,
    format: values.format,
  };
}

export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description('Score predictions in a Parquet/CSV/TSV/JSONL/Arrow table: accuracy, balanced accuracy, per condition')
    .requiredOption('--input <file>', 'table with one row per example')
    .requiredOption('--label-col <column>', 'column with the true labels')
    .requiredOption('--pred-col <column>', 'column with the predictions (labels or model text)')
    .option('--condition-cols <a,b>', 'columns whose values define conditions (per-condition BA and BA_conditions)')
    .option('--labels <A,B>', 'fixed label set in class order; true labels outside it are an error')
    .option('--synonym <LABEL=a|b>', 'extra phrases for a label (repeatable; needs --labels)', collect, [])
    .option('--normalize', 'map free-text predictions ("There is no speech") to labels; the rest are unknown')
    .option('--adjusted', 'chance-adjusted balanced accuracy (scikit-learn adjusted=True)')
    .option('--bootstrap <n>', 'bootstrap resamples for a balanced-accuracy confidence interval')
    .option('--seed <s>', 'bootstrap seed', '0')
    .option('--confidence <c>', 'bootstrap interval coverage', '0.95')
    .addOption(
      new Option('--format <format>', 'table format (default: from the extension)').choices([
        'parquet',
        'csv',
        'tsv',
        'jsonl',
        'arrow',
      ]),
    )
    .option('--json', 'print the report as JSON')
    .action(async (values: MetricsOptionValues) => {
      const report = await metricsFromFile(values.input, metricsOptionsFromFlags(values));
      process.stdout.write(
        values.json ? `${JSON.stringify(report, null, 2)}\n` : formatMetricsReport(report, values.input),
      );
    });
}
