// Pairs the rows of scripts/int8-accuracy-run.sh: per task, the baseline prompt's held-out score with the exact f32
// prefill and with OPT_NATIVE_CPU_INT8=1, the share of examples answered alike, and the paired 95 % bootstrap
// interval of int8 − f32 on the same examples (the task's own metric).
//   npx tsx scripts/int8-accuracy-table.ts runs/int8-accuracy
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pairedBootstrap, splitScoreOf } from '../ts/tasks/bootstrap.js';
import { loadTextTask } from '../ts/tasks/text-task.js';

interface SweepRow {
  readonly task: string;
  readonly score: number;
  readonly examples: number;
  readonly correct: readonly boolean[];
  readonly seconds: number;
}

const dir = process.argv[2] ?? 'runs/int8-accuracy';
// The tasks the run script finished on the exact path, alphabetically (files are named TASK-f32.jsonl).
const tasks = readdirSync(dir)
  .filter((file) => file.endsWith('-f32.jsonl'))
  .map((file) => file.slice(0, -'-f32.jsonl'.length));
const fixed = (value: number) => (value >= 0 ? '+' : '−') + Math.abs(value).toFixed(3);

function firstRow(file: string): SweepRow | undefined {
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((text) => text.trim() !== '');
  return line ? (JSON.parse(line) as SweepRow) : undefined;
}

console.log('| task | examples | f32 | int8 | int8 − f32 [95% CI] | same outcome | f32 s | int8 s |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
const gains: number[] = [];
for (const name of tasks) {
  const exact = firstRow(join(dir, `${name}-f32.jsonl`));
  const int8 = firstRow(join(dir, `${name}-int8.jsonl`));
  if (!exact || !int8) continue;
  const task = await loadTextTask(exact.task, { seed: 42, sizes: { test: exact.examples } });
  const targets = task.splits.test.map((example) => example.target);
  const comparison = pairedBootstrap(
    { targets, correct: exact.correct },
    { targets, correct: int8.correct },
    splitScoreOf(task),
    { resamples: 2000, seed: 42 },
  );
  const same = exact.correct.filter((value, index) => value === int8.correct[index]).length;
  gains.push(comparison.gain);
  console.log(
    `| ${name} | ${exact.examples} | ${exact.score.toFixed(3)} | ${int8.score.toFixed(3)} | ` +
      `${fixed(comparison.gain)} [${fixed(comparison.gainInterval.low)}, ${fixed(comparison.gainInterval.high)}] | ` +
      `${same}/${exact.examples} | ${exact.seconds.toFixed(0)} | ${int8.seconds.toFixed(0)} |`,
  );
}
if (gains.length > 0) {
  const mean = gains.reduce((sum, gain) => sum + gain, 0) / gains.length;
  console.log(`\nmean int8 − f32 over ${gains.length} tasks: ${fixed(mean)}`);
}
