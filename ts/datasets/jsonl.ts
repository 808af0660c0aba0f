import { resolve } from 'node:path';
import { OptNativeError } from '../errors.js';
import { isRecord, parseJsonLines, readDatasetFile } from './read.js';
import { partitionExamples } from './split.js';
import type { DatasetLoadOptions, DatasetSplits, Example } from './types.js';

function fieldAsString(row: Record<string, unknown>, field: string, where: string): string {
  const value = row[field];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new OptNativeError('E_MISSING_COLUMN', `${where} has no string or number field "${field}"`);
}

/**
 * A user's JSON Lines file: one object a line, `input`/`target` by default (`inputField`/`targetField` rename them,
 * `idField` supplies ids). Split like BBH; the metric is exact match unless every target is a number.
 */
export async function loadJsonl(pathArgument: string, options: DatasetLoadOptions): Promise<DatasetSplits> {
  if (pathArgument === '') throw new OptNativeError('E_BAD_INPUT', 'jsonl datasets need a path: jsonl:PATH');
  const path = resolve(pathArgument);
  const inputField = options.inputField ?? 'input';
  const targetField = options.targetField ?? 'target';
  const rows = parseJsonLines(await readDatasetFile(path), path);
  if (rows.length === 0) throw new OptNativeError('E_EMPTY_TABLE', `${path} has no examples`);
  const examples: Example[] = rows.map((row, index) => {
    const where = `${path}:${index + 1}`;
    if (!isRecord(row)) throw new OptNativeError('E_BAD_INPUT', `${where} is not a JSON object`);
    return {
      id: options.idField ? fieldAsString(row, options.idField, where) : `jsonl-${index}`,
      input: fieldAsString(row, inputField, where),
      target: fieldAsString(row, targetField, where),
    };
  });
  const numeric = examples.every((example) => /^-?[\d,]*\.?\d+$/.test(example.target.trim()));
  const splits = partitionExamples(`jsonl:${path}`, examples, options);
  return { name: `jsonl:${path}`, defaultMetric: numeric ? 'numeric_match' : 'exact_match', ...splits };
}
