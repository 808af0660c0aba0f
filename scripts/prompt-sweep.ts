// Scores a set of instructions on one task split with one local model, under each instruction position and score
// calibration asked for: the measurements behind the defaults and the headroom column of docs/quality.md.
// Resumable: a configuration already in --out is skipped.
//   npx tsx scripts/prompt-sweep.ts --task bbh:navigate --size 60 --out runs/sweep/navigate.jsonl \
//     [--model native:default] [--positions before,after,system] [--calibrations none,contextual] [--prompts FILE]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLanguageModel } from '../ts/index.js';
import { isInstructionPosition, type InstructionPosition } from '../ts/tasks/answer-format.js';
import type { CalibrationMode } from '../ts/tasks/calibration.js';
import { evaluateTextPrompt } from '../ts/tasks/evaluate.js';
import { loadTextTask } from '../ts/tasks/text-task.js';
import '../ts/llm/native-provider.js';
import { openResumableJsonl } from './resumable-jsonl.js';

const GENERIC_PROMPTS = [
  'Read the question carefully and answer it.',
  '',
  "Let's think step by step.",
  'You are an expert problem solver. Answer the question correctly.',
  'Think about what the question asks, check each detail, then give the single correct answer.',
];

const { values } = parseArgs({
  options: {
    task: { type: 'string' },
    model: { type: 'string', default: 'native:default' },
    split: { type: 'string', default: 'test' },
    size: { type: 'string', default: '60' },
    seed: { type: 'string', default: '42' },
    positions: { type: 'string', default: 'before' },
    calibrations: { type: 'string', default: 'none' },
    prompts: { type: 'string' },
    out: { type: 'string' },
  },
});
if (!values.task || !values.out) throw new Error('pass --task and --out');
const output = openResumableJsonl(values.out);
const prompts = values.prompts ? (JSON.parse(readFileSync(values.prompts, 'utf8')) as string[]) : GENERIC_PROMPTS;
const positions = values.positions.split(',').filter(isInstructionPosition) as InstructionPosition[];
const calibrations = values.calibrations.split(',') as CalibrationMode[];
const size = Number(values.size);
const split = values.split as 'test' | 'validation' | 'train';
const model = await createLanguageModel(values.model);

for (const position of positions) {
  const task = await loadTextTask(values.task, {
    seed: Number(values.seed),
    sizes: { train: 5, validation: split === 'validation' ? size : 5, test: split === 'test' ? size : 5 },
    instructionPosition: position,
  });
  for (const calibration of calibrations) {
    for (const prompt of prompts) {
      const key = JSON.stringify([values.model, values.task, split, size, position, calibration, prompt]);
      if (output.done.has(key)) continue;
      const started = performance.now();
      const report = await evaluateTextPrompt({
        task,
        examples: task.splits[split],
        model,
        instruction: prompt,
        mode: 'score',
        calibration,
      });
      const answers = report.predictions.map((prediction) => prediction.answer);
      const row = {
        key,
        model: values.model,
        task: values.task,
        position,
        calibration,
        prompt,
        score: report.score,
        accuracy: report.accuracy,
        balanced_accuracy: report.balancedAccuracy,
        examples: report.examples,
        distinct_answers: new Set(answers).size,
        seconds: (performance.now() - started) / 1000,
      };
      output.append(row);
      console.log(
        `${values.task} ${position} ${calibration} score=${report.score.toFixed(3)} ` +
          `acc=${report.accuracy.toFixed(3)} answers=${row.distinct_answers} ${row.seconds.toFixed(0)}s "${prompt}"`,
      );
    }
  }
}
await model.dispose?.();
