// Prints the raw label log-probabilities the scorer gives the first N test examples of a task under one instruction:
// the evidence behind docs/quality.md's "the scorer, not the prompts" (label and letter bias in score mode).
//   npx tsx scripts/label-margins.ts bbh:movie_recommendation [native:default] ["instruction"]
import { createLanguageModel } from '../ts/index.js';
import { loadTextTask } from '../ts/tasks/text-task.js';
import '../ts/llm/native-provider.js';
const name = process.argv[2] ?? 'bbh:navigate';
const model = await createLanguageModel(process.argv[3] ?? 'native:default');
const task = await loadTextTask(name, { seed: 42, sizes: { test: 12 }, scoreCalibration: 'none' });
const instruction = process.argv[4] ?? 'Read the question carefully and answer it.';
const requests = task.splits.test.map((ex) => ({
  messages: task.formatMessages(instruction, ex),
  choices: [...task.labels!],
}));
console.log(JSON.stringify(requests[0]!.messages).slice(0, 600));
const results = await model.scoreChoicesBatch!(requests);
results.forEach((r, i) =>
  console.log(task.splits.test[i]!.target, r.scores.map((s) => `${s.choice}:${s.logprob.toFixed(2)}`).join(' ')),
);
await model.dispose?.();
