import { readFile } from 'node:fs/promises';
import { OptNativeError } from '../errors.js';

/** Reads a dataset file, turning a missing file into E_FILE_NOT_FOUND with the path and the override hint. */
export async function readDatasetFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new OptNativeError(
        'E_FILE_NOT_FOUND',
        `dataset file not found: ${path} (set OPT_NATIVE_DATASETS or --datasets-root to the datasets folder)`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Parses JSON Lines, skipping blank lines; a bad line is reported with its number. */
export function parseJsonLines(text: string, path: string): unknown[] {
  const rows: unknown[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      rows.push(JSON.parse(line));
    } catch (error) {
      throw new OptNativeError('E_BAD_INPUT', `${path}:${index + 1} is not valid JSON`, { cause: error });
    }
  });
  return rows;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
