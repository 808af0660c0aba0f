// Does the answer-format layout let the model reason? The last N examples of a numeric BBH task under four user-turn
// layouts of one step-by-step instruction, greedy, up to 320 new tokens; prints accuracy, mean completion tokens and
// wall time per layout (docs/quality.md, "The answer format decides whether the model reasons").
//   npx tsx scripts/answer-layout-probe.ts multistep_arithmetic_two 16
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLanguageModel } from '../ts/index.js';
import { NUMERIC_FORMAT } from '../ts/tasks/answer-format.js';
import '../ts/llm/native-provider.js';

const [task = 'multistep_arithmetic_two', n = '16', modelName = 'native:default'] = process.argv.slice(2);
const root = process.env.OPT_NATIVE_DATASETS ?? '../shared/datasets';
const file = JSON.parse(readFileSync(join(root, 'bbh', `${task}.json`), 'utf8')) as {
  examples: { input: string; target: string }[];
};
const examples = file.examples.slice(-Number(n));
const INSTRUCTION =
  'Solve the expression step by step: work out the innermost parentheses first, write each intermediate result, ' +
  'then give the final value.';
const LAYOUTS: Record<string, (question: string) => string> = {
  current: (q) => `${INSTRUCTION}\n\nQ: ${q}\n${NUMERIC_FORMAT}\nA:`,
  noA: (q) => `${INSTRUCTION}\n\nQ: ${q}\n${NUMERIC_FORMAT}`,
  formatFirst: (q) => `${INSTRUCTION}\n${NUMERIC_FORMAT}\n\nQ: ${q}`,
  noInstruction: (q) => `Q: ${q}\n${NUMERIC_FORMAT}`,
};
const model = await createLanguageModel(modelName);
for (const [name, layout] of Object.entries(LAYOUTS)) {
  const started = Date.now();
  const requests = examples.map((example) => ({
    messages: [{ role: 'user' as const, content: layout(example.input) }],
    temperature: 0,
    maxTokens: 320,
  }));
  const replies = await model.generateBatch(requests);
  let correct = 0;
  let completion = 0;
  replies.forEach((reply, index) => {
    const last = [...reply.text.matchAll(/answer is\s*\**\s*(-?[\d,.]+)/gi)].at(-1)?.[1];
    const value = last === undefined ? NaN : Number(last.replace(/,/g, '').replace(/\.$/, ''));
    if (value === Number(examples[index]!.target)) correct += 1;
    completion += reply.usage.completionTokens;
  });
  const seconds = (Date.now() - started) / 1000;
  console.log(
    JSON.stringify({
      layout: name,
      correct,
      n: examples.length,
      meanCompletion: completion / examples.length,
      seconds,
    }),
  );
}
