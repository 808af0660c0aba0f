// `opt-native optimize`: LLM-guided black-box optimization of a string x, scored by an evaluator script that runs in
// the sandbox.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { OptNativeError } from '../../errors.js';
import { withRunControls } from '../../llm/run-controls.js';
import { checkOptimizeOptions, run as runOptimize } from '../../optimize/run.js';
import { sandboxEvaluator } from '../../optimize/sandbox-evaluator.js';
import type { OptimizeResult, OptimizeStrategy } from '../../optimize/types.js';
import { Budget } from '../../run/budget.js';
import { ResponseCache } from '../../run/cache.js';
import { checkOutputFolder, isCacheFile } from '../../run/output-folder.js';
import { EVENT_LOG_FILE, RunDirectory } from '../../run/run-directory.js';
import { bubblewrapPath, bubblewrapStatus } from '../../sandbox/availability.js';
import { SANDBOX_DEFAULTS } from '../../sandbox/run.js';
import type { SandboxRuntime } from '../../sandbox/types.js';
import { LanguageModelResolver, checkModelString } from '../../llm/resolver.js';
import { addFlagAlias, commandValues } from '../flag-aliases.js';
import { progressDisplay } from '../progress-display.js';
import { integerOption, numberOption } from '../task-options.js';

interface OptimizeOptionValues {
  taskFile?: string;
  question?: string;
  x0File?: string;
  evaluator?: string;
  runtime: string;
  strategy: string;
  stopScore?: number;
  maxSteps: number;
  minimize?: boolean;
  proposalsPerStep: number;
  topK: number;
  temperature: number;
  maxNewTokens: number;
  model: string;
  evaluatorTimeoutMs: number;
  evaluatorMemoryMb: number;
  serviceSocket?: string;
  servicePort?: number;
  allowWeakerSandbox?: boolean;
  outputDir?: string;
  resume?: boolean | string;
  maxCalls?: number;
  maxTotalTokens?: number;
  maxMinutes?: number;
  quiet?: boolean;
  force?: boolean;
}

/** What a run needs again on resume: the file contents, not the paths (the files may have changed since). */
interface RecordedRun {
  task: string;
  question: string;
  x0: string;
  evaluatorScript: string;
  options: Omit<
    OptimizeOptionValues,
    'resume' | 'outputDir' | 'maxCalls' | 'maxTotalTokens' | 'maxMinutes' | 'quiet' | 'force'
  >;
}

const RECORDED_EVENT = 'optimize_options';
export const OPTIMIZE_OUTPUT_FILES = { bestX: 'best_x.txt', result: 'optimize_result.json' } as const;

function readInput(flag: string, path: string | undefined): string {
  if (path === undefined) throw new OptNativeError('E_BAD_INPUT', `${flag} is required`);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new OptNativeError('E_FILE_NOT_FOUND', `cannot read ${flag} ${path}: ${(error as Error).message}`);
  }
}

function newRun(values: OptimizeOptionValues): RecordedRun {
  if (values.question === undefined || values.question.trim() === '')
    throw new OptNativeError('E_BAD_INPUT', '--question is required');
  if (values.runtime !== 'python' && values.runtime !== 'node')
    throw new OptNativeError('E_BAD_INPUT', `--runtime must be python or node, got "${values.runtime}"`);
  const {
    resume: _resume,
    outputDir: _dir,
    maxCalls: _c,
    maxTotalTokens: _t,
    maxMinutes: _m,
    quiet: _q,
    force: _f,
    ...options
  } = values;
  checkRunOptions(options);
  return {
    task: readInput('--task-file', values.taskFile),
    question: values.question,
    x0: readInput('--x0-file', values.x0File),
    evaluatorScript: readInput('--evaluator', values.evaluator),
    options,
  };
}

/** Every recorded option that a later step would refuse, checked before the run folder is touched. */
function checkRunOptions(options: RecordedRun['options']): void {
  checkOptimizeOptions({
    strategy: options.strategy as OptimizeStrategy,
    stopScore: options.stopScore,
    maxSteps: options.maxSteps,
    proposalsPerStep: options.proposalsPerStep,
    topK: options.topK,
    temperature: options.temperature,
    maxTokens: options.maxNewTokens,
  });
  checkModelString(options.model);
  const socket = options.serviceSocket;
  if (socket !== undefined && !statSync(socket, { throwIfNoEntry: false })?.isSocket())
    throw new OptNativeError('E_BAD_INPUT', `--service-socket ${socket} is not a listening Unix socket`);
}

/** The files an optimize run writes into its folder: a folder holding anything else is refused without --force. */
function isOptimizeFile(name: string): boolean {
  return (
    name === EVENT_LOG_FILE || isCacheFile(name) || (Object.values(OPTIMIZE_OUTPUT_FILES) as string[]).includes(name)
  );
}

function openRun(values: OptimizeOptionValues): { runDir: RunDirectory; recorded: RecordedRun } {
  const resumeDir = typeof values.resume === 'string' ? values.resume : undefined;
  const outputDir = values.outputDir ?? resumeDir;
  if (outputDir === undefined) throw new OptNativeError('E_BAD_INPUT', '--output-dir is required');
  if (!values.resume) {
    const recorded = newRun(values);
    checkOutputFolder(outputDir, { command: 'optimize', ownsFile: isOptimizeFile, force: values.force });
    const runDir = RunDirectory.create(outputDir);
    runDir.appendEvent({ type: RECORDED_EVENT, run: recorded });
    return { runDir, recorded };
  }
  const runDir = RunDirectory.open(outputDir);
  for (const warning of runDir.warnings) process.stderr.write(`warning: ${warning}\n`);
  const event = runDir.replay().find((entry) => entry.type === RECORDED_EVENT);
  if (!event) throw new OptNativeError('E_BAD_INPUT', `${outputDir} holds no optimize run to resume`);
  return { runDir, recorded: event.run as RecordedRun };
}

function openCache(runDir: RunDirectory): ResponseCache | undefined {
  try {
    return new ResponseCache(runDir.cachePath);
  } catch (error) {
    process.stderr.write(`warning: response cache disabled (${(error as Error).message})\n`);
    return undefined;
  }
}

/** Each failed evaluation is a feedback line for the model and a coded line for the user; the run goes on. */
function reportFailures(result: OptimizeResult): void {
  for (const candidate of result.history) {
    if (candidate.error === undefined) continue;
    const code = /^\[(E_[A-Z_]+)\]/.exec(candidate.error)?.[1] ?? 'E_EVALUATOR';
    const message = candidate.error.replace(/^\[E_[A-Z_]+\]\s*/, '');
    process.stderr.write(`error[${code}]: step ${candidate.step} proposal ${candidate.proposal}: ${message}\n`);
  }
}

function writeOutputs(dir: string, result: OptimizeResult): void {
  writeFileSync(join(dir, OPTIMIZE_OUTPUT_FILES.bestX), result.bestX);
  writeFileSync(join(dir, OPTIMIZE_OUTPUT_FILES.result), `${JSON.stringify(result, null, 2)}\n`);
}

/** Refuses before any run folder exists when the evaluator could not be sandboxed. */
async function requireSandbox(allowWeaker: boolean | undefined): Promise<void> {
  const status = await bubblewrapStatus(bubblewrapPath(), SANDBOX_DEFAULTS.uid);
  if (status.available || allowWeaker) return;
  throw new OptNativeError(
    'E_SANDBOX_UNAVAILABLE',
    `${status.reason}; the evaluator runs model-written code and is never run unsandboxed (--allow-weaker-sandbox for rlimits only)`,
  );
}

async function runOptimizeCommand(values: OptimizeOptionValues): Promise<void> {
  if (!values.resume) await requireSandbox(values.allowWeakerSandbox);
  const { runDir, recorded } = openRun(values);
  const options = recorded.options;
  const resolver = new LanguageModelResolver();
  try {
    if (values.resume) await requireSandbox(options.allowWeakerSandbox);
    const model = withRunControls(await resolver.resolve(options.model), { cache: openCache(runDir) });
    const f = sandboxEvaluator({
      script: recorded.evaluatorScript,
      runtime: options.runtime as SandboxRuntime,
      timeoutMs: options.evaluatorTimeoutMs,
      memoryBytes: options.evaluatorMemoryMb * 1024 * 1024,
      service:
        options.serviceSocket === undefined
          ? undefined
          : { socketPath: options.serviceSocket, port: options.servicePort },
      allowWeakerFallback: options.allowWeakerSandbox,
    });
    const progress = progressDisplay('optimize', values.quiet, options.maxSteps);
    const interrupt = new AbortController();
    const onInterrupt = () => interrupt.abort();
    process.once('SIGINT', onInterrupt);
    const result = await runOptimize(recorded.task, recorded.question, f, recorded.x0, {
      model,
      strategy: options.strategy as OptimizeStrategy,
      stopScore: options.stopScore,
      maxSteps: options.maxSteps,
      minimize: options.minimize,
      proposalsPerStep: options.proposalsPerStep,
      topK: options.topK,
      temperature: options.temperature,
      maxTokens: options.maxNewTokens,
      budget: new Budget({
        maxCalls: values.maxCalls,
        maxTokens: values.maxTotalTokens,
        maxWallMs: values.maxMinutes === undefined ? undefined : values.maxMinutes * 60_000,
      }),
      runDir,
      signal: interrupt.signal,
      onProgress: progress.onProgress,
    }).finally(() => {
      progress.stop();
      process.off('SIGINT', onInterrupt);
    });
    reportFailures(result);
    writeOutputs(runDir.dir, result);
    printOutcome(result, runDir.dir);
    if (result.bestScore === null)
      throw new OptNativeError('E_EVALUATOR', 'no value of x could be evaluated; see the error lines above');
  } finally {
    runDir.close();
    await resolver.disposeAll();
  }
}

function printOutcome(result: OptimizeResult, dir: string): void {
  const start = result.history[0]?.score;
  console.log('=== BEST X ===');
  console.log(result.bestX);
  console.log('');
  console.log(`Best score: ${result.bestScore ?? 'none'} (x0: ${start ?? 'failed'})`);
  console.log(
    `Stopped: ${result.stopReason} after ${result.steps} steps; ${result.evaluations} evaluations, ${result.usage.calls} calls, ${result.usage.promptTokens} prompt + ${result.usage.completionTokens} completion tokens, ${(result.wallMs / 1000).toFixed(1)} s`,
  );
  console.log(`Outputs: ${join(dir, OPTIMIZE_OUTPUT_FILES.bestX)} and ${join(dir, OPTIMIZE_OUTPUT_FILES.result)}`);
}

export function registerOptimize(program: Command): void {
  const command = program
    .command('optimize')
    .description('optimize any string x (text, parameters, code) with an LLM, scored by a sandboxed evaluator')
    .option('--task-file <file>', 'task description the model reads')
    .option('--question <text>', 'the question asked each step ("what is the next x to try such that ...")')
    .option('--x0-file <file>', 'the start value of x')
    .option('--evaluator <script>', 'script that reads x from /work/x.txt (or stdin) and prints {"score", "feedback"}')
    .option('--runtime <name>', 'evaluator runtime: python (Debian python3) or node', 'python')
    .option('--strategy <name>', 'topk (bounded, OPRO-style) or chat (growing conversation)', 'topk')
    .option('--stop-score <x>', 'stop once a score reaches this', numberOption('--stop-score'))
    .option('--max-steps <n>', 'proposal rounds after x0', integerOption('--max-steps'), 10)
    .option('--minimize', 'lower scores are better')
    .option(
      '--proposals-per-step <n>',
      'proposals evaluated concurrently per step',
      integerOption('--proposals-per-step'),
      2,
    )
    .option('--top-k <n>', 'scored values shown by the topk strategy', integerOption('--top-k'), 5)
    .option('--temperature <t>', 'sampling temperature of the model', numberOption('--temperature'), 0.8)
    .option('--max-new-tokens <n>', 'completion limit of one proposal', integerOption('--max-new-tokens'), 1024)
    .option('--model <model>', 'model proposing x', 'native:default')
    .option(
      '--evaluator-timeout-ms <n>',
      'deadline of one evaluation',
      integerOption('--evaluator-timeout-ms', { min: 1 }),
      30_000,
    )
    .option(
      '--evaluator-memory-mb <n>',
      'memory limit of one evaluation',
      integerOption('--evaluator-memory-mb', { min: 1 }),
      1024,
    )
    .option('--service-socket <path>', 'grant the evaluator one service: a listening Unix socket')
    .option(
      '--service-port <n>',
      'make the service reachable as http://localhost:N inside',
      integerOption('--service-port', { min: 1, max: 65_535 }),
    )
    .option('--allow-weaker-sandbox', 'where bubblewrap cannot run, evaluate with rlimits only (labelled, weaker)')
    .option('--output-dir <dir>', 'folder for best_x.txt, optimize_result.json and the event log')
    .option('--resume [dir]', 'resume the run in --output-dir (or DIR) after a crash or kill')
    .option('--max-calls <n>', 'budget: model calls', integerOption('--max-calls'))
    .option(
      '--max-total-tokens <n>',
      'budget: prompt + completion tokens of all calls',
      integerOption('--max-total-tokens'),
    )
    .option('--max-minutes <x>', 'budget: wall time', numberOption('--max-minutes'))
    .option('--quiet', 'no progress lines on stderr')
    .option(
      '--force',
      'write into a non-empty --output-dir that holds no optimize run (files of the same name are replaced)',
    )
    .action(async (_options: unknown, self: Command) => runOptimizeCommand(commandValues<OptimizeOptionValues>(self)));
  addFlagAlias(
    command,
    '--max-tokens <n>',
    '--max-total-tokens',
    'deprecated: elsewhere --max-tokens caps one completion',
    integerOption('--max-tokens'),
  );
}
