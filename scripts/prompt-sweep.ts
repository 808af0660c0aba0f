// Scores a set of instructions on one task split with one local model, under each instruction position and score
// calibration asked for: the measurements behind the defaults and the headroom column of docs/quality.md.
// Resumable: a configuration already in --out is skipped.
//   npx tsx scripts/prompt-sweep.ts --task bbh:navigate --size 60 --out runs/sweep/navigate.jsonl \
//     [--model native:default] [--positions before,after,system] [--calibrations none,contextual] [--prompts FILE]
//     [--cache FILE.sqlite] [--demos 3 --demo-sets 4]   (also scores the first prompt followed by N seeded sets of train demonstrations)
//     [--with-baseline]   (puts the optimizers' default baseline for the task's labels first; rows keep per-example `correct`)
//     [--mode generate --format-position start]   (the answer format before the question, so the model may work first)
import { readFileSync } from 'node:fs';
import type { Example } from '../ts/datasets/types.js';
import { parseArgs } from 'node:util';
import { createLanguageModel } from '../ts/index.js';
import { isAnswerFormatPosition, isInstructionPosition, type InstructionPosition } from '../ts/tasks/answer-format.js';
import type { CalibrationMode } from '../ts/tasks/calibration.js';
import { SeededRandom, deriveSeed } from '../ts/random.js';
import { withRunControls } from '../ts/llm/run-controls.js';
import { ResponseCache } from '../ts/run/cache.js';
import { defaultBaselinePrompt } from '../ts/optimizers/opro/config.js';
import { demoAnswerOf, renderFewShotPrompt } from '../ts/optimizers/few-shot/optimizer.js';
import type { TextTask } from '../ts/tasks/types.js';
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
    mode: { type: 'string', default: 'score' },
    cache: { type: 'string' },
    'max-answer-tokens': { type: 'string' },
    demos: { type: 'string', default: '0' },
    'with-baseline': { type: 'boolean', default: false },
    'demo-sets': { type: 'string', default: '3' },
    'format-position': { type: 'string', default: 'end' },
    out: { type: 'string' },
  },
});
if (!values.task || !values.out) throw new Error('pass --task and --out');
const formatPosition = values['format-position'];
if (!isAnswerFormatPosition(formatPosition)) throw new Error('--format-position is end or start');
const output = openResumableJsonl(values.out);
const basePrompts = values.prompts ? (JSON.parse(readFileSync(values.prompts, 'utf8')) as string[]) : GENERIC_PROMPTS;
const positions = values.positions.split(',').filter(isInstructionPosition) as InstructionPosition[];
const calibrations = values.calibrations.split(',') as CalibrationMode[];
const size = Number(values.size);
const split = values.split as 'test' | 'validation' | 'train';
// A response cache makes the calibration modes of one prompt share its example scores (none and batch: one pass).
const cache = values.cache ? new ResponseCache(values.cache) : undefined;
const model = withRunControls(await createLanguageModel(values.model), { cache });
const demoCount = Number(values.demos);

/** The base prompts, then the first one followed by each seeded set of train demonstrations. */
function promptsOf(task: TextTask): string[] {
  const train: readonly Example[] = task.splits.train;
  const bases = values['with-baseline'] ? [defaultBaselinePrompt(task.labels), ...basePrompts] : basePrompts;
  if (demoCount === 0) return bases;
  const sets = Array.from({ length: Number(values['demo-sets']) }, (_, index) =>
    new SeededRandom(deriveSeed(Number(values.seed), 'sweep-demos', index)).sample(train, demoCount),
  );
  return [...bases, ...sets.map((demos) => renderFewShotPrompt(bases[0] ?? '', demos, demoAnswerOf(task)))];
}

for (const position of positions) {
  const loaded = await loadTextTask(values.task, {
    seed: Number(values.seed),
    // Default train/validation sizes, so the test rows are the first `size` of the default held-out split.
    sizes: split === 'test' ? { test: size } : { validation: size },
    instructionPosition: position,
    answerFormatPosition: formatPosition,
  });
  const maxAnswerTokens = Number(values['max-answer-tokens'] ?? loaded.maxAnswerTokens);
  const task = { ...loaded, maxAnswerTokens };
  const prompts = promptsOf(task);
  for (const calibration of calibrations) {
    for (const prompt of prompts) {
      const mode = values.mode === 'generate' ? 'generate' : 'score';
      // Rows written before the format position existed are all `end`: their keys stay as they were.
      const formatKey = formatPosition === 'end' ? [] : ['format', formatPosition];
      const keyParts = [values.model, values.task, split, size, position, calibration, prompt, ...formatKey];
      const key = JSON.stringify(mode === 'score' ? keyParts : [...keyParts, mode, values['max-answer-tokens']]);
      if (output.done.has(key)) continue;
      const started = performance.now();
      const report = await evaluateTextPrompt({
        task,
        examples: task.splits[split],
        model,
        instruction: prompt,
        mode,
        calibration,
      });
      const answers = report.predictions.map((prediction) => prediction.answer);
      const row = {
        key,
        model: values.model,
        task: values.task,
        position,
        format_position: formatPosition,
        mode,
        calibration,
        prompt,
        score: report.score,
        accuracy: report.accuracy,
        balanced_accuracy: report.balancedAccuracy,
        examples: report.examples,
        distinct_answers: new Set(answers).size,
        correct: report.predictions.map((prediction) => prediction.correct),
        completion_tokens: report.usage.completionTokens,
        seconds: (performance.now() - started) / 1000,
      };
      output.append(row);
      console.log(
        `${values.task} ${position} ${mode} ${calibration} score=${report.score.toFixed(3)} ` +
          `acc=${report.accuracy.toFixed(3)} answers=${row.distinct_answers} ${row.seconds.toFixed(0)}s "${prompt.slice(0, 60).replace(/\n/g, ' ')}"`,
      );
    }
  }
}
await model.dispose?.();
cache?.close();
