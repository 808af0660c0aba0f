// The metrics binding through the TS API: typed arrays, Arrow tables, files, normalization, errors,
// and parity with scikit-learn on the golden fixture (scripts/make_metrics_fixture.py).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import {
  balancedAccuracy,
  confusionMatrix,
  encodeLabels,
  metricsFromArrowTable,
  metricsFromCodes,
  metricsFromColumns,
  metricsFromFile,
  normalizeLabels,
  type MetricsReport,
} from '../ts/metrics/index.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/metrics/', import.meta.url));

interface ExpectedDataset {
  condition_cols: string[];
  n: number;
  labels: string[];
  accuracy: number;
  balanced_accuracy: number;
  macro_f1: number;
  confusion: number[][];
  per_condition: Record<string, Record<string, { n: number; balanced_accuracy: number }>>;
  ba_conditions_by_column: Record<string, number>;
  ba_conditions_macro: number;
}

const expected = JSON.parse(readFileSync(`${FIXTURES}expected.json`, 'utf8')) as Record<string, ExpectedDataset>;

/** Every number within 1e-12 of scikit-learn's. */
function expectSklearnParity(report: MetricsReport, reference: ExpectedDataset): void {
  expect(report.n).toBe(reference.n);
  expect(report.labels).toEqual(reference.labels);
  expect(Math.abs(report.accuracy - reference.accuracy)).toBeLessThanOrEqual(1e-12);
  expect(Math.abs(report.balanced_accuracy! - reference.balanced_accuracy)).toBeLessThanOrEqual(1e-12);
  expect(Math.abs(report.macro_f1 - reference.macro_f1)).toBeLessThanOrEqual(1e-12);
  expect(report.confusion.map((row) => row.slice(0, -1))).toEqual(reference.confusion);
  for (const [column, values] of Object.entries(reference.per_condition)) {
    expect(Object.keys(report.per_condition[column]!).sort()).toEqual(Object.keys(values).sort());
    for (const [value, theirs] of Object.entries(values)) {
      const ours = report.per_condition[column]![value]!;
      expect(ours.n).toBe(theirs.n);
      expect(Math.abs(ours.balanced_accuracy! - theirs.balanced_accuracy)).toBeLessThanOrEqual(1e-12);
    }
    expect(Math.abs(report.ba_conditions_by_column[column]! - reference.ba_conditions_by_column[column]!)).toBeLessThan(
      1e-12,
    );
  }
  expect(Math.abs(report.ba_conditions_macro! - reference.ba_conditions_macro)).toBeLessThanOrEqual(1e-12);
}

/** The fixture CSVs have no quoting or embedded commas. */
function readCsvColumns(path: string): Record<string, string[]> {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const names = header!.split(',');
  const columns: Record<string, string[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const line of lines) line.split(',').forEach((cell, i) => columns[names[i]!]!.push(cell));
  return columns;
}

describe('typed-array entry points', () => {
  it('balanced accuracy and confusion counts match hand-computed values', () => {
    // class 0: 3 rows, 2 right; class 1: 1 row, right → (2/3 + 1) / 2; adjusted: 2/3
    const yTrue = Uint32Array.of(0, 0, 0, 1);
    const yPred = Uint32Array.of(0, 0, 1, 1);
    expect(balancedAccuracy(yTrue, yPred, 2)).toBeCloseTo(5 / 6, 15);
    expect(balancedAccuracy(yTrue, yPred, 2, { adjusted: true })).toBeCloseTo(2 / 3, 15);
    expect(balancedAccuracy(Uint32Array.of(1), Uint32Array.of(1), 2, { adjusted: true })).toBeNull();
    // code 2 = unknown: its own column, counted wrong
    expect(confusionMatrix(Uint32Array.of(0, 1, 1), Uint32Array.of(0, 2, 1), 2)).toEqual([
      [1, 0, 0],
      [0, 1, 1],
    ]);
  });

  it('metricsFromCodes scores conditions (single condition, hand-computed)', () => {
    const labels = ['SPEECH', 'NON-SPEECH'];
    const report = metricsFromCodes({
      labels,
      yTrue: encodeLabels(
        ['SPEECH', 'SPEECH', 'NON-SPEECH', 'NON-SPEECH', 'SPEECH', 'NON-SPEECH', 'NON-SPEECH'],
        labels,
      ),
      yPred: Uint32Array.of(0, 1, 1, 2, 0, 1, 1),
      conditions: [{ name: 'snr', codes: Uint32Array.of(0, 0, 0, 0, 1, 1, 1), values: ['0dB', '20dB'] }],
    });
    expect(report.n).toBe(7);
    expect(report.balanced_accuracy).toBeCloseTo((2 / 3 + 3 / 4) / 2, 15);
    expect(report.unknown).toBe(1);
    expect(report.per_condition.snr!['0dB']).toMatchObject({ n: 4, balanced_accuracy: 0.5, unknown: 1 });
    expect(report.per_condition.snr!['20dB']!.balanced_accuracy).toBe(1);
    expect(report.ba_conditions_macro).toBe(0.75);
  });

  it('bootstrap intervals are seeded', () => {
    const yTrue = Uint32Array.from({ length: 400 }, (_, i) => i % 2);
    const yPred = Uint32Array.from({ length: 400 }, (_, i) => (i % 7 === 0 ? 1 - (i % 2) : i % 2));
    const rows = { yTrue, yPred, labels: ['a', 'b'] };
    const a = metricsFromCodes(rows, { bootstrap: 300, seed: 5 });
    const b = metricsFromCodes(rows, { bootstrap: 300, seed: 5 });
    expect(a.bootstrap).toEqual(b.bootstrap);
    expect(a.bootstrap!.low).toBeLessThan(a.balanced_accuracy!);
    expect(a.bootstrap!.high).toBeGreaterThan(a.balanced_accuracy!);
    expect(metricsFromCodes(rows, { bootstrap: 300, seed: 6 }).bootstrap).not.toEqual(a.bootstrap);
  });

  it('out-of-range codes and length mismatches are coded errors', () => {
    const bad = () =>
      metricsFromCodes({ yTrue: Uint32Array.of(0, 5), yPred: Uint32Array.of(0, 0), labels: ['a', 'b'] });
    expect(bad).toThrow(OptNativeError);
    expect(bad).toThrow(/row 1/);
    try {
      balancedAccuracy(Uint32Array.of(0, 1), Uint32Array.of(0), 2);
      expect.unreachable();
    } catch (error) {
      expect((error as OptNativeError).code).toBe('E_BAD_INPUT');
    }
    expect(() => metricsFromCodes({ yTrue: new Uint32Array(0), yPred: new Uint32Array(0), labels: ['a'] })).toThrow(
      expect.objectContaining({ code: 'E_EMPTY_TABLE' }),
    );
  });
});

describe('normalizeLabels', () => {
  it('maps the issue examples and reports unparseable text as null', () => {
    const texts = [
      'SPEECH',
      'speech.',
      'Non-speech',
      'NONSPEECH',
      'no speech',
      'The audio contains human speech',
      'There is no speech',
      'I cannot tell',
    ];
    expect(normalizeLabels(texts, { labels: ['SPEECH', 'NON-SPEECH'] })).toEqual([
      'SPEECH',
      'SPEECH',
      'NON-SPEECH',
      'NON-SPEECH',
      'NON-SPEECH',
      'SPEECH',
      'NON-SPEECH',
      null,
    ]);
  });

  it('takes label sets as data, with synonyms', () => {
    const labelSet = { labels: ['POS', 'NEG'], synonyms: { POS: ['positive'], NEG: ['negative'] } };
    expect(normalizeLabels(['clearly positive', 'not positive', 'NEG', 'meh'], labelSet)).toEqual([
      'POS',
      'NEG',
      'NEG',
      null,
    ]);
    expect(() => normalizeLabels(['x'], { labels: ['A'], synonyms: { B: ['b'] } })).toThrow(
      expect.objectContaining({ code: 'E_BAD_INPUT' }),
    );
  });
});

describe('tables', () => {
  for (const dataset of ['random_multiclass', 'random_binary']) {
    it(`${dataset}: the CSV and Parquet files match scikit-learn to 1e-12`, async () => {
      const reference = expected[dataset]!;
      for (const extension of ['csv', 'parquet']) {
        const report = await metricsFromFile(`${FIXTURES}${dataset}.${extension}`, {
          labelCol: 'label',
          predCol: 'pred',
          conditionCols: reference.condition_cols,
        });
        expectSklearnParity(report, reference);
      }
    });
  }

  it('an in-memory Arrow table (apache-arrow → IPC) matches scikit-learn too', async () => {
    const reference = expected.random_binary!;
    const columns = readCsvColumns(`${FIXTURES}random_binary.csv`);
    const report = await metricsFromArrowTable(tableFromArrays(columns), {
      labelCol: 'label',
      predCol: 'pred',
      conditionCols: reference.condition_cols,
    });
    expectSklearnParity(report, reference);
  });

  it('in-memory columns: numbers become their JS text, null predictions are unknown', async () => {
    const report = await metricsFromColumns(
      {
        label: ['SPEECH', 'NON-SPEECH', 'SPEECH', 'NON-SPEECH'],
        pred: ['speech', 'There is no speech', null, 'hmm'],
        snr: [0, 0, 10, 10],
      },
      { labelCol: 'label', predCol: 'pred', conditionCols: ['snr'], labels: ['SPEECH', 'NON-SPEECH'], normalize: true },
    );
    expect(Object.keys(report.per_condition.snr!).sort()).toEqual(['0', '10']);
    expect(report.unknown).toBe(2);
    expect(report.unknown_examples).toEqual(['hmm']);
    expect(report.per_condition.snr!['0']!.balanced_accuracy).toBe(1);
    expect(report.per_condition.snr!['10']!.balanced_accuracy).toBe(0);
    expect(report.balanced_accuracy).toBe(0.5);
  });

  it('bad files and columns reject with coded errors', async () => {
    const options = { labelCol: 'label', predCol: 'pred' };
    await expect(metricsFromFile(`${FIXTURES}nope.csv`, options)).rejects.toMatchObject({
      code: 'E_FILE_NOT_FOUND',
    });
    await expect(
      metricsFromFile(`${FIXTURES}random_binary.csv`, { ...options, conditionCols: ['snr'] }),
    ).rejects.toMatchObject({ code: 'E_MISSING_COLUMN', message: expect.stringContaining('label, pred, condition') });
    await expect(
      metricsFromFile(`${FIXTURES}random_binary.parquet`, { ...options, labels: ['YES', 'NO'] }),
    ).rejects.toMatchObject({ code: 'E_UNKNOWN_LABEL' });
    await expect(
      metricsFromArrowTable(tableFromArrays({ label: [] as string[], pred: [] as string[] }), options),
    ).rejects.toMatchObject({ code: 'E_EMPTY_TABLE' });
  });
});
