// Reads a manifest table (Parquet, CSV/TSV or JSON Lines) into plain rows, whatever wrote it.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { isRecord, parseJsonLines } from './read.js';
import { OptNativeError } from '../errors.js';
import { tableFromParquet } from './parquet.js';

export type TableRow = Record<string, unknown>;

export interface TableRows {
  readonly columns: readonly string[];
  readonly rows: readonly TableRow[];
}

async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new OptNativeError('E_FILE_NOT_FOUND', `manifest not found: ${path}`, { cause: error });
    }
    throw error;
  }
}

async function parquetRows(bytes: Buffer, path: string): Promise<TableRows> {
  const table = await tableFromParquet(bytes, path);
  const columns = table.schema.fields.map((field) => field.name);
  const rows = table.toArray().map((row) => ({ ...(row as { toJSON(): TableRow }).toJSON() }));
  return { columns, rows };
}

function delimitedRows(text: string, path: string, delimiter: string): TableRows {
  let records: TableRow[];
  try {
    records = parseCsv(text, { columns: true, delimiter, skip_empty_lines: true, bom: true, trim: true });
  } catch (error) {
    throw new OptNativeError('E_BAD_INPUT', `${path}: ${(error as Error).message}`, { cause: error });
  }
  const header = parseCsv(text, { to_line: 1, delimiter, bom: true, trim: true }) as string[][];
  return { columns: header[0] ?? [], rows: records };
}

function jsonlRows(text: string, path: string): TableRows {
  const rows = parseJsonLines(text, path).map((row, index) => {
    if (!isRecord(row)) throw new OptNativeError('E_BAD_INPUT', `${path}:${index + 1} is not a JSON object`);
    return row;
  });
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return { columns, rows };
}

/** The format comes from the extension: .parquet, .csv, .tsv, .jsonl/.ndjson. */
export async function readTableRows(path: string): Promise<TableRows> {
  const extension = extname(path).toLowerCase();
  const bytes = await readBytes(path);
  switch (extension) {
    case '.parquet':
      return parquetRows(bytes, path);
    case '.csv':
      return delimitedRows(bytes.toString('utf8'), path, ',');
    case '.tsv':
      return delimitedRows(bytes.toString('utf8'), path, '\t');
    case '.jsonl':
    case '.ndjson':
      return jsonlRows(bytes.toString('utf8'), path);
    default:
      throw new OptNativeError(
        'E_BAD_INPUT',
        `${path}: unknown manifest format "${extension}"; use .parquet, .csv, .tsv or .jsonl`,
      );
  }
}

/** A cell as text: null/undefined/empty → undefined; integers without a fraction; bigint as decimal. */
export function cellText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
