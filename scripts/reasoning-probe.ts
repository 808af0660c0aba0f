// Generate mode with room to reason: the task's question, the instruction, and a final-line answer format, greedy,
// up to 300 new tokens; prints two replies and the accuracy (docs/quality.md, "reasoning does not rescue").
//   npx tsx scripts/reasoning-probe.ts bbh:boolean_expressions native:default "Let's think step by step." 16 2
import { createLanguageModel } from '../ts/index.js';
import { loadTextTask } from '../ts/tasks/text-task.js';
import { formatTaskMessages } from '../ts/tasks/answer-format.js';
import '../ts/llm/native-provider.js';
const [
  name = 'bbh:boolean_expressions',
  modelName = 'native:default',
  instruction = "Let's think step by step.",
  n = '4',
  show = '2',
] = process.argv.slice(2);
const model = await createLanguageModel(modelName);
const task = await loadTextTask(name, { seed: 42, sizes: { test: Number(n) } });
const labels = task.labels ?? [];
const format =
  task.kind === 'classification'
    ? `End your reply with the line "The answer is X." where X is one of: ${labels.join(', ')}.`
    : task.kind === 'multiple_choice'
      ? 'End your reply with the line "The answer is (X)." where (X) is the letter of the correct option.'
      : task.answerFormat;
const started = Date.now();
const results = await model.generateBatch(
  task.splits.test.map((ex) => ({
    messages: formatTaskMessages(instruction, ex, { answerFormat: format, position: 'before' }),
    temperature: 0,
    maxTokens: 300,
  })),
);
let correct = 0;
let tokens = 0;
results.forEach((r, i) => {
  const ex = task.splits.test[i]!;
  const a = task.extractAnswer(r.text);
  if (task.metric(a, ex).score >= 1) correct++;
  tokens += r.usage.completionTokens;
  if (i < Number(show)) console.log(`--- target ${ex.target} extracted ${a}\n${r.text}`);
});
console.log(
  `${name} "${instruction}" acc=${correct}/${results.length} tokens/ex=${(tokens / results.length).toFixed(0)} ${((Date.now() - started) / 1000).toFixed(0)}s`,
);
await model.dispose?.();
