// Audio manifests as datasets: one row per clip (id, audio path, label, split, condition columns), from Parquet,
// CSV/TSV or JSON Lines. `speech_conditions:DIR` reads what `opt-native data speech-conditions` writes;
// `audio_manifest:FILE` reads any manifest with those columns.
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { OptNativeError } from '../errors.js';
import { partitionExamples, requestedSizes, seededSubset } from './split.js';
import { cellText, readTableRows, type TableRow } from './table-rows.js';
import {
  DEFAULT_SPLIT_SEED,
  type DatasetLoadOptions,
  type DatasetSplits,
  type Example,
  type SplitName,
} from './types.js';

/** The file `opt-native data speech-conditions` writes (ts/audio/build.ts) and `speech_conditions:DIR` reads. */
export const MANIFEST_FILE = 'conditions_manifest_split.parquet';
export const SPEECH_LABEL = 'SPEECH';
export const NONSPEECH_LABEL = 'NON-SPEECH';
export type SpeechLabel = typeof SPEECH_LABEL | typeof NONSPEECH_LABEL;

/** The condition columns of the speech-conditions manifest, in order (what `--condition-cols` and BA_cond use). */
export const CONDITION_COLUMNS = ['snr_db', 'noise_type', 'duration_ms', 'band', 'reverb', 'level_dbfs'] as const;

/** A clip: `input` is the absolute audio path, `target` the label, `conditions` the condition values as text. */
export interface AudioExample extends Example {
  readonly audioPath: string;
  readonly conditions: Readonly<Record<string, string>>;
}

export interface AudioManifestDataset extends DatasetSplits {
  readonly train: readonly AudioExample[];
  readonly validation: readonly AudioExample[];
  readonly test: readonly AudioExample[];
  readonly manifestPath: string;
  /** Distinct labels, sorted. */
  readonly labels: readonly string[];
  readonly conditionColumns: readonly string[];
}

export interface AudioManifestOptions {
  /** Condition columns; default: every column that is not id, audio, label, split or provenance. */
  conditionColumns?: readonly string[];
  /** Labels every row must have (speech_conditions: SPEECH / NON-SPEECH). */
  allowedLabels?: readonly string[];
}

const ID_COLUMNS = ['clip_id', 'id'];
const AUDIO_COLUMNS = ['audio_path', 'path', 'audio', 'file'];
const LABEL_COLUMNS = ['label', 'target'];
const SPLIT_COLUMN = 'split';
/** Provenance and measurements the builder writes that are not conditions. */
const NON_CONDITION = /^(source_.*|rms_dbfs|gain_db|varied|transcript|notes?)$/;
/** Null condition cells (clean clips have no SNR) are grouped as this value. */
export const MISSING_CONDITION_VALUE = 'none';

const SPLIT_ALIASES: Readonly<Record<string, SplitName>> = {
  train: 'train',
  dev: 'validation',
  val: 'validation',
  valid: 'validation',
  validation: 'validation',
  test: 'test',
};

function findColumn(columns: readonly string[], candidates: readonly string[], what: string, path: string): string {
  const found = candidates.find((candidate) => columns.includes(candidate));
  if (found === undefined) {
    throw new OptNativeError(
      'E_MISSING_COLUMN',
      `${path} has no ${what} column (looked for ${candidates.join(', ')}; columns: ${columns.join(', ')})`,
    );
  }
  return found;
}

interface ColumnNames {
  id: string;
  audio: string;
  label: string;
  split?: string;
  conditions: readonly string[];
}

function columnNames(columns: readonly string[], path: string, options: AudioManifestOptions): ColumnNames {
  const id = findColumn(columns, ID_COLUMNS, 'clip id', path);
  const audio = findColumn(columns, AUDIO_COLUMNS, 'audio path', path);
  const label = findColumn(columns, LABEL_COLUMNS, 'label', path);
  const split = columns.includes(SPLIT_COLUMN) ? SPLIT_COLUMN : undefined;
  const taken = new Set([id, audio, label, SPLIT_COLUMN]);
  const conditions =
    options.conditionColumns ?? columns.filter((column) => !taken.has(column) && !NON_CONDITION.test(column));
  const missing = conditions.filter((column) => !columns.includes(column));
  if (missing.length > 0) {
    throw new OptNativeError('E_MISSING_COLUMN', `${path} has no condition column ${missing.join(', ')}`);
  }
  return { id, audio, label, split, conditions };
}

function required(row: TableRow, column: string, where: string): string {
  const text = cellText(row[column]);
  if (text === undefined) throw new OptNativeError('E_BAD_INPUT', `${where}: empty ${column}`);
  return text;
}

function exampleOf(row: TableRow, names: ColumnNames, baseDir: string, where: string): AudioExample {
  const relativePath = required(row, names.audio, where);
  const audioPath = isAbsolute(relativePath) ? relativePath : join(baseDir, relativePath);
  const conditions = Object.fromEntries(
    names.conditions.map((column) => [column, cellText(row[column]) ?? MISSING_CONDITION_VALUE]),
  );
  return {
    id: required(row, names.id, where),
    input: audioPath,
    target: required(row, names.label, where),
    audioPath,
    conditions,
  };
}

function splitOf(row: TableRow, column: string, where: string): SplitName {
  const value = required(row, column, where).toLowerCase();
  const split = SPLIT_ALIASES[value];
  if (!split) throw new OptNativeError('E_BAD_INPUT', `${where}: unknown split "${value}" (train, dev, test)`);
  return split;
}

function checkRows(examples: readonly AudioExample[], path: string, options: AudioManifestOptions): void {
  const ids = new Set<string>();
  for (const example of examples) {
    if (ids.has(example.id)) throw new OptNativeError('E_BAD_INPUT', `${path}: clip id "${example.id}" appears twice`);
    ids.add(example.id);
    if (options.allowedLabels && !options.allowedLabels.includes(example.target)) {
      throw new OptNativeError(
        'E_UNKNOWN_LABEL',
        `${path}: clip ${example.id} has label "${example.target}", expected ${options.allowedLabels.join(' or ')}`,
      );
    }
  }
  const missing = examples.filter((example) => !existsSync(example.audioPath));
  if (missing.length > 0) {
    const shown = missing.slice(0, 3).map((example) => example.audioPath);
    throw new OptNativeError(
      'E_FILE_NOT_FOUND',
      `${path}: ${missing.length} audio files missing, e.g. ${shown.join(', ')}`,
    );
  }
}

/** Splits by the manifest's split column (dev = validation), then trims each split to the requested size. */
function splitExamples(
  examples: readonly AudioExample[],
  splitNames: SplitName[] | undefined,
  name: string,
  options: DatasetLoadOptions,
): Pick<AudioManifestDataset, 'train' | 'validation' | 'test'> {
  // The shared split helpers work on Example; ids are unique (checked), so map their picks back to the clips.
  const byId = new Map(examples.map((example) => [example.id, example]));
  const clips = (picked: readonly Example[]) => picked.map((example) => byId.get(example.id) as AudioExample);
  if (!splitNames) {
    const parts = partitionExamples(name, examples, options);
    return { train: clips(parts.train), validation: clips(parts.validation), test: clips(parts.test) };
  }
  const sizes = requestedSizes(options);
  const seed = options.seed ?? DEFAULT_SPLIT_SEED;
  const of = (split: SplitName) => {
    const members = examples.filter((_, index) => splitNames[index] === split);
    return clips(seededSubset(`${name}/${split}`, members, sizes[split], seed));
  };
  return { train: of('train'), validation: of('validation'), test: of('test') };
}

/** Reads and checks a manifest (columns, labels, unique ids, audio files on disk) into train/validation/test. */
export async function loadAudioManifestFile(
  pathArgument: string,
  options: DatasetLoadOptions & AudioManifestOptions = {},
  name = `audio_manifest:${pathArgument}`,
): Promise<AudioManifestDataset> {
  const path = resolve(pathArgument);
  const table = await readTableRows(path);
  if (table.rows.length === 0) throw new OptNativeError('E_EMPTY_TABLE', `${path} has no clips`);
  const names = columnNames(table.columns, path, options);
  const where = (index: number) => `${path} row ${index + 1}`;
  const examples = table.rows.map((row, index) => exampleOf(row, names, dirname(path), where(index)));
  checkRows(examples, path, options);
  const split = names.split;
  const splitNames =
    split === undefined ? undefined : table.rows.map((row, index) => splitOf(row, split, where(index)));
  return {
    name,
    defaultMetric: 'exact_match',
    ...splitExamples(examples, splitNames, name, options),
    manifestPath: path,
    labels: [...new Set(examples.map((example) => example.target))].sort(),
    conditionColumns: names.conditions,
  };
}

/** `audio_manifest:FILE`: any manifest with clip id, audio path and label columns. */
export function loadAudioManifest(argument: string, options: DatasetLoadOptions): Promise<AudioManifestDataset> {
  if (argument === '') throw new OptNativeError('E_BAD_INPUT', 'audio manifests need a path: audio_manifest:FILE');
  return loadAudioManifestFile(argument, options);
}

/** `speech_conditions:DIR` (or the manifest file itself): SPEECH / NON-SPEECH clips with the builder's conditions. */
export function loadSpeechConditions(argument: string, options: DatasetLoadOptions): Promise<AudioManifestDataset> {
  if (argument === '') {
    throw new OptNativeError('E_BAD_INPUT', 'speech_conditions needs the dataset folder: speech_conditions:DIR');
  }
  const path = existsSync(argument) && statSync(argument).isDirectory() ? join(argument, MANIFEST_FILE) : argument;
  return loadAudioManifestFile(
    path,
    { ...options, conditionColumns: CONDITION_COLUMNS, allowedLabels: [SPEECH_LABEL, NONSPEECH_LABEL] },
    `speech_conditions:${resolve(path)}`,
  );
}
