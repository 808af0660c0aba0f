// Metrics over 1M and 10M rows with 3 condition columns (8 × 6 × 5 values), 2 labels plus unknown predictions:
// the native core (`metricsFromCodes`, typed arrays read in place) against a straightforward TypeScript
// implementation over the same typed arrays (one pass filling Float64Array count tables, then the same scores).
// Both report overall accuracy/BA/macro-F1, per-condition BA and the condition macro; the bench checks they agree
// before timing.
//   npx tsx benches/metrics.bench.ts            (1M and 10M rows; METRICS_BENCH_ROWS=1000000 for one size)
import { Bench } from 'tinybench';
import { metricsFromCodes, type CodedRows, type MetricsReport } from '../ts/metrics/index.js';

const LABELS = ['SPEECH', 'NON-SPEECH'];
const CONDITIONS = [
  { name: 'snr', values: ['-10', '-5', '0', '5', '10', '15', '20', 'clean'] },
  { name: 'duration', values: ['20ms', '40ms', '80ms', '200ms', '500ms', '1000ms'] },
  { name: 'noise', values: ['white', 'pink', 'babble', 'music', 'none'] },
];

/** Deterministic xorshift32 so every run scores the same rows. */
function makeRows(n: number, seed = 12345): CodedRows {
  let state = seed;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const yTrue = new Uint32Array(n);
  const yPred = new Uint32Array(n);
  const codes = CONDITIONS.map(() => new Uint32Array(n));
  for (let i = 0; i < n; i++) {
    const t = next() < 0.4 ? 0 : 1;
    yTrue[i] = t;
    const r = next();
    yPred[i] = r < 0.8 ? t : r < 0.97 ? 1 - t : 2; // 80% right, 3% unknown
    for (let c = 0; c < CONDITIONS.length; c++) codes[c]![i] = Math.floor(next() * CONDITIONS[c]!.values.length);
  }
  return {
    yTrue,
    yPred,
    labels: LABELS,
    conditions: CONDITIONS.map((condition, c) => ({ ...condition, codes: codes[c]! })),
  };
}

interface TsSummary {
  accuracy: number;
  balancedAccuracy: number;
  macroF1: number;
  /** Per column: condition value → balanced accuracy (values with rows only). */
  perCondition: Map<string, number>[];
  baConditionsMacro: number;
}

/** Balanced accuracy of a k × (k+1) count block starting at `offset` (sklearn semantics). */
function balancedAccuracyTs(counts: Float64Array, offset: number, k: number): number {
  let sum = 0;
  let present = 0;
  for (let t = 0; t < k; t++) {
    let support = 0;
    for (let p = 0; p <= k; p++) support += counts[offset + t * (k + 1) + p]!;
    if (support > 0) {
      sum += counts[offset + t * (k + 1) + t]! / support;
      present++;
    }
  }
  return sum / present;
}

/** The straightforward TypeScript baseline: one pass over typed arrays into count tables. */
function metricsTs(rows: CodedRows): TsSummary {
  const k = rows.labels.length;
  const width = k + 1;
  const block = k * width;
  const conditions = rows.conditions ?? [];
  const overall = new Float64Array(block);
  const tables = conditions.map((c) => new Float64Array(c.values.length * block));
  const { yTrue, yPred } = rows;
  for (let i = 0; i < yTrue.length; i++) {
    const cell = yTrue[i]! * width + yPred[i]!;
    overall[cell]!++;
    for (let c = 0; c < conditions.length; c++) tables[c]![conditions[c]!.codes[i]! * block + cell]!++;
  }
  let correct = 0;
  let f1 = 0;
  let f1Classes = 0;
  for (let t = 0; t < k; t++) {
    correct += overall[t * width + t]!;
    let support = 0;
    let predicted = 0;
    for (let p = 0; p <= k; p++) support += overall[t * width + p]!;
    for (let s = 0; s < k; s++) predicted += overall[s * width + t]!;
    if (support + predicted > 0) {
      f1 += (2 * overall[t * width + t]!) / (support + predicted);
      f1Classes++;
    }
  }
  const perCondition = conditions.map((c, column) => {
    const scores = new Map<string, number>();
    c.values.forEach((value, code) => {
      const offset = code * block;
      if (tables[column]!.subarray(offset, offset + block).some((count) => count > 0)) {
        scores.set(value, balancedAccuracyTs(tables[column]!, offset, k));
      }
    });
    return scores;
  });
  const columnMeans = perCondition.map((scores) => [...scores.values()].reduce((a, b) => a + b, 0) / scores.size);
  return {
    accuracy: correct / yTrue.length,
    balancedAccuracy: balancedAccuracyTs(overall, 0, k),
    macroF1: f1 / f1Classes,
    perCondition,
    baConditionsMacro: columnMeans.reduce((a, b) => a + b, 0) / columnMeans.length,
  };
}

function assertSame(ts: TsSummary, native: MetricsReport): void {
  const close = (a: number, b: number | null, what: string) => {
    if (b === null || Math.abs(a - b) > 1e-12) throw new Error(`${what}: TS ${a} vs native ${b}`);
  };
  close(ts.accuracy, native.accuracy, 'accuracy');
  close(ts.balancedAccuracy, native.balanced_accuracy, 'balanced accuracy');
  close(ts.macroF1, native.macro_f1, 'macro F1');
  close(ts.baConditionsMacro, native.ba_conditions_macro, 'BA_conditions');
  CONDITIONS.forEach((condition, column) => {
    for (const [value, score] of ts.perCondition[column]!) {
      close(score, native.per_condition[condition.name]![value]!.balanced_accuracy, `${condition.name}=${value}`);
    }
  });
}

const sizes = process.env.METRICS_BENCH_ROWS ? [Number(process.env.METRICS_BENCH_ROWS)] : [1_000_000, 10_000_000];
const results: string[] = [];
for (const n of sizes) {
  const rows = makeRows(n);
  assertSame(metricsTs(rows), metricsFromCodes(rows));
  const bench = new Bench({ time: 3000, warmupTime: 500 });
  bench
    .add(`native metricsFromCodes, ${n / 1e6}M rows`, () => void metricsFromCodes(rows))
    .add(`TypeScript over typed arrays, ${n / 1e6}M rows`, () => void metricsTs(rows));
  await bench.run();
  console.table(bench.table());
  const [native, ts] = bench.tasks.map((task) => {
    const result = task.result as { latency?: { mean: number }; mean?: number } | undefined;
    return result?.latency?.mean ?? result?.mean ?? NaN;
  });
  results.push(
    `${n / 1e6}M rows: native ${native!.toFixed(1)} ms, TypeScript ${ts!.toFixed(1)} ms → ${(ts! / native!).toFixed(1)}×`,
  );
}
console.log(results.join('\n'));
