// `opt-native bench`: run optimizer benchmarks (flags or a manifest), show their results, write an HTML report.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import { openQueue, syncRun } from '../../bench/bullmq-engine.js';
import { expandManifest, loadManifestFile, manifestFromFlags, type BenchManifest } from '../../bench/manifest.js';
import { renderBenchReport } from '../../bench/report.js';
import { formatRunDetails, formatRunList, formatRunTable } from '../../bench/results.js';
import { DEFAULT_CHECKPOINT_DIR, runBenchmark } from '../../bench/run.js';
import { BenchStore } from '../../bench/store.js';
import { OPTIMIZER_NAMES } from '../../optimizers/registry.js';
import type { BenchTaskSpec } from '../../bench/types.js';
import { OptNativeError } from '../../errors.js';
import { seedFlag } from '../../numbers.js';
import { integerOption } from '../task-options.js';

interface RunValues {
  config?: string;
  datasets?: string[];
  optimizers?: string[];
  models?: string[];
  optimizerModel?: string;
  testMode?: boolean;
  seed?: number;
  maxConcurrent: number;
  checkpointDir: string;
  resumeRunId?: string;
  retryFailedRunId?: string;
  engine: 'local' | 'bullmq';
  redis?: string;
  queue?: string;
  detach?: boolean;
  maxAttempts: number;
  backoffMs: number;
  quiet?: boolean;
}

/** `--datasets a b,c` → [a, b, c]. */
function listOf(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean);
}

function tasksOf(values: RunValues): { manifest: BenchManifest; tasks: BenchTaskSpec[] } {
  let manifest: BenchManifest;
  let tasks: BenchTaskSpec[];
  if (values.config) {
    ({ manifest, tasks } = loadManifestFile(values.config));
  } else {
    const datasets = listOf(values.datasets);
    const optimizers = listOf(values.optimizers);
    if (datasets.length === 0 || optimizers.length === 0) {
      throw new OptNativeError('E_BAD_INPUT', 'give --config manifest.json, or --datasets and --optimizers');
    }
    manifest = manifestFromFlags({
      datasets,
      optimizers,
      models: listOf(values.models),
      optimizerModel: values.optimizerModel,
      testMode: values.testMode,
      seed: values.seed,
    });
    tasks = expandManifest(manifest, 'command line');
  }
  // Flags given on the command line win over the manifest.
  const overridden = tasks.map((task) => ({
    ...task,
    ...(values.testMode ? { testMode: true } : {}),
    ...(values.seed === undefined ? {} : { seed: values.seed }),
  }));
  return { manifest, tasks: overridden };
}

function progressLogger(quiet: boolean | undefined) {
  const write = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  return {
    onTaskStart: (task: { taskId: string }, attempt: number) =>
      write(`[bench] start ${task.taskId} (attempt ${attempt})`),
    onTaskDone: (task: { taskId: string }, result: { score: number }) =>
      write(`[bench] done ${task.taskId}: best ${result.score.toFixed(3)}`),
    onTaskFailed: (task: { taskId: string }, error: string, willRetry: boolean) =>
      write(`[bench] ${willRetry ? 'retrying' : 'failed'} ${task.taskId}: ${error}`),
  };
}

async function benchRun(values: RunValues): Promise<void> {
  const resuming = values.resumeRunId ?? values.retryFailedRunId;
  const { manifest, tasks } = resuming ? { manifest: undefined, tasks: undefined } : tasksOf(values);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const summary = await runBenchmark({
      checkpointDir: values.checkpointDir,
      engine: values.engine,
      manifest,
      tasks,
      resumeRunId: values.resumeRunId,
      retryFailedRunId: values.retryFailedRunId,
      maxConcurrent: values.maxConcurrent,
      maxAttempts: values.maxAttempts,
      backoffMs: values.backoffMs,
      redisUrl: values.redis,
      queueName: values.queue,
      detach: values.detach,
      signal: abort.signal,
      onRunId: (runId) => process.stderr.write(`run ${runId}\n`),
      ...progressLogger(values.quiet),
    });
    const store = new BenchStore(resolve(values.checkpointDir));
    try {
      console.log(formatRunTable(summary, store.tasks(summary.runId)));
    } finally {
      store.close();
    }
    if (values.detach)
      console.log(`enqueued; follow with: opt-native bench results --run-id ${summary.runId} --redis URL --watch`);
    if (summary.counts.failed > 0) {
      console.error(`${summary.counts.failed} task(s) failed; rerun them with --retry-failed-run-id ${summary.runId}`);
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

interface ResultsValues {
  listRuns?: boolean;
  runId?: string;
  detailed?: boolean;
  raw?: boolean;
  watch?: boolean;
  intervalMs: number;
  checkpointDir: string;
  redis?: string;
  queue?: string;
}

async function syncFromRedis(store: BenchStore, runId: string, values: ResultsValues): Promise<void> {
  if (!values.redis || store.run(runId).engine !== 'bullmq') return;
  const queue = openQueue(values.redis, values.queue);
  try {
    await syncRun(queue, { store, runId });
  } finally {
    await queue.close();
  }
}

function renderResults(store: BenchStore, runId: string, values: ResultsValues): string {
  const summary = store.summary(runId);
  const tasks = store.tasks(runId);
  if (values.raw) return JSON.stringify({ run: summary, tasks }, null, 2);
  return values.detailed ? formatRunDetails(summary, tasks) : formatRunTable(summary, tasks);
}

async function benchResults(values: ResultsValues): Promise<void> {
  const store = new BenchStore(resolve(values.checkpointDir));
  try {
    if (values.listRuns || !values.runId) {
      console.log(values.raw ? JSON.stringify(store.listRuns(), null, 2) : formatRunList(store.listRuns()));
      return;
    }
    const runId = values.runId;
    for (;;) {
      await syncFromRedis(store, runId, values);
      const text = renderResults(store, runId, values);
      if (values.watch && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
      console.log(text);
      if (!values.watch || store.summary(runId).status !== 'running') return;
      await sleep(values.intervalMs);
    }
  } finally {
    store.close();
  }
}

async function benchReport(values: { runId: string; checkpointDir: string; output?: string }): Promise<void> {
  const checkpointDir = resolve(values.checkpointDir);
  const store = new BenchStore(checkpointDir);
  try {
    const html = renderBenchReport(store.summary(values.runId), store.tasks(values.runId));
    const output = values.output ?? join(checkpointDir, values.runId, 'report.html');
    writeFileSync(output, html, 'utf8');
    console.log(`report: ${output}`);
  } finally {
    store.close();
  }
}

const checkpointOption = () =>
  new Option('--checkpoint-dir <dir>', 'run state (bench.sqlite) and per-task checkpoints').default(
    DEFAULT_CHECKPOINT_DIR,
  );

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmark optimizers across datasets and models');
  bench
    .command('run')
    .description('run a benchmark from flags or a manifest (--config), or resume / retry one')
    .option('--config <manifest>', 'benchmark manifest (JSON; schema: schemas/manifest.schema.json)')
    .option('--datasets <specs...>', 'datasets: gsm8k, bbh:<task>, jsonl:PATH (space or comma separated)')
    .option('--optimizers <names...>', OPTIMIZER_NAMES.join(', '))
    .option('--models <models...>', 'evaluated models (default native:default)')
    .option('--optimizer-model <model>', 'model writing prompts (default: the evaluated model)')
    .option('--test-mode', '5 examples per split')
    .option('--seed <n>', 'seed of splits and optimizers (default 42)', seedFlag('--seed'))
    .option(
      '--max-concurrent <n>',
      'tasks at once (local engine)',
      integerOption('--max-concurrent', { min: 1, max: 1024 }),
      1,
    )
    .addOption(checkpointOption())
    .option('--resume-run-id <id>', 'continue an interrupted run (finished tasks are kept)')
    .option('--retry-failed-run-id <id>', 'run the failed tasks of a run again')
    .addOption(new Option('--engine <engine>', 'where tasks run').choices(['local', 'bullmq']).default('local'))
    .option('--redis <url>', 'Redis server of the bullmq engine (redis://host:port)')
    .option('--queue <name>', 'BullMQ queue name')
    .option('--detach', 'bullmq: enqueue and exit; collect with bench results --redis')
    .option('--max-attempts <n>', 'attempts per task before it fails', integerOption('--max-attempts', { min: 1 }), 3)
    .option('--backoff-ms <n>', 'first retry delay, doubled each attempt', integerOption('--backoff-ms'), 1000)
    .option('--quiet', 'no progress lines on stderr')
    .action(benchRun);
  bench
    .command('results')
    .description('list runs, or show one run: status, scores, tokens, cost and time per task')
    .option('--list-runs', 'list every run in the checkpoint folder')
    .option('--run-id <id>', 'the run to show')
    .option('--detailed', 'attempts, errors, final metrics and best prompts')
    .option('--raw', 'JSON')
    .option('--watch', 'refresh until the run is finished')
    .option('--interval-ms <n>', 'refresh interval of --watch', integerOption('--interval-ms'), 2000)
    .addOption(checkpointOption())
    .option('--redis <url>', 'collect finished bullmq jobs first')
    .option('--queue <name>', 'BullMQ queue name')
    .action(benchResults);
  bench
    .command('report')
    .description('write an HTML comparison of a run')
    .requiredOption('--run-id <id>', 'the run to report')
    .option('--output <file>', 'HTML file (default <checkpoint-dir>/<run>/report.html)')
    .addOption(checkpointOption())
    .action(benchReport);
}
