/**
 * MIPROv2's step 3: TPE over (instruction, demo set). The default program (instruction 0, demo set 0) is evaluated on
 * the full validation sample first and seeds the study; each search trial is scored on a seeded minibatch, and on the
 * schedule of ./schedule.ts the configuration with the best mean minibatch score (not yet fully evaluated) is scored
 * on the full sample, and that score joins the study as a trial. Without minibatches every trial is a full
 * evaluation. The best full score wins (strictly better replaces it, as in DSPy).
 */
import { SeededRandom, deriveSeed } from '../../random.js';
import type { OptimizerSession, SessionInput } from '../engine/session.js';
import { bestMeanTrial, trialKey } from '../few-shot/optimizer.js';
import { CategoricalTpe, type Observation, type Trial } from '../few-shot/tpe.js';
import { programEvaluator } from './evaluate.js';
import type { MiproAdapter, MiproDemo, MiproProgram } from './program.js';
import { trialSchedule } from './schedule.js';

export interface SearchSpace {
  readonly instructions: readonly string[];
  /** Null for zero-shot optimization: only instructions are searched. */
  readonly demoSets: readonly (readonly MiproDemo[])[] | null;
}

export interface SearchOptions {
  readonly numTrials: number;
  readonly minibatch: boolean;
  readonly minibatchSize: number;
  readonly fullEvalSteps: number;
  readonly startupTrials: number;
  readonly seed: number;
}

/** One scored configuration, in the order they were scored. */
export interface MiproTrialRecord {
  readonly trialNumber: number;
  readonly params: Trial;
  readonly score: number | null;
  readonly fullEval: boolean;
}

export interface SearchOutcome {
  readonly best: MiproProgram;
  readonly bestParams: Trial;
  readonly bestScore: number;
  readonly defaultScore: number | null;
  readonly trials: readonly MiproTrialRecord[];
}

interface SearchContext<TExample> {
  readonly session: OptimizerSession<SessionInput>;
  readonly adapter: MiproAdapter<TExample>;
  readonly valset: readonly TExample[];
  readonly space: SearchSpace;
  readonly options: SearchOptions;
}

export function programOf(space: SearchSpace, params: Trial): MiproProgram {
  return {
    instruction: space.instructions[params.instruction ?? 0] ?? '',
    demos: space.demoSets?.[params.demos ?? 0] ?? [],
  };
}

async function scoreOn<TExample>(
  context: SearchContext<TExample>,
  key: string,
  params: Trial,
  examples: readonly TExample[],
): Promise<number | null> {
  const { adapter } = context;
  const program = programOf(context.space, params);
  const subject = JSON.stringify({ program, examples: examples.map((example) => adapter.exampleId(example)) });
  const result = await context.session.evaluateWith(key, subject, programEvaluator(adapter, program, examples));
  return result?.primary ?? null;
}

/** Runs the search; `onScored` hears each scored configuration (the optimizer's history and best prompt). */
export async function searchPromptParameters<TExample>(
  context: SearchContext<TExample>,
  onScored: (record: MiproTrialRecord, program: MiproProgram) => void,
): Promise<SearchOutcome> {
  const { session, space, options, valset } = context;
  const dimensions: Record<string, number> = { instruction: space.instructions.length };
  if (space.demoSets) dimensions.demos = space.demoSets.length;
  const tpe = new CategoricalTpe(dimensions, {
    seed: deriveSeed(options.seed, 'mipro-tpe'),
    startupTrials: options.startupTrials,
  });
  const defaultParams: Trial = space.demoSets ? { instruction: 0, demos: 0 } : { instruction: 0 };
  const study: Observation[] = [];
  const minibatchScores: Observation[] = [];
  const fullyEvaluated = new Set<string>();
  const trials: MiproTrialRecord[] = [];
  const scored = (record: MiproTrialRecord) => {
    trials.push(record);
    onScored(record, programOf(space, record.params));
  };
  const defaultScore = await scoreOn(context, 'full', defaultParams, valset);
  scored({ trialNumber: 1, params: defaultParams, score: defaultScore, fullEval: true });
  let best = { params: defaultParams, score: defaultScore ?? -Infinity };
  if (defaultScore !== null) study.push({ params: defaultParams, value: defaultScore });
  for (const { searchTrial, trialNumber, fullEvalAfter } of trialSchedule(
    options.numTrials,
    options.fullEvalSteps,
    options.minibatch,
  )) {
    session.throwIfAborted();
    if (session.breakerOpen) break;
    const params = tpe.suggest(study);
    const examples = options.minibatch
      ? new SeededRandom(deriveSeed(options.seed, 'mipro-minibatch', searchTrial)).sample(valset, options.minibatchSize)
      : valset;
    const score = await scoreOn(context, options.minibatch ? 'minibatch' : 'full', params, examples);
    scored({ trialNumber, params, score, fullEval: !options.minibatch });
    if (!options.minibatch && score !== null && score > best.score) best = { params, score };
    if (options.minibatch && score !== null) minibatchScores.push({ params, value: score });
    if (fullEvalAfter) {
      const full = await fullEvaluation(context, minibatchScores, fullyEvaluated, trialNumber + 1);
      if (full) {
        // The full evaluation joins the study before the trial's own minibatch value completes, as in Optuna.
        study.push({ params: full.params, value: full.score ?? 0 });
        scored({ trialNumber: trialNumber + 1, params: full.params, score: full.score, fullEval: true });
        if (full.score !== null && full.score > best.score) best = { params: full.params, score: full.score };
      }
    }
    if (score !== null) study.push({ params, value: score });
    session.progress(
      searchTrial,
      `trial ${trialNumber} (${trialKey(params)}): ${score?.toFixed(3) ?? 'failed'}`,
      'iteration',
    );
  }
  return {
    best: programOf(space, best.params),
    bestParams: best.params,
    bestScore: best.score,
    defaultScore,
    trials,
  };
}

/** The best-averaging configuration not yet fully evaluated, scored on the full sample. */
async function fullEvaluation<TExample>(
  context: SearchContext<TExample>,
  minibatchScores: readonly Observation[],
  fullyEvaluated: Set<string>,
  trialNumber: number,
): Promise<{ params: Trial; score: number | null } | undefined> {
  const chosen = bestMeanTrial(minibatchScores, fullyEvaluated);
  if (!chosen) return undefined;
  fullyEvaluated.add(trialKey(chosen));
  const score = await scoreOn(context, 'full', chosen, context.valset);
  context.session.progress(trialNumber, `full evaluation (${trialKey(chosen)}): ${score?.toFixed(3) ?? 'failed'}`);
  return { params: chosen, score };
}
