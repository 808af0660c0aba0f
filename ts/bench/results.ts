/** Text views of benchmark runs for `bench results`: the run list, the per-task table, details. */
import type { RunSummary, TaskRecord } from './store.js';
import type { UsableCandidates } from '../optimizers/contract.js';
import type { HeldoutComparison } from './types.js';

/** Columns padded to their widest cell; numbers right-aligned. */
export function alignedTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const numeric = header.map(
    (_, column) => rows.length > 0 && rows.every((row) => /^[-\d.,%$s ]*$/.test(row[column] ?? '')),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (numeric[column] ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

const score = (value: number | null | undefined) => (value === null || value === undefined ? '-' : value.toFixed(3));

/** `+0.080 [+0.010, +0.150]`: the held-out gain over the baseline prompt with its paired bootstrap interval. */
export function formatGain(heldout: HeldoutComparison | null | undefined): string {
  if (!heldout) return '-';
  const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
  const [low, high] = heldout.gainInterval;
  return `${signed(heldout.gain)} [${signed(low)}, ${signed(high)}]`;
}

/** `3/8`: the optimizer model's usable candidates of those it proposed. */
export function formatUsable(usable: UsableCandidates | undefined): string {
  return usable && usable.proposed > 0 ? `${usable.usable}/${usable.proposed}` : '-';
}

export function formatRunList(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return 'no benchmark runs';
  return alignedTable(
    ['run', 'created', 'engine', 'status', 'done', 'failed', 'open'],
    runs.map((run) => [
      run.runId,
      new Date(run.createdAt).toISOString().replace('T', ' ').slice(0, 19),
      run.engine,
      run.status,
      `${run.counts.succeeded}/${run.total}`,
      String(run.counts.failed),
      String(run.counts.pending + run.counts.running),
    ]),
  );
}

/** One row per task: status, scores, tokens, cost and time. */
export function formatRunTable(summary: RunSummary, tasks: readonly TaskRecord[]): string {
  const rows = tasks.map((task) => {
    const result = task.result;
    return [
      task.taskId,
      task.status,
      score(result?.initialScore),
      score(result?.score),
      score(result?.baselineFinal?.score),
      score(result?.final?.score),
      formatGain(result?.heldout),
      formatUsable(result?.usableCandidates),
      result ? String(result.usage.calls) : '-',
      result ? String(result.usage.promptTokens + result.usage.completionTokens) : '-',
      result ? `$${result.usage.cost.toFixed(4)}` : '-',
      result ? `${(result.wallTimeMs / 1000).toFixed(1)}s` : '-',
    ];
  });
  const head = `run ${summary.runId} (${summary.engine}): ${summary.status}, ${summary.counts.succeeded}/${summary.total} done, ${summary.counts.failed} failed`;
  return `${head}\n${alignedTable(['task', 'status', 'initial', 'best', 'baseline', 'final', 'gain [95% CI]', 'usable', 'calls', 'tokens', 'cost', 'time'], rows)}`;
}

/** The table plus, per task, the attempts, stop reason, error and best prompt. */
export function formatRunDetails(summary: RunSummary, tasks: readonly TaskRecord[]): string {
  const details = tasks.map((task) => {
    const lines = [`## ${task.taskId}`, `status: ${task.status} after ${task.attempts} attempt(s)`];
    if (task.worker) lines.push(`worker: ${task.worker}`);
    if (task.error) lines.push(`error: ${task.error}`);
    if (task.result) {
      const { result } = task;
      lines.push(`stop reason: ${result.stopReason}; ${result.candidates} candidates`);
      if (result.final) {
        const metrics = Object.entries(result.final.metrics).map(([name, value]) => `${name} ${value.toFixed(3)}`);
        lines.push(`final (${result.final.split}, ${result.final.examples} examples): ${metrics.join(', ')}`);
      }
      if (result.heldout) {
        const [low, high] = result.heldout.baselineInterval;
        const [bestLow, bestHigh] = result.heldout.bestInterval;
        lines.push(
          `held-out: baseline ${score(result.heldout.baseline)} [${score(low)}, ${score(high)}], ` +
            `best ${score(result.heldout.best)} [${score(bestLow)}, ${score(bestHigh)}], gain ${formatGain(result.heldout)}`,
        );
      }
      lines.push('best prompt:', result.bestPrompt);
    }
    return lines.join('\n');
  });
  return [formatRunTable(summary, tasks), ...details].join('\n\n');
}
