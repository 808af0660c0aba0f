import type { ReportRow } from './data.js';

const HEADERS = [
  'weights (acc/eff)',
  'initial acc',
  'final acc',
  'improvement',
  'initial tokens',
  'final tokens',
  'reduction',
  '% reduction',
] as const;

function signed(value: number, unit: string): string {
  const text = value.toFixed(1);
  return `${value > 0 ? '+' : ''}${text === '-0.0' ? '0.0' : text}${unit}`;
}

function cells(row: ReportRow): string[] {
  return [
    `${row.accuracyWeight.toFixed(2)}/${row.efficiencyWeight.toFixed(2)}`,
    `${(row.initialAccuracy * 100).toFixed(1)}%`,
    `${(row.finalAccuracy * 100).toFixed(1)}%`,
    signed(row.accuracyImprovement * 100, ' pp'),
    row.initialTokens.toFixed(1),
    row.finalTokens.toFixed(1),
    signed(row.tokenReduction, ''),
    row.tokenReductionPercent === null ? '-' : signed(row.tokenReductionPercent, '%'),
  ];
}

/** The summary table as aligned plain text, for the terminal: first column left-aligned, numbers right-aligned. */
export function formatSummaryTable(rows: readonly ReportRow[]): string {
  const table = [[...HEADERS], ...rows.map(cells)];
  const widths = HEADERS.map((_, column) => Math.max(...table.map((line) => (line[column] ?? '').length)));
  const render = (line: string[]) =>
    line
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [render(table[0] ?? []), rule, ...table.slice(1).map(render)].join('\n');
}
