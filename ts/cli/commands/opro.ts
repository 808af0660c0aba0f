// `opt-native opro`: OPRO prompt optimization of a text task, with the original OPRO Classic tool's flags and files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { OptNativeError } from '../../errors.js';
import { oneLineParseError } from '../../parse-error-message.js';
import { withRunControls } from '../../llm/run-controls.js';
import type { LanguageModel } from '../../llm/types.js';
import { OproOptimizer, type OproConfig, type OproResult } from '../../optimizers/opro/index.js';
import { withConfigErrors } from '../../optimizers/engine/config.js';
import { runOptimizationJob } from '../../optimizers/engine/job.js';
import { promptDigest } from '../../optimizers/engine/steps.js';
import { PROPOSAL_STYLES } from '../../optimizers/opro/meta-prompt.js';
import { DEFAULT_OPRO_CONFIG } from '../../optimizers/opro/config.js';
import { SEED_INSTRUCTION_SETS, type SeedInstructionSet } from '../../optimizers/engine/seed-instructions.js';
import { OUTPUT_FILES, writeOproOutputs } from '../../optimizers/opro/outputs.js';
import { Budget } from '../../run/budget.js';
import { checkOutputFolder, isCacheFile } from '../../run/output-folder.js';
import { EVENT_LOG_FILE, RunDirectory } from '../../run/run-directory.js';
import { evaluateTextPrompt, type EvaluationReport } from '../../tasks/evaluate.js';
import { accuracy } from '../../tasks/metrics.js';
import { pairedBootstrap, splitScoreOf } from '../../tasks/bootstrap.js';
import type { SplitName } from '../../datasets/types.js';
import type { TextTask } from '../../tasks/types.js';
import { ORIGINAL_AUDIO_BASELINE_PROMPT, type AudioTarget } from '../../audio/target.js';
import {
  addAudioEvaluatorOptions,
  audioModelPath,
  openAudioTarget,
  type AudioEvaluatorValues,
} from '../audio-target.js';
import { LanguageModelResolver, checkModelString } from '../../llm/resolver.js';
import type { ExclusiveResidency } from '../../run/exclusive-residency.js';
import {
  addOptimizerModelOptions,
  lowMemoryResidency,
  optimizerLoadOptions,
  type OptimizerModelValues,
} from '../optimizer-model.js';
import { addFlagAlias, currentNames } from '../flag-aliases.js';
import { progressDisplay } from '../progress-display.js';
import {
  addEvaluatorOptions,
  addTaskOptions,
  integerOption,
  loadTaskFromOptions,
  numberOption,
  requireTextTask,
  splitName,
  withConfigFile,
  type TaskOptionValues,
} from '../task-options.js';

export const DEFAULT_MODEL = 'native:default';

interface OproOptionValues extends TaskOptionValues, AudioEvaluatorValues, OptimizerModelValues {
  outputDir?: string;
  resume?: boolean | string;
  config?: string;
  evaluator: string;
  evalMode: 'generate' | 'score';
  optimizerTemperature: number;
  optimizerMaxNewTokens: number;
  numIterations: number;
  candidatesPerIter: number;
  topK: number;
  earlyStopping: number;
  rewardWBaClip: number;
  rewardWBaCond: number;
  rewardWLengthPenalty: number;
  baselinePrompt?: string;
  proposalStyle: 'opro' | 'variation';
  maxPromptChars: number;
  initialPromptsJson?: string;
  seedInstructions: SeedInstructionSet;
  maxCalls?: number;
  maxTotalTokens?: number;
  maxDollars?: number;
  maxMinutes?: number;
  quiet?: boolean;
  force?: boolean;
}

/** Options a resumed run takes from its first session, so that the replayed steps line up. */
const RECORDED_OPTIONS_EVENT = 'opro_options';
/** Options of one session, not recorded: budgets, output, and how models are held (results do not depend on it). */
const SESSION_KEYS = [
  'maxCalls',
  'maxTotalTokens',
  'maxTokens',
  'maxDollars',
  'maxMinutes',
  'quiet',
  'resume',
  'outputDir',
  'config',
  'force',
  'lowMemory',
];

function oproConfigOf(values: OproOptionValues): Partial<OproConfig> {
  return {
    numIterations: values.numIterations,
    candidatesPerIter: values.candidatesPerIter,
    topK: values.topK,
    earlyStopping: values.earlyStopping,
    optimizerTemperature: values.optimizerTemperature,
    optimizerMaxNewTokens: values.optimizerMaxNewTokens,
    reward: {
      wBaClip: values.rewardWBaClip,
      wBaCond: values.rewardWBaCond,
      wLengthPenalty: values.rewardWLengthPenalty,
    },
    baselinePrompt: values.baselinePrompt,
    initialPrompts: values.initialPromptsJson ? readInitialPrompts(values.initialPromptsJson) : [],
    seedInstructions: values.seedInstructions,
    evalMode: values.evalMode,
    proposalStyle: values.proposalStyle,
    maxPromptChars: values.maxPromptChars,
  };
}

function readInitialPrompts(path: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new OptNativeError('E_BAD_INPUT', `cannot read --initial-prompts-json ${path}: ${oneLineParseError(error)}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((prompt) => typeof prompt === 'string' && prompt.trim() !== '')) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `--initial-prompts-json ${path} must hold a JSON array of non-empty strings`,
    );
  }
  return parsed;
}

/** The files an opro run writes into its folder: a folder holding anything else is refused without --force. */
function isOproFile(name: string): boolean {
  return (
    name === EVENT_LOG_FILE ||
    isCacheFile(name) ||
    (Object.values(OUTPUT_FILES) as string[]).includes(name) ||
    // writeFileAtomic's temporary files, left by a kill mid-write
    /\.tmp-\d+$/.test(name)
  );
}

/** The folder of the run: --output-dir, or the one --resume names. */
function runFolderOf(values: OproOptionValues): string {
  const resumeDir = typeof values.resume === 'string' ? values.resume : undefined;
  const outputDir = values.outputDir ?? resumeDir;
  if (outputDir === undefined) throw new OptNativeError('E_BAD_INPUT', '--output-dir is required');
  return outputDir;
}

/** A new run records its options, so that a resume can take them back (budget flags excepted). */
function recordOptions(runDir: RunDirectory, values: OproOptionValues): void {
  const recorded = Object.fromEntries(Object.entries(values).filter(([key]) => !SESSION_KEYS.includes(key)));
  runDir.appendEvent({ type: RECORDED_OPTIONS_EVENT, options: recorded });
}

/** A resumed run's options: those recorded by its first session, with this session's own flags. */
function restoredOptions(
  runDir: RunDirectory,
  values: OproOptionValues,
  outputDir: string,
  command: Command,
): OproOptionValues {
  const recorded = runDir.replay().find((event) => event.type === RECORDED_OPTIONS_EVENT);
  if (!recorded) throw new OptNativeError('E_BAD_INPUT', `${outputDir} holds no opro run to resume`);
  // A run recorded before a flag got its current name (--optimizer-llm, --checkpoint) resumes under the new one.
  return { ...values, ...currentNames(command, recorded.options as Record<string, unknown>), outputDir };
}

function budgetOf(values: OproOptionValues): Budget {
  return new Budget({
    maxCalls: values.maxCalls,
    maxTokens: values.maxTotalTokens,
    maxDollars: values.maxDollars,
    maxWallMs: values.maxMinutes === undefined ? undefined : values.maxMinutes * 60_000,
  });
}

interface HeldoutScore {
  score: number;
  accuracy: number;
  balanced_accuracy: number;
  n_samples: number;
  failures: number;
  /** Per example, in the split's order; absent in runs recorded before it was kept. */
  correct?: boolean[];
}

/** The baseline on the same held-out examples as the best prompt, with a paired bootstrap of the gain. */
interface HeldoutBaseline {
  prompt: string;
  score: number;
  gain: number;
  gain_interval_95: [number, number];
}

interface HeldoutSummary extends Omit<HeldoutScore, 'correct'> {
  split: 'test';
  baseline?: HeldoutBaseline;
}

/** Scores one prompt on the held-out test split, as a recorded step (a resumed run does not redo it). */
function scoreHeldout(
  runDir: RunDirectory,
  task: TextTask,
  model: LanguageModel,
  prompt: string,
  mode: 'generate' | 'score',
): Promise<HeldoutScore> {
  return runDir.runStep(`opro/heldout/${promptDigest(prompt)}`, async () => {
    const report: EvaluationReport = await evaluateTextPrompt({
      task,
      examples: task.splits.test,
      model,
      instruction: prompt,
      mode,
    });
    return {
      score: report.score,
      accuracy: report.accuracy,
      balanced_accuracy: report.balancedAccuracy,
      n_samples: report.examples,
      failures: report.failures,
      correct: report.predictions.map((prediction) => prediction.correct),
    };
  });
}

/**
 * The best prompt's held-out score, and the baseline's beside it when they differ: a validation winner is only a
 * gain if it holds on examples the search never saw, so the run reports the paired difference with its interval.
 */
async function evaluateHeldout(
  runDir: RunDirectory,
  task: TextTask,
  model: LanguageModel,
  result: OproResult,
  mode: 'generate' | 'score',
): Promise<HeldoutSummary | undefined> {
  if (task.splits.test.length === 0) return undefined;
  const { correct, ...best } = await scoreHeldout(runDir, task, model, result.bestPrompt, mode);
  const baselinePrompt = result.records.find((record) => record.status === 'evaluated')?.prompt;
  if (baselinePrompt === undefined || baselinePrompt === result.bestPrompt || !correct) {
    return { split: 'test', ...best };
  }
  const baseline = await scoreHeldout(runDir, task, model, baselinePrompt, mode);
  if (!baseline.correct) return { split: 'test', ...best };
  const targets = task.splits.test.map((example) => example.target);
  const paired = pairedBootstrap({ targets, correct: baseline.correct }, { targets, correct }, splitScoreOf(task), {
    resamples: 2000,
    seed: 42,
  });
  return {
    split: 'test',
    ...best,
    baseline: {
      prompt: baselinePrompt,
      score: baseline.score,
      gain: paired.gain,
      gain_interval_95: [paired.gainInterval.low, paired.gainInterval.high],
    },
  };
}

/** The audio twin of `evaluateHeldout`: BA_clip of the best prompt on the manifest's test clips. */
async function evaluateAudioHeldout(
  runDir: RunDirectory,
  audio: AudioTarget,
  model: LanguageModel,
  prompt: string,
): Promise<HeldoutSummary | undefined> {
  if (audio.clips('test').length === 0) return undefined;
  return runDir.runStep(`opro/heldout/${promptDigest(prompt)}`, async () => {
    const { predictions, scores } = await audio.predict('test', prompt, model);
    const clips = audio.clips('test');
    return {
      split: 'test' as const,
      score: scores.baClip,
      accuracy: accuracy(clips.map((clip, index) => predictions[index]?.label === clip.target)),
      balanced_accuracy: scores.baClip,
      n_samples: clips.length,
      failures: predictions.filter((prediction) => prediction.label === null).length,
    };
  });
}

function resultState(result: OproResult) {
  return {
    records: result.records,
    memory: result.memory,
    iterationStats: result.iterationStats,
    usage: result.usage,
    wallTimeMs: result.wallTime,
    stopReason: result.stopReason,
  };
}

/** What a run needs besides its models; building it checks every option, so it is done before the first write. */
interface OproPlan {
  readonly task: TextTask;
  readonly split: SplitName;
  readonly valset: TextTask['splits']['validation'];
  readonly audio: AudioTarget | undefined;
  readonly config: Partial<OproConfig>;
  /** How the optimizer LLM is loaded (device, 4-bit). */
  readonly optimizerLoad: ReturnType<typeof optimizerLoadOptions>['resolve'];
}

async function planOpro(values: OproOptionValues, residency: ExclusiveResidency | undefined): Promise<OproPlan> {
  if (values.manifest === undefined) {
    requireTextTask(values);
    // A model string that cannot resolve fails here, not after the run folder was made.
    checkModelString(values.evaluator);
  } else audioModelPath(values.evaluator);
  const optimizerLoad = optimizerLoadOptions(values);
  if (optimizerLoad.note) process.stderr.write(`note: ${optimizerLoad.note}\n`);
  const split = splitName(values.split);
  const config = {
    ...oproConfigOf(values),
    // The original tool's start prompt for an audio manifest, unless one is given.
    ...(values.manifest !== undefined && values.baselinePrompt === undefined
      ? { baselinePrompt: ORIGINAL_AUDIO_BASELINE_PROMPT }
      : {}),
  };
  // Validates the config (zod) without keeping the optimizer: the run builds its own with the audio evaluator.
  withConfigErrors(() => new OproOptimizer(config), 'opro config');
  // Audio manifests are evaluated by the native Qwen2-Audio model; text tasks by a language model.
  const audio = values.manifest === undefined ? undefined : await openAudioTarget(values, { residency });
  try {
    const task = audio ? audio.task : await loadTaskFromOptions(requireTextTask(values), values);
    const valset = task.splits[split];
    if (valset.length === 0)
      throw new OptNativeError('E_EMPTY_TABLE', `the ${values.split} split of ${task.name} is empty`);
    if (split === 'test')
      process.stderr.write('warning: optimizing on the test split; the held-out score is then not held out\n');
    return { task, split, valset, audio, config, optimizerLoad: optimizerLoad.resolve };
  } catch (error) {
    await audio?.dispose();
    throw error;
  }
}

/** Runs the optimizer with a progress display; the first Ctrl-C stops cleanly (resumable), a second exits at once. */
async function optimizeWithProgress(
  optimizer: OproOptimizer,
  input: Parameters<OproOptimizer['optimize']>[0],
  quiet: boolean | undefined,
): Promise<OproResult> {
  const progress = progressDisplay('opro', quiet, optimizer.config.numIterations);
  const interrupt = new AbortController();
  const onInterrupt = () => interrupt.abort();
  process.once('SIGINT', onInterrupt);
  return optimizer.optimize({ ...input, onProgress: progress.onProgress, signal: interrupt.signal }).finally(() => {
    progress.stop();
    process.off('SIGINT', onInterrupt);
  });
}

async function runOpro(options: OproOptionValues, command: Command): Promise<void> {
  const outputDir = runFolderOf(options);
  const fresh = !options.resume;
  // Every option is checked before the first write to the folder; a resumed run checks its recorded ones on reopen.
  if (fresh) checkOutputFolder(outputDir, { command: 'opro', ownsFile: isOproFile, force: options.force });
  // --low-memory: the native models (optimizer LLM, text or audio evaluator) take turns in memory.
  const residency = lowMemoryResidency(options);
  let plan = fresh ? await planOpro(options, residency) : undefined;
  let values: OproOptionValues = { ...options, outputDir };
  const resolver = new LanguageModelResolver({ residency });
  await runOptimizationJob({
    dir: outputDir,
    folder: fresh ? 'create' : 'resume',
    onOpen: async (runDir) => {
      if (!runDir) return;
      if (fresh) recordOptions(runDir, values);
      else values = restoredOptions(runDir, values, outputDir, command);
      plan ??= await planOpro(values, residency);
    },
    models: async (cache) => {
      const optimizer = await resolver.resolve(values.optimizerModel, plan?.optimizerLoad);
      const optimizerModel = withRunControls(optimizer, { cache });
      // An audio run's prompted model is the audio model: its clips are cached, metered and budgeted like text calls.
      const evaluated = plan?.audio ? plan.audio.model : await resolver.resolve(values.evaluator);
      const model = withRunControls(evaluated, { cache });
      return { model, optimizerModel };
    },
    optimize: ({ runDir, model, optimizerModel }) => {
      const { task, split, valset, audio, config } = plan as OproPlan;
      const evaluator = audio ? (metered: LanguageModel) => audio.evaluator(split, metered) : undefined;
      const optimizer = new OproOptimizer(config, { outputDir, evaluator });
      const input = {
        task,
        // Audio exemplars would be file paths, which tell the optimizer nothing.
        trainset: audio ? [] : task.splits.train,
        valset,
        model,
        optimizerModel,
        metric: task.metric,
        budget: budgetOf(values),
        runDir,
        seed: values.seed,
      };
      return optimizeWithProgress(optimizer, input, values.quiet);
    },
    // The held-out score is the point of the run: it is measured even when the budget stopped the search.
    heldout: ({ runDir, model }, result) => {
      const { task, audio } = plan as OproPlan;
      const dir = runDir as RunDirectory;
      return audio
        ? evaluateAudioHeldout(dir, audio, model, result.bestPrompt)
        : evaluateHeldout(dir, task, model, result, values.evalMode);
    },
    finish: (_context, result, heldout) => {
      if (result.stopReason !== 'aborted') writeOproOutputs(outputDir, resultState(result), heldout ? { heldout } : {});
      printOutcome(result, heldout, outputDir);
    },
    release: async () => {
      await plan?.audio?.dispose();
      await resolver.disposeAll();
    },
  });
}

function printOutcome(result: OproResult, heldout: HeldoutSummary | undefined, dir: string): void {
  console.log('=== BEST PROMPT ===');
  console.log(result.bestPrompt);
  console.log('');
  console.log(`Reward: ${result.score.toFixed(4)} (validation score ${result.best.ba_clip.toFixed(3)})`);
  if (heldout) {
    console.log(`Held-out ${heldout.split} score: ${heldout.score.toFixed(3)} on ${heldout.n_samples} examples`);
    if (heldout.baseline) console.log(baselineLine(heldout.baseline));
  }
  console.log(
    `Stopped: ${result.stopReason}; ${result.usage.calls} calls, ${result.usage.promptTokens} prompt + ${result.usage.completionTokens} completion tokens, ${(result.wallTime / 1000).toFixed(1)} s`,
  );
  console.log(`Outputs: ${join(dir, 'best_prompt.txt')} and the rest of ${dir}`);
}

function baselineLine({ score, gain, gain_interval_95: [low, high] }: HeldoutBaseline): string {
  const signed = (value: number) => `${value >= 0 ? '+' : '-'}${Math.abs(value).toFixed(3)}`;
  return `Baseline held-out score: ${score.toFixed(3)}; gain ${signed(gain)} [${signed(low)}, ${signed(high)}] (95% paired bootstrap)`;
}

export function registerOpro(program: Command): void {
  const command = program
    .command('opro')
    .description('optimize a prompt with OPRO (Yang et al. 2023), as the OPRO Classic tool');
  addAudioEvaluatorOptions(addEvaluatorOptions(addTaskOptions(command, 'validation'), DEFAULT_MODEL))
    .option('--output-dir <dir>', 'folder for best_prompt.txt, best_metrics.json, opro_*.json(l) and the event log')
    .option('--resume [dir]', 'resume the run in --output-dir (or DIR) after a crash or kill')
    .option('--optimizer-model <model>', 'model writing prompts', DEFAULT_MODEL);
  addFlagAlias(command, '--optimizer-llm <model>', '--optimizer-model', "the original tool's name");
  addOptimizerModelOptions(command)
    .option(
      '--optimizer-temperature <t>',
      'sampling temperature of the optimizer model',
      numberOption('--optimizer-temperature'),
      0.7,
    )
    .option(
      '--optimizer-max-new-tokens <n>',
      'completion limit of the optimizer model',
      integerOption('--optimizer-max-new-tokens'),
      2000,
    )
    .option('--num-iterations <n>', 'maximum iterations', integerOption('--num-iterations'), 30)
    .option(
      '--candidates-per-iter <n>',
      'candidates evaluated per iteration',
      integerOption('--candidates-per-iter'),
      3,
    )
    .option('--top-k <n>', 'prompts kept in memory and shown to the optimizer', integerOption('--top-k'), 10)
    .option(
      '--early-stopping <n>',
      'iterations without improvement before stopping',
      integerOption('--early-stopping'),
      5,
    )
    .option(
      '--reward-w-ba-clip <w>',
      'reward weight of the task score (BA_clip)',
      numberOption('--reward-w-ba-clip'),
      1.0,
    )
    .option(
      '--reward-w-ba-cond <w>',
      'reward weight of BA_conditions (audio)',
      numberOption('--reward-w-ba-cond'),
      0.25,
    )
    .option(
      '--reward-w-length-penalty <w>',
      'reward penalty per 100 prompt characters',
      numberOption('--reward-w-length-penalty'),
      0.05,
    )
    .option('--baseline-prompt <text>', 'first prompt evaluated (default: depends on the task)')
    .addOption(
      new Option(
        '--proposal-style <style>',
        'how candidates are asked for: the OPRO meta-prompt, or variations of the top prompts (small optimizer models)',
      )
        .choices([...PROPOSAL_STYLES])
        .default('opro'),
    )
    .option(
      '--max-prompt-chars <n>',
      'longest candidate evaluated (longer ones are refused)',
      integerOption('--max-prompt-chars'),
      DEFAULT_OPRO_CONFIG.maxPromptChars,
    )
    .option('--initial-prompts-json <file>', 'JSON array of further starting prompts')
    .addOption(
      new Option(
        '--seed-instructions <set>',
        'also evaluate these task-independent instructions first (generic: five from the literature, docs/opro.md)',
      )
        .choices([...SEED_INSTRUCTION_SETS])
        .default(DEFAULT_OPRO_CONFIG.seedInstructions),
    )
    .option('--max-calls <n>', 'budget: model calls', integerOption('--max-calls'))
    .option(
      '--max-total-tokens <n>',
      'budget: prompt + completion tokens of all calls',
      integerOption('--max-total-tokens'),
    )
    .option('--max-dollars <x>', 'budget: dollars on priced providers', numberOption('--max-dollars'))
    .option('--max-minutes <x>', 'budget: wall time', numberOption('--max-minutes'))
    .option('--quiet', 'no progress lines on stderr')
    .option(
      '--force',
      'write into a non-empty --output-dir that holds no opro run (files of the same name are replaced)',
    )
    .action(withConfigFile<OproOptionValues>(runOpro));
  addFlagAlias(
    command,
    '--max-tokens <n>',
    '--max-total-tokens',
    'deprecated: elsewhere --max-tokens caps one completion',
    integerOption('--max-tokens'),
  );
}
