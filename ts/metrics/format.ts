// Plain-text rendering of a metrics report for the terminal (the CLI without --json).
import type { MetricsReport } from './types.js';

function score(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(4);
}

function percent(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

/** Left-aligned first column, right-aligned others, two spaces between. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map((cells) => `  ${line(cells)}`);
}

const naturalOrder = new Intl.Collator('en', { numeric: true }).compare;

/** Condition values sorted naturally (numeric-looking values by number). */
function sortedValues(values: string[]): string[] {
  const numeric = values.every((value) => value.trim() !== '' && Number.isFinite(Number(value)));
  return numeric ? [...values].sort((a, b) => Number(a) - Number(b)) : [...values].sort(naturalOrder);
}

/** The report as aligned text: overall scores, per class, then one table per condition column. */
export function formatMetricsReport(report: MetricsReport, source?: string): string {
  const ba = report.adjusted ? 'balanced accuracy (adjusted)' : 'balanced accuracy';
  const lines = [`metrics${source ? ` for ${source}` : ''}: n = ${report.n}, labels = ${report.labels.join(', ')}`];
  const overall: [string, string][] = [
    ['accuracy', score(report.accuracy)],
    [ba, score(report.balanced_accuracy)],
    ['macro F1', score(report.macro_f1)],
    ['unknown', `${report.unknown} (${percent(report.unknown_rate)})`],
  ];
  if (report.bootstrap) {
    const { low, high, confidence, resamples, seed } = report.bootstrap;
    overall.splice(2, 0, [
      `${ba} ${Math.round(confidence * 100)}% CI`,
      `[${low.toFixed(4)}, ${high.toFixed(4)}] (${resamples} resamples, seed ${seed})`,
    ]);
  }
  if (report.ba_conditions_macro !== null) overall.push(['BA_conditions (macro)', score(report.ba_conditions_macro)]);
  const labelWidth = Math.max(...overall.map(([name]) => name.length));
  for (const [name, value] of overall) lines.push(`  ${name.padEnd(labelWidth)}  ${value}`);
  if (report.unknown_examples.length > 0) {
    lines.push(`  unparseable, e.g.: ${report.unknown_examples.map((text) => JSON.stringify(text)).join(', ')}`);
  }
  lines.push('', 'per class');
  lines.push(
    ...table(
      ['label', 'support', 'predicted', 'recall'],
      report.per_class.map((c) => [c.label, String(c.support), String(c.predicted), score(c.recall)]),
    ),
  );
  for (const [column, values] of Object.entries(report.per_condition)) {
    lines.push('', `condition ${column} (mean BA ${score(report.ba_conditions_by_column[column] ?? null)})`);
    const rows = sortedValues(Object.keys(values)).map((value) => {
      const v = values[value]!;
      return [value, String(v.n), score(v.accuracy), score(v.balanced_accuracy), String(v.unknown)];
    });
    lines.push(...table([column, 'n', 'accuracy', 'balanced_acc', 'unknown'], rows));
  }
  return `${lines.join('\n')}\n`;
}
