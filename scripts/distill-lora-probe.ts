// Scores a saved teacher–student program with a native student, with and without a LoRA adapter, on the held-out
// states a `teacher-student` run of the same settings scores (same dataset, seed and --eval-size), paired: the
// `--distill lora` measurement of docs/teacher-student.md without rerunning MIPROv2.
//   npx tsx scripts/distill-lora-probe.ts --dataset runs/ts/data-subgoal --program PROGRAM.json \
//     --adapter runs/ts/lora [--student native:default] [--hint-type subgoal] [--eval-size 100] [--max-tokens 64]
import { parseArgs } from 'node:util';
import { createLanguageModel } from '../ts/index.js';
import '../ts/llm/native-provider.js';
import { runProgram } from '../ts/optimizers/mipro/evaluate.js';
import { navigationAdapter, withAdapter } from '../ts/optimizers/teacher-student/index.js';
import type { ScoredState } from '../ts/optimizers/teacher-student/evaluate.js';
import { gainLine, lenientGain, summarizeStates, summaryLines } from '../ts/optimizers/teacher-student/summary.js';
import type { AgentHintType } from '../ts/optimizers/teacher-student/settings.js';
import { SeededRandom, deriveSeed } from '../ts/random.js';
import {
  aiFeedbackMetric,
  loadAgentProgram,
  loadNavigationSplits,
  plannerJudge,
  type NavigationExample,
} from '../ts/tasks/navigation/index.js';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string' },
    program: { type: 'string' },
    adapter: { type: 'string' },
    student: { type: 'string', default: 'native:default' },
    'hint-type': { type: 'string', default: 'subgoal' },
    'eval-size': { type: 'string', default: '100' },
    'max-tokens': { type: 'string', default: '64' },
    seed: { type: 'string', default: '0' },
  },
});
if (!values.dataset || !values.program || !values.adapter) throw new Error('pass --dataset, --program and --adapter');
const seed = Number(values.seed);
// The pipeline's held-out sample (pipeline.ts, loadData).
const test = new SeededRandom(deriveSeed(seed, 'test')).sample(
  loadNavigationSplits(values.dataset).test,
  Number(values['eval-size']),
);
const program = loadAgentProgram(values.program);
const metric = aiFeedbackMetric(plannerJudge(1));
const adapter = navigationAdapter(metric, values['hint-type'] as AgentHintType, Number(values['max-tokens']));

async function score(modelString: string, examples: readonly NavigationExample[]): Promise<ScoredState[]> {
  const model = await createLanguageModel(modelString);
  const started = performance.now();
  const run = await runProgram(adapter, model, program, examples);
  await model.dispose?.();
  const states: ScoredState[] = [];
  for (const [index, example] of examples.entries()) {
    const reply = run.replies[index] ?? '';
    states.push({ id: example.id, reply, ...(await metric(example, reply)) });
  }
  console.error(`${modelString}: ${examples.length} states in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return states;
}

const plain = await score(values.student, test);
const adapted = await score(withAdapter(values.student, values.adapter), test);
for (const line of summaryLines(`Student (${values.student}), saved program,`, summarizeStates(plain)))
  console.log(line);
for (const line of summaryLines('Student + LoRA adapter, saved program,', summarizeStates(adapted))) console.log(line);
console.log(gainLine(lenientGain(plain, adapted, seed)).replace('Lenient accuracy', 'Lenient accuracy without → with'));
