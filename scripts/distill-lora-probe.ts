// Scores a saved teacher–student program with a native student, with and without a LoRA adapter, on the held-out
// states a `teacher-student` run of the same settings scores (same dataset, seed and --eval-size), paired: the
// `--distill lora` measurement of docs/teacher-student.md without rerunning MIPROv2.
//   npx tsx scripts/distill-lora-probe.ts --dataset runs/ts/data-subgoal --program PROGRAM.json \
//     --adapter runs/ts/lora [--student native:default] [--hint-type subgoal] [--eval-size 100] [--max-tokens 64]
// With --traces-from MODEL --traces-out FILE it instead writes the chat JSONL that `--distill-from teacher` would:
// MODEL's 1.0-scored replies on the run's train states (--samples-per-category, as the run used) under the program.
// With --planner-rows FILE [--distill-size 120] it writes what `--distill-from planner` trains on, and --no-demos
// scores the adapted student with the program's instruction alone (as the pipeline does after planner labels).
// --assessor MODEL [--assessor-cache FILE.sqlite] grades with that model judge instead of the planner judge, and
// reports Cohen's κ between the two.
// With --baselines FILE it prints the run's references instead: the unoptimized program with the student and with
// --teacher, and the best constant action. Replies are kept in the JSON files; the current metric grades them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLanguageModel } from '../ts/index.js';
import { cacheMiddleware } from '../ts/llm/cache-middleware.js';
import { wrapLanguageModel } from '../ts/llm/middleware.js';
import { ResponseCache } from '../ts/run/cache.js';
import '../ts/llm/native-provider.js';
import { runProgram } from '../ts/optimizers/mipro/evaluate.js';
import { navigationAdapter, withAdapter } from '../ts/optimizers/teacher-student/index.js';
import {
  distillationRows,
  gradeReplies,
  plannerRows,
  replyOf,
  type RecordedReply,
  type ScoredState,
} from '../ts/optimizers/teacher-student/evaluate.js';
import {
  constantActionLines,
  gainLine,
  lenientGain,
  meanScoreGain,
  referenceGainLine,
  summarizeStates,
  summaryLines,
} from '../ts/optimizers/teacher-student/summary.js';
import type { AgentHintType, TeacherStudentSettings } from '../ts/optimizers/teacher-student/settings.js';
import { SeededRandom, deriveSeed } from '../ts/random.js';
import {
  AGENT_INSTRUCTION,
  aiFeedbackMetric,
  bestConstantAction,
  examplesPerCategory,
  loadAgentProgram,
  loadNavigationSplits,
  modelJudge,
  plannerJudge,
  type AgentProgram,
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
    baselines: { type: 'string' },
    'planner-rows': { type: 'string' },
    'distill-size': { type: 'string', default: '120' },
    'no-demos': { type: 'boolean', default: false },
    teacher: { type: 'string', default: 'native:qwen2.5-coder-1.5b' },
    assessor: { type: 'string' },
    'assessor-cache': { type: 'string' },
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
/** The unoptimized program the references run: the basic instruction, no demos. */
const UNOPTIMIZED: AgentProgram = { instruction: AGENT_INSTRUCTION, demos: [] };
/** `--assessor MODEL`: the model judge (its replies cached in --assessor-cache), the planner judge beside it for κ. */
async function chooseMetric() {
  if (!values.assessor) return aiFeedbackMetric(plannerJudge(1));
  const model = await createLanguageModel(values.assessor);
  const cache = values['assessor-cache'] ? new ResponseCache(values['assessor-cache']) : undefined;
  const judge = modelJudge(cache ? wrapLanguageModel(model, cacheMiddleware(cache)) : model);
  return aiFeedbackMetric(judge, plannerJudge(1));
}
const metric = await chooseMetric();
const adapter = navigationAdapter(metric, values['hint-type'] as AgentHintType, Number(values['max-tokens']));

/** `program` run by `modelString` on `examples`: the replies, kept in `cacheFile` (as replies or scored states). */
async function repliesOf(
  modelString: string,
  program: AgentProgram,
  examples: readonly NavigationExample[],
  cacheFile?: string,
): Promise<string[]> {
  if (cacheFile && existsSync(cacheFile)) {
    return (JSON.parse(readFileSync(cacheFile, 'utf8')) as RecordedReply[]).map(replyOf);
  }
  const model = await createLanguageModel(modelString);
  const started = performance.now();
  const run = await runProgram(adapter, model, program, examples);
  await model.dispose?.();
  console.error(`${modelString}: ${examples.length} states in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const replies = examples.map((_, index) => run.replies[index] ?? '');
  if (cacheFile) writeFileSync(cacheFile, JSON.stringify(replies));
  return replies;
}

async function score(
  modelString: string,
  examples: readonly NavigationExample[],
  cacheFile?: string,
  scored: AgentProgram = program,
): Promise<ScoredState[]> {
  return gradeReplies(metric, examples, await repliesOf(modelString, scored, examples, cacheFile));
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

/** `--planner-rows`: the planner's labels on --distill-size train states, as `--distill-from planner` draws them. */
function writePlannerRows(out: string): void {
  const states = new SeededRandom(deriveSeed(seed, 'distill')).sample(
    loadNavigationSplits(values.dataset!).train,
    Number(values['distill-size']),
  );
  const settings = { hintType: values['hint-type'] } as TeacherStudentSettings;
  const rows = plannerRows(settings, { ...program, demos: [] }, states);
  writeFileSync(out, rows.map((row) => `${row}\n`).join(''));
  console.log(`${rows.length} planner-labelled train states -> ${out}`);
}

/** The plain student's replies are kept in --plain-scores between runs that differ only in the adapter. */
function plainScores(): Promise<ScoredState[]> {
  return score(values.student, test, values['plain-scores']);
}

/** `--baselines FILE.json`: the unoptimized program with the student and the teacher, and the constant-action floor. */
async function printBaselines(prefix: string): Promise<void> {
  const rows: [string, () => Promise<ScoredState[]>][] = [
    [`Student (${values.student}), saved program,`, plainScores],
    [
      `Student (${values.student}), unoptimized program,`,
      () => score(values.student, test, `${prefix}-student.json`, UNOPTIMIZED),
    ],
    [
      `Teacher (${values.teacher}), zero-shot,`,
      () => score(values.teacher, test, `${prefix}-teacher.json`, UNOPTIMIZED),
    ],
  ];
  // Each row prints as soon as it is graded (a model assessor takes seconds a state).
  for (const [label, states] of rows)
    for (const line of summaryLines(label, summarizeStates(await states()))) console.log(line);
  for (const line of constantActionLines(await bestConstantAction(test, plannerJudge(1)), test.length))
    console.log(line);
}

/** The saved program with and without the adapter on the held-out states, paired. */
async function compare(adapterDir: string): Promise<void> {
  const plain = await plainScores();
  const adaptedProgram = values['no-demos'] ? { ...program, demos: [] } : program;
  // The adapted student's replies are kept beside its adapter, so that a changed metric regrades them for free.
  const kept = join(adapterDir, values['no-demos'] ? 'heldout-replies-no-demos.json' : 'heldout-replies.json');
  const adapted = await score(withAdapter(values.student, adapterDir), test, kept, adaptedProgram);
  for (const line of summaryLines(`Student (${values.student}), saved program,`, summarizeStates(plain)))
    console.log(line);
  for (const line of summaryLines('Student + LoRA adapter, saved program,', summarizeStates(adapted)))
    console.log(line);
  console.log(
    gainLine(lenientGain(plain, adapted, seed)).replace('Lenient accuracy', 'Lenient accuracy without → with'),
  );
  if (values.baselines) await compareWithReferences(adapted, values.baselines);
}

/** With `--baselines PREFIX` beside `--adapter`: the adapted student paired with the teacher and the constant floor. */
async function compareWithReferences(adapted: ScoredState[], prefix: string): Promise<void> {
  const teacher = await score(values.teacher, test, `${prefix}-teacher.json`, UNOPTIMIZED);
  console.log(referenceGainLine("the teacher's zero-shot", 'student + adapter', meanScoreGain(teacher, adapted, seed)));
  const constant = await bestConstantAction(test, plannerJudge(1));
  const floor = await gradeReplies(
    metric,
    test,
    test.map(() => `Action: ${constant.action}`),
  );
  const label = `\`${constant.action}\` everywhere`;
  console.log(referenceGainLine(label, 'student + adapter', meanScoreGain(floor, adapted, seed)));
}

if (values['planner-rows']) {
  writePlannerRows(values['planner-rows']);
} else if (values.baselines && !values.adapter) {
  await printBaselines(values.baselines);
} else if (values['traces-from']) {
  if (!values['traces-out']) throw new Error('pass --traces-out with --traces-from');
  await writeTraces(values['traces-from'], values['traces-out']);
} else {
  if (!values.adapter) throw new Error('pass --adapter');
  await compare(values.adapter);
}
