// Scores a saved teacher–student program with a native student, with and without a LoRA adapter, on the held-out
// states a `teacher-student` run of the same settings scores (same dataset, seed and --eval-size), paired: the
// `--distill lora` measurement of docs/teacher-student.md without rerunning MIPROv2.
//   npx tsx scripts/distill-lora-probe.ts --dataset runs/ts/data-subgoal --program PROGRAM.json \
//     --adapter runs/ts/lora [--student native:default] [--hint-type subgoal] [--eval-size 100] [--max-tokens 64]
// With --traces-from MODEL --traces-out FILE it instead writes the chat JSONL that `--distill-from teacher` would:
// MODEL's 1.0-scored replies on the run's train states (--samples-per-category, as the run used) under the program.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLanguageModel } from '../ts/index.js';
import '../ts/llm/native-provider.js';
import { runProgram } from '../ts/optimizers/mipro/evaluate.js';
import { navigationAdapter, withAdapter } from '../ts/optimizers/teacher-student/index.js';
import { distillationRows, type ScoredState } from '../ts/optimizers/teacher-student/evaluate.js';
import { gainLine, lenientGain, summarizeStates, summaryLines } from '../ts/optimizers/teacher-student/summary.js';
import type { AgentHintType, TeacherStudentSettings } from '../ts/optimizers/teacher-student/settings.js';
import { SeededRandom, deriveSeed } from '../ts/random.js';
import {
  aiFeedbackMetric,
  examplesPerCategory,
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
    'traces-from': { type: 'string' },
    'traces-out': { type: 'string' },
    'samples-per-category': { type: 'string', default: '8' },
    'plain-scores': { type: 'string' },
  },
});
if (!values.dataset || !values.program) throw new Error('pass --dataset and --program');
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

/** `--traces-from`: MODEL's 1.0-scored replies on the pipeline's train states (pipeline.ts, loadData), as chat JSONL. */
async function writeTraces(from: string, out: string): Promise<void> {
  const train = examplesPerCategory(
    loadNavigationSplits(values.dataset!).train,
    Number(values['samples-per-category']),
    deriveSeed(seed, 'train'),
  ).examples;
  const traces = await score(from, train);
  const settings = { hintType: values['hint-type'] } as TeacherStudentSettings;
  const rows = distillationRows(settings, program, train, traces);
  writeFileSync(out, rows.map((row) => `${row}\n`).join(''));
  console.log(`${rows.length} 1.0-scored traces of ${train.length} train states -> ${out}`);
}

/** The plain student's scores, kept in --plain-scores between runs that differ only in the adapter. */
async function plainScores(): Promise<ScoredState[]> {
  const file = values['plain-scores'];
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ScoredState[];
  const states = await score(values.student, test);
  if (file) writeFileSync(file, JSON.stringify(states));
  return states;
}

/** The saved program with and without the adapter on the held-out states, paired. */
async function compare(adapterDir: string): Promise<void> {
  const plain = await plainScores();
  const adapted = await score(withAdapter(values.student, adapterDir), test);
  for (const line of summaryLines(`Student (${values.student}), saved program,`, summarizeStates(plain)))
    console.log(line);
  for (const line of summaryLines('Student + LoRA adapter, saved program,', summarizeStates(adapted)))
    console.log(line);
  console.log(
    gainLine(lenientGain(plain, adapted, seed)).replace('Lenient accuracy', 'Lenient accuracy without → with'),
  );
}

if (values['traces-from']) {
  if (!values['traces-out']) throw new Error('pass --traces-out with --traces-from');
  await writeTraces(values['traces-from'], values['traces-out']);
} else {
  if (!values.adapter) throw new Error('pass --adapter');
  await compare(values.adapter);
}
