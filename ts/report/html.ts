import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BalancedRunResult, EpochRecord } from '../optimizers/balanced/results.js';
import { CHARTS_SCRIPT } from './charts-script.js';
import { configLabel, type ReportData, type ReportRow } from './data.js';
import { escapeHtml, jsonForScript, scriptSafe } from './escape.js';

/** Ids of the chart canvases; the PNG renderer screenshots each one to `<id without "chart-">.png`. */
export const CHART_IDS = ['chart-accuracy', 'chart-tokens', 'chart-tradeoff'] as const;

// Canvases are blocks so that the chart boxes (and their PNG screenshots) are exactly the canvas size.
const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1100px;
  color: #1f2937; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.meta { color: #6b7280; }
table { border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d1d5db; padding: 0.35rem 0.6rem; text-align: right; }
th { background: #f3f4f6; } td:first-child, th:first-child { text-align: left; }
.better { color: #15803d; } .worse { color: #b91c1c; }
.chart { margin: 1rem 0; border: 1px solid #e5e7eb; display: inline-block; background: #fff; }
.chart canvas { display: block; }
pre { white-space: pre-wrap; word-break: break-word; background: #f9fafb; border: 1px solid #e5e7eb; padding: 0.6rem; }
details { margin: 0.5rem 0; } summary { cursor: pointer; }
`;

/** Chart.js's UMD build from node_modules, read at report time so the page needs no network. */
export async function readChartJsSource(): Promise<string> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('chart.js');
  return readFile(join(dirname(entry), 'chart.umd.min.js'), 'utf8');
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

function signed(value: number, digits: number, unit: string): string {
  const text = value.toFixed(digits);
  return `${value > 0 ? '+' : ''}${text === '-0.0' ? '0.0' : text}${unit}`;
}

function tone(value: number): string {
  return value > 0 ? 'better' : value < 0 ? 'worse' : '';
}

function summaryRow(row: ReportRow): string {
  const cells = [
    escapeHtml(row.label),
    percent(row.initialAccuracy),
    percent(row.finalAccuracy),
    `<span class="${tone(row.accuracyImprovement)}">${signed(row.accuracyImprovement * 100, 1, ' pp')}</span>`,
    row.initialTokens.toFixed(1),
    row.finalTokens.toFixed(1),
    `<span class="${tone(row.tokenReduction)}">${signed(row.tokenReduction, 1, '')}</span>`,
    row.tokenReductionPercent === null ? '—' : signed(row.tokenReductionPercent, 1, '%'),
    `${row.reverts} / ${row.epochs}`,
  ];
  return `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;
}

function summaryTable(rows: readonly ReportRow[]): string {
  const headers = [
    'Weights (accuracy / efficiency)',
    'Initial accuracy',
    'Final accuracy',
    'Improvement',
    'Initial tokens',
    'Final tokens',
    'Reduction',
    '% reduction',
    'Reverts / epochs',
  ];
  return `<table id="summary"><thead><tr>${headers.map((header) => `<th>${header}</th>`).join('')}</tr></thead>
<tbody>${rows.map(summaryRow).join('\n')}</tbody></table>`;
}

function epochRow(epoch: EpochRecord): string {
  const validation = epoch.validation
    ? `${percent(epoch.validation.previous.accuracy)} → ${percent(epoch.validation.candidate.accuracy)}`
    : '—';
  const decision = epoch.reverted ? `reverted: ${escapeHtml(epoch.revertReason ?? '')}` : 'kept';
  return `<tr><td>${epoch.epoch}</td><td>${epoch.focus}</td><td>${percent(epoch.evaluation.accuracy)}</td>
<td>${epoch.evaluation.meanCompletionTokens.toFixed(1)}</td><td>${validation}</td><td>${decision}</td>
<td><details><summary>prompt</summary><pre>${escapeHtml(epoch.prompt)}</pre></details></td></tr>`;
}

function runDetails(run: BalancedRunResult): string {
  const settings = run.settings;
  return `<details class="run"><summary>${escapeHtml(configLabel(run.weights))}: ${escapeHtml(run.model)}
(optimizer ${escapeHtml(run.optimizerModel)}), ${run.usage.total.calls} calls</summary>
<p class="meta">batch ${settings.batchSize}, ${settings.maxEpochs} epochs, ${settings.evalSamples} eval samples,
validation ${settings.runValidation ? 'on' : 'off'}, seed ${settings.seed}; stopped: ${run.stopReason}${
    run.stopMessage === null ? '' : ` (${escapeHtml(run.stopMessage)})`
  }</p>
<h3>Initial prompt</h3><pre>${escapeHtml(run.initialPrompt)}</pre>
<h3>Final prompt</h3><pre class="final-prompt">${escapeHtml(run.finalPrompt)}</pre>
<table><thead><tr><th>Epoch</th><th>Focus</th><th>Accuracy</th><th>Tokens</th><th>Validation</th><th>Decision</th>
<th>Prompt</th></tr></thead><tbody>${run.epochs.map(epochRow).join('\n')}</tbody></table></details>`;
}

function sha256Source(source: string): string {
  return `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`;
}

export interface RenderReportOptions {
  readonly title?: string;
  /** Chart.js UMD source; read from node_modules when absent. */
  readonly chartJsSource?: string;
  readonly generatedAt?: Date;
}

/**
 * A self-contained HTML page: the summary table, three Chart.js charts and every prompt, escaped. The charts' data
 * sits in a JSON block; a Content-Security-Policy lets only the two inline scripts (by hash) run, so even a prompt
 * that escaped the escaping could not execute.
 */
export async function renderReportHtml(data: ReportData, options: RenderReportOptions = {}): Promise<string> {
  const chartJs = scriptSafe(options.chartJsSource ?? (await readChartJsSource()));
  const charts = scriptSafe(CHARTS_SCRIPT);
  // Only fixed keywords and base64 hashes: safe inside the double-quoted attribute without escaping.
  const csp = [
    "default-src 'none'",
    `script-src ${sha256Source(chartJs)} ${sha256Source(charts)}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
  ].join('; ');
  const title = options.title ?? 'Balanced prompt optimization report';
  const tasks = [...new Set(data.runs.map((run) => run.task))].join(', ');
  const models = [...new Set(data.runs.map((run) => run.model))].join(', ');
  const chartData = { series: data.series };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">Task: ${escapeHtml(tasks)} · Model: ${escapeHtml(models)} · ${data.runs.length} configurations ·
generated ${(options.generatedAt ?? new Date()).toISOString()}</p>
<h2>Summary</h2>
${summaryTable(data.rows)}
<h2>Charts</h2>
${CHART_IDS.map((id) => `<div class="chart"><canvas id="${id}" width="1000" height="420"></canvas></div>`).join('\n')}
<h2>Configurations</h2>
${data.runs.map(runDetails).join('\n')}
<script type="application/json" id="report-data">${jsonForScript(chartData)}</script>
<script>${chartJs}</script>
<script>${charts}</script>
</body></html>
`;
}
