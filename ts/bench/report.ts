/**
 * `bench report`: a self-contained HTML comparison of a run (no scripts, strict CSP): a mean per optimizer over its
 * finished tasks, then every task with its scores, usage and best prompt. Every value from a run is escaped.
 */
import { escapeHtml } from '../report/escape.js';
import { formatGain } from './results.js';
import type { RunSummary, TaskRecord } from './store.js';

const STYLE = `body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1f2937; }
table { border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d1d5db; padding: 0.3rem 0.6rem; text-align: right; vertical-align: top; }
th { background: #f3f4f6; } td.text, th.text { text-align: left; }
.failed { color: #b91c1c; } pre { white-space: pre-wrap; margin: 0; max-width: 40rem; }`;

const cell = (value: string, className = '') =>
  `<td${className ? ` class="${className}"` : ''}>${escapeHtml(value)}</td>`;
const num = (value: number | null | undefined, digits = 3) =>
  value === null || value === undefined ? '-' : value.toFixed(digits);

interface OptimizerMean {
  optimizer: string;
  tasks: number;
  best: number;
  final: number;
  /** Mean held-out gain over the baseline prompt, over the tasks that have one (null: none has). */
  gain: number | null;
  compared: number;
  calls: number;
  tokens: number;
  cost: number;
  seconds: number;
}

export function optimizerMeans(tasks: readonly TaskRecord[]): OptimizerMean[] {
  const groups = new Map<string, OptimizerMean>();
  for (const task of tasks) {
    const result = task.result;
    if (!result) continue;
    const group = groups.get(result.optimizer) ?? {
      optimizer: result.optimizer,
      tasks: 0,
      best: 0,
      final: 0,
      gain: null,
      compared: 0,
      calls: 0,
      tokens: 0,
      cost: 0,
      seconds: 0,
    };
    group.tasks += 1;
    group.best += result.score;
    group.final += result.final?.score ?? 0;
    if (result.heldout) {
      group.gain = (group.gain ?? 0) + result.heldout.gain;
      group.compared += 1;
    }
    group.calls += result.usage.calls;
    group.tokens += result.usage.promptTokens + result.usage.completionTokens;
    group.cost += result.usage.cost;
    group.seconds += result.wallTimeMs / 1000;
    groups.set(result.optimizer, group);
  }
  return [...groups.values()].map((group) => ({
    ...group,
    best: group.best / group.tasks,
    final: group.final / group.tasks,
    gain: group.gain === null ? null : group.gain / group.compared,
    calls: group.calls / group.tasks,
    tokens: group.tokens / group.tasks,
    cost: group.cost / group.tasks,
    seconds: group.seconds / group.tasks,
  }));
}

function meansTable(tasks: readonly TaskRecord[]): string {
  const rows = optimizerMeans(tasks).map(
    (mean) =>
      `<tr>${cell(mean.optimizer, 'text')}${cell(String(mean.tasks))}${cell(num(mean.best))}${cell(num(mean.final))}${cell(num(mean.gain))}` +
      `${cell(num(mean.calls, 1))}${cell(num(mean.tokens, 0))}${cell(`$${num(mean.cost, 4)}`)}${cell(num(mean.seconds, 1))}</tr>`,
  );
  return `<table><thead><tr><th class="text">optimizer</th><th>tasks</th><th>mean best (val)</th><th>mean final</th><th>mean held-out gain</th><th>calls</th><th>tokens</th><th>cost</th><th>seconds</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function taskRow(task: TaskRecord): string {
  const result = task.result;
  const status =
    task.status === 'failed' ? cell(`failed: ${task.error ?? ''}`, 'text failed') : cell(task.status, 'text');
  return (
    `<tr>${cell(task.spec.datasetName, 'text')}${cell(task.spec.optimizer, 'text')}${cell(task.spec.model, 'text')}${status}` +
    `${cell(num(result?.initialScore))}${cell(num(result?.score))}${cell(num(result?.baselineFinal?.score))}` +
    `${cell(num(result?.final?.score))}${cell(formatGain(result?.heldout))}` +
    `${cell(result ? String(result.usage.calls) : '-')}${cell(result ? String(result.usage.promptTokens + result.usage.completionTokens) : '-')}` +
    `${cell(result ? `$${num(result.usage.cost, 4)}` : '-')}${cell(result ? num(result.wallTimeMs / 1000, 1) : '-')}` +
    `<td class="text"><pre>${escapeHtml(result?.bestPrompt ?? '')}</pre></td></tr>`
  );
}

export function renderBenchReport(summary: RunSummary, tasks: readonly TaskRecord[]): string {
  const title = `Benchmark ${summary.runId}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(`${summary.engine} engine, ${summary.status}: ${summary.counts.succeeded}/${summary.total} tasks done, ${summary.counts.failed} failed; created ${new Date(summary.createdAt).toISOString()}`)}</p>
<h2>Optimizers</h2>${meansTable(tasks)}
<h2>Tasks</h2><table><thead><tr><th class="text">dataset</th><th class="text">optimizer</th><th class="text">model</th><th class="text">status</th><th>initial</th><th>best (val)</th><th>baseline (held-out)</th><th>final</th><th>gain [95% CI]</th><th>calls</th><th>tokens</th><th>cost</th><th>seconds</th><th class="text">best prompt</th></tr></thead>
<tbody>${tasks.map(taskRow).join('\n')}</tbody></table></body></html>
`;
}
