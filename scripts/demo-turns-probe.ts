// Probe: GSM8K demonstrations as earlier chat turns (user question, assistant worked answer) instead of text inside
// the instruction. Scores the seed alone and with each seeded demo set, on one validation slice.
//   OPT_NATIVE_CPU_INT8=1 npx tsx scripts/demo-turns-probe.ts --size 40 --demos 4 --sets 2 --out runs/x.jsonl
import { parseArgs } from 'node:util';
import type { Example } from '../ts/datasets/types.js';
import { createLanguageModel } from '../ts/index.js';
import type { ChatMessage } from '../ts/llm/types.js';
import { SeededRandom, deriveSeed } from '../ts/random.js';
import { evaluateTextPrompt } from '../ts/tasks/evaluate.js';
import { loadTextTask } from '../ts/tasks/text-task.js';
import '../ts/llm/native-provider.js';
import { openResumableJsonl } from './resumable-jsonl.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '40' },
    demos: { type: 'string', default: '4' },
    sets: { type: 'string', default: '2' },
    model: { type: 'string', default: 'native:default' },
    prompt: { type: 'string', default: 'Take a deep breath and work on this problem step-by-step.' },
    out: { type: 'string' },
  },
});
const output = openResumableJsonl(values.out!);
const task = await loadTextTask('gsm8k', {
  seed: 42,
  sizes: { validation: Number(values.size) },
  answerFormatPosition: 'start',
});
const model = await createLanguageModel(values.model);
const sets = Array.from({ length: Number(values.sets) }, (_, index) =>
  new SeededRandom(deriveSeed(42, 'sweep-demos', index)).sample(task.splits.train, Number(values.demos)),
);
const turnsOf = (demos: readonly Example[]): ChatMessage[] =>
  demos.flatMap((demo) => [
    { role: 'user', content: task.formatMessages('', demo).at(-1)!.content },
    { role: 'assistant', content: task.demoAnswer!(demo) },
  ]);
for (const [index, demos] of [[], ...sets].entries()) {
  const key = JSON.stringify([values.model, values.size, values.prompt, index, values.demos]);
  if (output.done.has(key)) continue;
  const withTurns = {
    ...task,
    maxAnswerTokens: 320,
    formatMessages: (i: string, e: Example) => [...turnsOf(demos), ...task.formatMessages(i, e)],
  };
  const started = performance.now();
  const report = await evaluateTextPrompt({
    task: withTurns,
    examples: task.splits.validation,
    model,
    instruction: values.prompt,
    mode: 'generate',
  });
  const row = {
    key,
    set: index - 1,
    score: report.score,
    completion_tokens: report.usage.completionTokens,
    seconds: (performance.now() - started) / 1000,
    correct: report.predictions.map((p) => p.correct),
  };
  output.append(row);
  console.log(
    `set ${index - 1} score=${report.score.toFixed(3)} tokens=${row.completion_tokens} ${row.seconds.toFixed(0)}s`,
  );
}
await model.dispose?.();
