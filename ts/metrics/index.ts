// Typed API over the native metrics core: files, Arrow tables, in-memory columns and coded arrays.
import { tableFromArrays, tableToIPC, type Table } from 'apache-arrow';
import { fromNativeError } from '../errors.js';
import { nativeBinding } from '../native/binding.js';
import type { CodedRows, LabelSetOptions, MetricsReport, ScoreOptions, TableMetricsOptions } from './types.js';

export type * from './types.js';
export { formatMetricsReport } from './format.js';

async function callNative<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw fromNativeError(error);
  }
}

function callNativeSync<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw fromNativeError(error);
  }
}

/** Scores a Parquet, CSV, TSV, JSONL or Arrow IPC file, off the event loop. */
export function metricsFromFile(path: string, options: TableMetricsOptions): Promise<MetricsReport> {
  return callNative(async () => (await nativeBinding().metricsFromFile(path, options)) as unknown as MetricsReport);
}

/** Scores Arrow IPC bytes (stream or file format). */
export function metricsFromIpc(ipc: Uint8Array, options: TableMetricsOptions): Promise<MetricsReport> {
  const buffer = Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength);
  return callNative(async () => (await nativeBinding().metricsFromArrow(buffer, options)) as unknown as MetricsReport);
}

/** Scores an apache-arrow table (sent to Rust as one IPC stream, no per-row objects). */
export function metricsFromArrowTable(table: Table, options: TableMetricsOptions): Promise<MetricsReport> {
  return metricsFromIpc(tableToIPC(table, 'stream'), options);
}

type CellValue = string | number | boolean | null | undefined;

/**
 * Scores in-memory columns (`{ label: [...], pred: [...], snr: [...] }`). Numbers and booleans are
 * compared as their JS string form (`10`, `true`); `null`/`undefined` predictions are `unknown`.
 */
export function metricsFromColumns(
  columns: Record<string, readonly CellValue[]>,
  options: TableMetricsOptions,
): Promise<MetricsReport> {
  const asText: Record<string, (string | null)[]> = {};
  for (const [name, values] of Object.entries(columns)) {
    asText[name] = values.map((value) => (value === null || value === undefined ? null : String(value)));
  }
  return metricsFromArrowTable(tableFromArrays(asText), options);
}

/** Scores rows already encoded as class codes (synchronous, typed arrays read in place). */
export function metricsFromCodes(rows: CodedRows, options: ScoreOptions = {}): MetricsReport {
  return callNativeSync(() => nativeBinding().metricsFromCodes(rows, options) as unknown as MetricsReport);
}

/** Balanced accuracy of class codes (`yPred[i] === numClasses` is unknown); `null` when undefined. */
export function balancedAccuracy(
  yTrue: Uint32Array,
  yPred: Uint32Array,
  numClasses: number,
  options: { adjusted?: boolean } = {},
): number | null {
  return callNativeSync(() => nativeBinding().balancedAccuracy(yTrue, yPred, numClasses, options.adjusted) ?? null);
}

/** Confusion counts as rows (true classes) × columns (predicted classes, then `unknown`). */
export function confusionMatrix(yTrue: Uint32Array, yPred: Uint32Array, numClasses: number): number[][] {
  const flat = callNativeSync(() => nativeBinding().confusionMatrix(yTrue, yPred, numClasses));
  const width = numClasses + 1;
  return Array.from({ length: numClasses }, (_, row) => Array.from(flat.subarray(row * width, (row + 1) * width)));
}

/** Maps free-text model outputs to labels; `null` where unparseable or contradictory. */
export function normalizeLabels(texts: readonly string[], labelSet: LabelSetOptions): (string | null)[] {
  return callNativeSync(() =>
    nativeBinding()
      .normalizeLabels([...texts], labelSet)
      .map((label) => label ?? null),
  );
}

/** Codes for `values` against `labels` (exact match); anything else becomes `labels.length` (unknown). */
export function encodeLabels(values: readonly string[], labels: readonly string[]): Uint32Array {
  const index = new Map(labels.map((label, code) => [label, code]));
  return Uint32Array.from(values, (value) => index.get(value) ?? labels.length);
}
