import { join } from 'node:path';
import { OptNativeError } from '../errors.js';
import { parseGsm8kAnswer, parseGsm8kRationale } from './number-text.js';
import { isRecord, parseJsonLines, readDatasetFile } from './read.js';
import { resolveDatasetsRoot } from './root.js';
import { requestedSizes, seededSubset } from './split.js';
import { DEFAULT_SPLIT_SEED, type DatasetLoadOptions, type DatasetSplits, type Example } from './types.js';

/** Validation examples held out of train.jsonl when no size is given (test.jsonl stays the test split). */
export const GSM8K_DEFAULT_VALIDATION_SIZE = 200;

async function readGsm8kFile(path: string, idPrefix: string): Promise<Example[]> {
  const rows = parseJsonLines(await readDatasetFile(path), path);
  return rows.map((row, index) => {
    if (!isRecord(row) || typeof row.question !== 'string' || typeof row.answer !== 'string') {
      throw new OptNativeError('E_BAD_INPUT', `${path}:${index + 1} lacks string "question" and "answer" fields`);
    }
    const target = parseGsm8kAnswer(row.answer);
    if (target === null) {
      throw new OptNativeError('E_BAD_INPUT', `${path}:${index + 1} has no "#### <number>" final answer`);
    }
    const rationale = parseGsm8kRationale(row.answer);
    return { id: `${idPrefix}-${index}`, input: row.question, target, ...(rationale === '' ? {} : { rationale }) };
  });
}

/**
 * GSM8K: validation and train are disjoint seeded draws from train.jsonl (validation first), test comes from
 * test.jsonl. Targets are the canonical number after `#### ` ("1,000" → "1000"); the solution before it is the
 * example's rationale.
 */
export async function loadGsm8k(argument: string, options: DatasetLoadOptions): Promise<DatasetSplits> {
  if (argument !== '') throw new OptNativeError('E_BAD_INPUT', `gsm8k takes no argument, got "gsm8k:${argument}"`);
  const folder = join(resolveDatasetsRoot(options.datasetsRoot), 'gsm8k');
  const seed = options.seed ?? DEFAULT_SPLIT_SEED;
  const sizes = requestedSizes(options);
  const trainPool = await readGsm8kFile(join(folder, 'train.jsonl'), 'gsm8k-train');
  const testPool = await readGsm8kFile(join(folder, 'test.jsonl'), 'gsm8k-test');
  const validationSize = sizes.validation ?? GSM8K_DEFAULT_VALIDATION_SIZE;
  const trainSize = sizes.train ?? trainPool.length - validationSize;
  if (trainSize + validationSize > trainPool.length) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `gsm8k train.jsonl has ${trainPool.length} examples, fewer than ${trainSize} train + ${validationSize} validation`,
    );
  }
  const drawn = seededSubset('gsm8k train pool', trainPool, trainSize + validationSize, seed);
  return {
    name: 'gsm8k',
    defaultMetric: 'numeric_match',
    validation: drawn.slice(0, validationSize),
    train: drawn.slice(validationSize),
    test: seededSubset('gsm8k test', testPool, sizes.test, seed),
  };
}
