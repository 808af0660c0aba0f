/**
 * MIPROv2's demo candidates (DSPy's create_n_fewshot_demo_sets with BootstrapFewShot): set 0 is zero-shot, set 1
 * labelled examples only, set 2 bootstrapped from the train set in order, the rest from seeded shuffles with a random
 * number (1 … max) of bootstrapped demos. A bootstrapped demo is a teacher trace whose metric score reaches the
 * threshold; the teacher runs the basic instruction with labelled demos (never the example itself). Each teacher run
 * is a recorded step keyed by its prompt, so sets that try the same example pay for it once.
 */
import { SeededRandom, deriveSeed } from '../../random.js';
import type { OptimizerSession, SessionInput } from '../engine/session.js';
import { programEvaluator } from './evaluate.js';
import type { MiproAdapter, MiproDemo, MiproProgram } from './program.js';

export interface DemoSetOptions {
  readonly sets: number;
  readonly maxBootstrappedDemos: number;
  readonly maxLabeledDemos: number;
  readonly metricThreshold: number;
  readonly seed: number;
}

export interface BootstrapContext<TExample> {
  readonly session: OptimizerSession<SessionInput>;
  readonly adapter: MiproAdapter<TExample>;
  readonly trainset: readonly TExample[];
  readonly options: DemoSetOptions;
}

/** LabeledFewShot(k): k train examples, sampled (seeded), as demos. */
function labeledDemos<TExample>(context: BootstrapContext<TExample>, k: number): MiproDemo[] {
  const random = new SeededRandom(deriveSeed(context.options.seed, 'mipro-labeled'));
  return random.sample(context.trainset, k).map((example) => context.adapter.labeledDemo(example));
}

/** The teacher's trace for one example, or null when it fails the threshold (or the step failed). */
async function bootstrapOne<TExample>(
  context: BootstrapContext<TExample>,
  teacher: MiproProgram,
  example: TExample,
): Promise<MiproDemo | null> {
  const { adapter, session } = context;
  const own = adapter.labeledDemo(example);
  const program = { ...teacher, demos: teacher.demos.filter((demo) => demo.input !== own.input) };
  const subject = JSON.stringify({ program, example: adapter.exampleId(example) });
  const result = await session.evaluateWith('bootstrap', subject, programEvaluator(adapter, program, [example]));
  const score = (result?.metrics.scores as number[] | undefined)?.[0] ?? 0;
  const reply = (result?.metrics.replies as string[] | undefined)?.[0] ?? '';
  return result !== null && score >= context.options.metricThreshold ? adapter.tracedDemo(example, reply) : null;
}

/** BootstrapFewShot.compile: traces until `maxBootstraps`, then labelled demos from the rest up to maxLabeled. */
async function bootstrapFewShot<TExample>(
  context: BootstrapContext<TExample>,
  trainset: readonly TExample[],
  maxBootstraps: number,
  setIndex: number,
): Promise<MiproDemo[]> {
  const { adapter, options } = context;
  const teacher: MiproProgram = {
    instruction: adapter.basicInstruction,
    demos: labeledDemos(context, options.maxLabeledDemos),
  };
  const traces: MiproDemo[] = [];
  const bootstrapped = new Set<TExample>();
  for (const example of trainset) {
    if (traces.length >= maxBootstraps) break;
    context.session.throwIfAborted();
    const trace = await bootstrapOne(context, teacher, example);
    if (trace) {
      traces.push(trace);
      bootstrapped.add(example);
    }
  }
  const random = new SeededRandom(deriveSeed(options.seed, 'mipro-raw-demos', setIndex));
  const rest = random.shuffle(trainset.filter((example) => !bootstrapped.has(example)));
  const labeledCount = Math.max(0, Math.min(options.maxLabeledDemos - traces.length, rest.length));
  return [...traces, ...random.sample(rest, labeledCount).map((example) => adapter.labeledDemo(example))];
}

/** The demo candidates, `options.sets` of them (the first three as described in the file comment). */
export async function createDemoSets<TExample>(context: BootstrapContext<TExample>): Promise<MiproDemo[][]> {
  const { options } = context;
  const sets: MiproDemo[][] = [];
  const shuffler = new SeededRandom(deriveSeed(options.seed, 'mipro-demo-sets'));
  for (let index = 0; index < options.sets; index += 1) {
    if (index === 0) sets.push([]);
    else if (index === 1 && options.maxLabeledDemos > 0) sets.push(labeledDemos(context, options.maxLabeledDemos));
    else if (index === 2) {
      sets.push(await bootstrapFewShot(context, context.trainset, options.maxBootstrappedDemos, index));
    } else {
      // DSPy falls through to a shuffled set at index 1 too when there are no labelled demos.
      const shuffled = shuffler.shuffle(context.trainset);
      const size = shuffler.integer(Math.min(1, options.maxBootstrappedDemos), options.maxBootstrappedDemos);
      sets.push(await bootstrapFewShot(context, shuffled, size, index));
    }
  }
  return sets;
}
