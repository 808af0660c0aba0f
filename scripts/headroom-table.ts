// Reads prompt-sweep rows (run with --with-baseline, so the first prompt of each task is the optimizers' baseline)
// and prints, per task, the baseline, the best prompt on the same held-out examples (the headroom: an upper
// reference, since picking the best on the test split is optimistic) and their paired 95 % bootstrap interval.
//   npx tsx scripts/headroom-table.ts runs/headroom/*-05b.jsonl
import { readFileSync } from 'node:fs';
import { pairedBootstrap, splitScoreOf } from '../ts/tasks/bootstrap.js';
import { loadTextTask } from '../ts/tasks/text-task.js';

interface SweepRow {
  readonly task: string;
  readonly prompt: string;
  readonly score: number;
  readonly examples: number;
  readonly correct?: readonly boolean[];
}

function rowsOf(file: string): SweepRow[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SweepRow);
}

const shortPrompt = (prompt: string) => {
  const firstLine = prompt.split('\n')[0] ?? '';
  const demos = prompt.split('\n').filter((line) => line.startsWith('Q: ')).length;
  return (firstLine.length > 48 ? `${firstLine.slice(0, 45)}…` : firstLine) + (demos > 0 ? ` + ${demos} demos` : '');
};
const fixed = (value: number) => (value >= 0 ? '+' : '−') + Math.abs(value).toFixed(3);

console.log('| task | examples | prompts | baseline | best prompt | best | best − baseline [95% CI] | worst |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const file of process.argv.slice(2)) {
  const rows = rowsOf(file).filter((row) => row.correct !== undefined);
  const [baseline] = rows;
  if (!baseline) continue;
  const task = await loadTextTask(baseline.task, { seed: 42, sizes: { test: baseline.examples } });
  const targets = task.splits.test.map((example) => example.target);
  const outcomes = (row: SweepRow) => ({ targets, correct: row.correct ?? [] });
  const best = rows.reduce((top, row) => (row.score > top.score ? row : top), baseline);
  const worst = rows.reduce((low, row) => (row.score < low.score ? row : low), baseline);
  const comparison = pairedBootstrap(outcomes(baseline), outcomes(best), splitScoreOf(task), {
    resamples: 2000,
    seed: 42,
  });
  const interval = `[${fixed(comparison.gainInterval.low)}, ${fixed(comparison.gainInterval.high)}]`;
  console.log(
    `| ${baseline.task.replace('bbh:', '')} | ${baseline.examples} | ${rows.length} | ${baseline.score.toFixed(3)} | ` +
      `${best === baseline ? '(the baseline)' : shortPrompt(best.prompt)} | ${best.score.toFixed(3)} | ` +
      `${fixed(comparison.gain)} ${interval} | ${worst.score.toFixed(3)} |`,
  );
}
