/**
 * Writes one split of a text task as chat JSONL for `opt-native finetune`: each example as the evaluator sends it
 * (instruction, question, the task's answer format; ts/tasks/answer-format.ts) with the target as the assistant's
 * reply. Splits are the task's own seeded ones, so a model trained on `train` is evaluated on a disjoint `test`.
 *
 *   npx tsx scripts/task-chats.ts --task bbh:boolean_expressions --split train --train-size 100 --eval-size 25 \
 *     --test-size 125 --instruction "Answer True or False." --out runs/ft/train.jsonl
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatTaskMessages } from '../ts/tasks/answer-format.js';
import { loadTextTask } from '../ts/tasks/text-task.js';

const { values } = parseArgs({
  options: {
    task: { type: 'string' },
    split: { type: 'string', default: 'train' },
    'train-size': { type: 'string' },
    'eval-size': { type: 'string' },
    'test-size': { type: 'string' },
    instruction: { type: 'string', default: '' },
    seed: { type: 'string', default: '42' },
    out: { type: 'string' },
  },
});
if (!values.task || !values.out) throw new Error('--task and --out are required');
const size = (value: string | undefined) => (value === undefined ? undefined : Number(value));
const task = await loadTextTask(values.task, {
  seed: Number(values.seed),
  sizes: { train: size(values['train-size']), validation: size(values['eval-size']), test: size(values['test-size']) },
});
const split = values.split as 'train' | 'validation' | 'test';
const layout = { answerFormat: task.answerFormat, position: task.instructionPosition };
const lines = task.splits[split].map((example) =>
  JSON.stringify({
    messages: [
      ...formatTaskMessages(values.instruction ?? '', example, layout),
      { role: 'assistant', content: example.target },
    ],
  }),
);
writeFileSync(values.out, `${lines.join('\n')}\n`);
console.log(`${lines.length} chats from ${values.task} ${split} -> ${values.out}`);
