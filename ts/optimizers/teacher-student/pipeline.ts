/**
 * One teacher–student experiment: MIPROv2 optimizes the agent program with the teacher (task and prompt model), the
 * student runs the unoptimized and the optimized program on held-out states (the teacher's zero-shot score beside
 * them), the student acts in held-out environments, and its 1.0-scored traces on the train states become chat JSONL.
 * Everything runs in `{outputDir}/{name}.run/` (event log and response cache): a rerun resumes and pays for nothing
 * already done.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom, deriveSeed } from '../../random.js';
import { OptNativeError } from '../../errors.js';
import { cacheMiddleware } from '../../llm/cache-middleware.js';
import { wrapLanguageModel } from '../../llm/middleware.js';
import type { LanguageModel } from '../../llm/types.js';
import type { ResponseCache } from '../../run/cache.js';
import {
  AGENT_INSTRUCTION,
  aiFeedbackMetric,
  bestConstantAction,
  examplesPerCategory,
  loadNavigationSplits,
  modelJudge,
  plannerJudge,
  type AgentProgram,
  type NavigationExample,
} from '../../tasks/navigation/index.js';
import type { OptimizationProgress } from '../contract.js';
import { parseConfig } from '../engine/config.js';
import { runOptimizationJob } from '../engine/job.js';
import { UsageMeter } from '../engine/meter.js';
import { miproConfigSchema } from '../mipro/config.js';
import { runMipro, type MiproResult } from '../mipro/optimizer.js';
import { navigationAdapter } from './adapter.js';
import {
  distillationRows,
  plannerRows,
  heldOutSeeds,
  runEpisodes,
  scoreStates,
  type EvaluationContext,
  type ScoredState,
} from './evaluate.js';
import type { TeacherStudentSettings } from './settings.js';
import {
  constantActionLines,
  episodeLine,
  gainLine,
  lenientGain,
  meanScoreGain,
  referenceGainLine,
  summarizeStates,
  summaryLines,
} from './summary.js';

/** What `--distill lora` asks of the caller: a LoRA adapter of the student trained on chat JSONL. */
export interface StudentTraining {
  readonly studentModel: string;
  readonly data: string;
  readonly outputDir: string;
  readonly epochs: number;
  readonly signal?: AbortSignal;
}

export interface TeacherStudentOptions {
  readonly resolveModel: (model: string) => Promise<LanguageModel>;
  /** Trains the adapter for `--distill lora` (resuming or reusing one already in `outputDir`); returns its folder. */
  readonly trainStudent?: (training: StudentTraining) => Promise<string>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: OptimizationProgress) => void;
  readonly onWarning?: (message: string) => void;
  readonly now?: () => number;
}

export interface TeacherStudentOutcome {
  readonly programPath: string;
  readonly infoPath: string;
  readonly distillPath: string | null;
  readonly printout: readonly string[];
}

interface Data {
  readonly train: NavigationExample[];
  readonly dev: NavigationExample[];
  readonly test: NavigationExample[];
  /** The states the planner labels for `distillFrom: planner` (empty otherwise). */
  readonly distill: NavigationExample[];
  readonly counts: Record<string, Record<string, number>>;
}

function loadData(settings: TeacherStudentSettings): Data {
  const splits = loadNavigationSplits(settings.datasetPath);
  const wrong = [...splits.train, ...splits.dev, ...splits.test].find((row) => row.encoding !== settings.encodingType);
  if (wrong) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${settings.datasetPath} holds ${wrong.encoding} observations, not --encoding-type ${settings.encodingType}`,
    );
  }
  const train = examplesPerCategory(splits.train, settings.samplesPerCategory, deriveSeed(settings.seed, 'train'));
  const dev = examplesPerCategory(splits.dev, settings.samplesPerCategory, deriveSeed(settings.seed, 'dev'));
  const devStates =
    settings.devSize === undefined
      ? dev.examples
      : new SeededRandom(deriveSeed(settings.seed, 'dev-size')).sample(dev.examples, settings.devSize);
  const test = new SeededRandom(deriveSeed(settings.seed, 'test')).sample(splits.test, settings.evalSize);
  if (train.examples.length === 0 || devStates.length === 0 || test.length === 0) {
    throw new OptNativeError('E_EMPTY_TABLE', `${settings.datasetPath}: train, dev and test must each hold states`);
  }
  const testCounts = examplesPerCategory(test, undefined, 0).counts;
  const distill =
    settings.distillFrom === 'planner'
      ? new SeededRandom(deriveSeed(settings.seed, 'distill')).sample(splits.train, settings.distillSize)
      : [];
  return {
    train: train.examples,
    dev: devStates,
    test,
    distill,
    counts: { train: train.counts, dev: dev.counts, test: testCounts },
  };
}

interface Roles {
  teacher: LanguageModel;
  student: LanguageModel;
  assessor: LanguageModel | null;
  meters: Record<'teacher' | 'student' | 'assessor', UsageMeter>;
}

async function resolveRoles(
  settings: TeacherStudentSettings,
  options: TeacherStudentOptions,
  cache: ResponseCache | undefined,
): Promise<Roles> {
  const meters = { teacher: new UsageMeter(), student: new UsageMeter(), assessor: new UsageMeter() };
  const load = async (model: string, meter: UsageMeter) => {
    const inner = meter.wrap(await options.resolveModel(model));
    return cache ? wrapLanguageModel(inner, cacheMiddleware(cache)) : inner;
  };
  const teacher = await load(settings.teacherModel, meters.teacher);
  const student = await load(settings.studentModel, meters.student);
  const assessor = settings.assessorModel === 'planner' ? null : await load(settings.assessorModel, meters.assessor);
  return { teacher, student, assessor, meters };
}

const BASIC_PROGRAM: AgentProgram = { instruction: AGENT_INSTRUCTION, demos: [] };

/** Runs one experiment; see the file comment. */
export async function runTeacherStudent(
  settings: TeacherStudentSettings,
  options: TeacherStudentOptions,
): Promise<TeacherStudentOutcome> {
  const data = loadData(settings);
  const started = (options.now ?? Date.now)();
  const config = parseConfig(miproConfigSchema, {
    auto: settings.auto,
    maxBootstrappedDemos: settings.maxBootstrappedDemos,
    maxLabeledDemos: settings.maxLabeledDemos,
    minibatchSize: settings.minibatchSize,
    optimizerMaxTokens: settings.proposerMaxTokens,
  });
  mkdirSync(settings.outputDir, { recursive: true });
  let roles: Roles | undefined;
  return runOptimizationJob({
    dir: join(settings.outputDir, `${settings.name}.run`),
    folder: 'open-or-create',
    onWarning: options.onWarning,
    models: async (cache) => {
      roles = await resolveRoles(settings, options, cache);
      return { model: roles.teacher, optimizerModel: roles.teacher };
    },
    optimize: async ({ runDir }) => {
      const { teacher, assessor } = roles as Roles;
      const judge = assessor ? modelJudge(assessor) : plannerJudge(settings.maxRegret);
      const metric = aiFeedbackMetric(judge, assessor ? plannerJudge(settings.maxRegret) : undefined);
      const adapter = navigationAdapter(metric, settings.hintType, settings.maxTokens);
      const mipro = await runMipro(config, {
        adapter,
        trainset: data.train,
        valset: data.dev,
        model: teacher,
        optimizerModel: teacher,
        runDir,
        seed: settings.seed,
        signal: options.signal,
        onProgress: options.onProgress,
      });
      return { mipro, context: { runDir: runDir!, adapter, metric, settings, signal: options.signal } };
    },
    finish: async (_job, { mipro, context }) =>
      finish(settings, data, roles as Roles, mipro, context, started, options),
  });
}

async function finish(
  settings: TeacherStudentSettings,
  data: Data,
  roles: Roles,
  mipro: MiproResult,
  context: EvaluationContext,
  started: number,
  options: TeacherStudentOptions,
): Promise<TeacherStudentOutcome> {
  const program = mipro.program;
  const before = await scoreStates(context, 'student-basic', roles.student, BASIC_PROGRAM, data.test);
  const after = await scoreStates(context, 'student-optimized', roles.student, program, data.test);
  const teacherZeroShot = settings.teacherBaseline
    ? await scoreStates(context, 'teacher-basic', roles.teacher, BASIC_PROGRAM, data.test)
    : null;
  const constant = await bestConstantAction(data.test, plannerJudge(settings.maxRegret));
  const seeds = heldOutSeeds(data.test, settings.episodes);
  const episodes = await runEpisodes(context, roles.student, program, seeds);
  const summaries = {
    student_optimized: summarizeStates(after),
    student_unoptimized: summarizeStates(before),
    ...(teacherZeroShot ? { teacher_zero_shot: summarizeStates(teacherZeroShot) } : {}),
  };
  const gain = lenientGain(before, after, settings.seed);
  const distilledProgram = settings.distillFrom === 'planner' ? { ...program, demos: [] } : program;
  let distillPath: string | null = null;
  let distilled = 0;
  if (settings.distill !== 'none') {
    const rows = await distillRows(settings, roles, context, { optimized: program, distilled: distilledProgram }, data);
    distilled = rows.length;
    distillPath = join(settings.outputDir, `${settings.name}_distill.jsonl`);
    writeFileSync(distillPath, rows.map((row) => `${row}\n`).join(''));
  }
  const lora =
    settings.distill === 'lora' && distillPath !== null && distilled > 0
      ? await distillIntoLora(settings, roles, context, options, {
          program: distilledProgram,
          data: distillPath,
          test: data.test,
          after,
        })
      : null;
  const teacherGap = teacherZeroShot
    ? {
        student_optimized: meanScoreGain(teacherZeroShot, after, settings.seed),
        ...(lora ? { student_distilled: meanScoreGain(teacherZeroShot, lora.scored, settings.seed) } : {}),
      }
    : null;
  const loraSource = settings.distillFrom === 'planner' ? 'planner-labelled' : settings.distillFrom;
  const sourceLabel = settings.distillFrom === 'planner' ? loraSource : `1.0-scored ${settings.distillFrom}`;
  const printout = [
    `teacher-student ${settings.name}: teacher ${settings.teacherModel}, student ${settings.studentModel}, ` +
      `assessor ${settings.assessorModel}`,
    `  train ${data.train.length}, dev ${data.dev.length}, test ${data.test.length} states; ` +
      `MIPROv2 ${settings.auto}: ${mipro.trials.length} trials, dev score ${mipro.score.toFixed(3)} ` +
      `(default ${mipro.defaultScore?.toFixed(3) ?? 'n/a'})`,
    ...summaryLines('Student, optimized program,', summaries.student_optimized),
    episodeLine(episodes, settings.episodeMaxSteps),
    ...summaryLines('Student, unoptimized program,', summaries.student_unoptimized).slice(0, 2),
    gainLine(gain),
    ...(summaries.teacher_zero_shot
      ? summaryLines('Teacher, zero-shot,', summaries.teacher_zero_shot).slice(0, 2)
      : []),
    ...constantActionLines(constant, data.test.length),
    ...(distillPath ? [`  Distilled ${distilled} ${sourceLabel} traces to ${distillPath}`] : []),
    ...(settings.distill === 'lora' && distilled === 0 ? ['  No 1.0-scored traces: no LoRA adapter trained'] : []),
    ...(lora
      ? [
          ...summaryLines(
            `Student + LoRA adapter (${distilled} ${loraSource} traces, ${settings.distillEpochs} epochs), ` +
              (distilledProgram.demos.length === program.demos.length
                ? 'optimized program,'
                : 'optimized instruction without demos,'),
            lora.summary,
          ).slice(0, 2),
          gainLine(lora.gain).replace('Lenient accuracy', 'Lenient accuracy without → with the adapter'),
          `  Adapter: ${lora.adapterDir}`,
        ]
      : []),
    ...(teacherGap
      ? [
          referenceGainLine("the teacher's zero-shot", 'optimized student', teacherGap.student_optimized),
          ...(teacherGap.student_distilled
            ? [referenceGainLine("the teacher's zero-shot", 'student + adapter', teacherGap.student_distilled)]
            : []),
        ]
      : []),
  ];
  const programPath = join(settings.outputDir, `${settings.name}.json`);
  const saved = { instruction: program.instruction, demos: program.demos, model: settings.studentModel };
  writeFileSync(programPath, `${JSON.stringify(saved, null, 2)}\n`);
  const infoPath = join(settings.outputDir, `${settings.name}_info.json`);
  const info = {
    models: { teacher: settings.teacherModel, student: settings.studentModel, assessor: settings.assessorModel },
    settings,
    dataset: { path: settings.datasetPath, train: data.train.length, dev: data.dev.length, test: data.test.length },
    per_category_counts: data.counts,
    mipro: {
      settings: mipro.settings,
      dev_score: mipro.score,
      default_dev_score: mipro.defaultScore,
      trials: mipro.trials,
      instructions: mipro.instructions,
      stop_reason: mipro.stopReason,
    },
    scores: { ...summaries, ...(lora ? { student_distilled: lora.summary } : {}), constant_action: constant },
    lenient_gain: gain,
    ...(teacherGap ? { teacher_gap: teacherGap } : {}),
    ...(lora ? { distillation: { adapter: lora.adapterDir, lenient_gain: lora.gain } } : {}),
    episodes: { successes: episodes.filter((episode) => episode.success).length, outcomes: episodes },
    distilled,
    tokens: {
      optimization: mipro.usage,
      this_session: Object.fromEntries(Object.entries(roles.meters).map(([role, meter]) => [role, meter.snapshot()])),
    },
    seconds: ((options.now ?? Date.now)() - started) / 1000,
  };
  writeFileSync(infoPath, `${JSON.stringify(info, null, 2)}\n`);
  return { programPath, infoPath, distillPath, printout };
}

/** The training rows of the distillation: 1.0-scored traces of the student or the teacher, or planner labels. */
async function distillRows(
  settings: TeacherStudentSettings,
  roles: Roles,
  context: EvaluationContext,
  programs: { readonly optimized: AgentProgram; readonly distilled: AgentProgram },
  data: Data,
): Promise<string[]> {
  if (settings.distillFrom === 'planner') return plannerRows(settings, programs.distilled, data.distill);
  const source = settings.distillFrom === 'teacher' ? roles.teacher : roles.student;
  const traces = await scoreStates(context, `${settings.distillFrom}-train`, source, programs.optimized, data.train);
  return distillationRows(settings, programs.optimized, data.train, traces);
}

/** `model` with `?adapter=DIR` (or `&adapter=`), percent-encoded as model strings allow. */
export function withAdapter(model: string, adapterDir: string): string {
  return `${model}${model.includes('?') ? '&' : '?'}adapter=${encodeURIComponent(adapterDir)}`;
}

interface LoraInputs {
  readonly program: AgentProgram;
  readonly data: string;
  readonly test: readonly NavigationExample[];
  readonly after: readonly ScoredState[];
}

/**
 * `--distill lora`: trains the student's adapter on the distilled traces (through the caller, which owns the native
 * core), then scores the optimized program with the adapted student on the same held-out states, paired with the
 * plain student's scores.
 */
async function distillIntoLora(
  settings: TeacherStudentSettings,
  roles: Roles,
  context: EvaluationContext,
  options: TeacherStudentOptions,
  inputs: LoraInputs,
) {
  if (!options.trainStudent) {
    throw new OptNativeError('E_BAD_INPUT', '--distill lora needs a caller that trains native students');
  }
  const adapterDir = await options.trainStudent({
    studentModel: settings.studentModel,
    data: inputs.data,
    outputDir: join(settings.outputDir, `${settings.name}_student_lora`),
    epochs: settings.distillEpochs,
    signal: options.signal,
  });
  const adapted = roles.meters.student.wrap(await options.resolveModel(withAdapter(settings.studentModel, adapterDir)));
  const scored = await scoreStates(context, 'student-distilled', adapted, inputs.program, inputs.test);
  return {
    adapterDir,
    scored,
    summary: summarizeStates(scored),
    gain: lenientGain(inputs.after, scored, settings.seed),
  };
}
