/**
 * One way to run an optimization job, shared by `opro`, `balanced` and the benchmark runner: open the run (folder,
 * event log, response cache), resolve the models behind the cache, run the optimizer, score the best prompt on the
 * held-out split and write the outputs, then close everything whatever happened. Each caller supplies only what is
 * its own (which optimizer, which held-out evaluation, which files).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LanguageModel } from '../../llm/types.js';
import { ResponseCache } from '../../run/cache.js';
import { CACHE_FILE, RunDirectory } from '../../run/run-directory.js';

/**
 * How the run folder is opened: `create` a new run (refuses a folder that holds one), `resume` one, `open-or-create`
 * either (benchmark tasks), or `cache-only` (no event log: the folder keeps only the response cache).
 */
export type JobFolderMode = 'create' | 'resume' | 'open-or-create' | 'cache-only';

export interface JobModels {
  /** The model being prompted. */
  readonly model: LanguageModel;
  /** The model writing prompts. */
  readonly optimizerModel: LanguageModel;
}

/** What the job's steps work with once the run is open. */
export interface JobContext extends JobModels {
  readonly dir: string;
  /** Absent in `cache-only` mode. */
  readonly runDir: RunDirectory | undefined;
  readonly cache: ResponseCache | undefined;
}

export interface OptimizationJob<TResult, THeldout, TOutcome> {
  readonly dir: string;
  readonly folder: JobFolderMode;
  /** Keep model responses in `<dir>/cache.sqlite` (default true). A cache that cannot open is skipped with a warning. */
  readonly cache?: boolean;
  /** Damaged event-log lines and a skipped cache are reported here (default: stderr). */
  readonly onWarning?: (message: string) => void;
  /** Runs right after the folder is open, before any model: records or restores the run's options. */
  readonly onOpen?: (runDir: RunDirectory | undefined) => void | Promise<void>;
  /** The models, behind the run's cache. */
  readonly models: (cache: ResponseCache | undefined, runDir: RunDirectory | undefined) => Promise<JobModels>;
  readonly optimize: (context: JobContext) => Promise<TResult>;
  /** Scores the best prompt on the held-out split; skipped for an aborted run. */
  readonly heldout?: (context: JobContext, result: TResult) => Promise<THeldout | undefined>;
  /** Writes the outputs and says what the caller gets back. */
  readonly finish: (
    context: JobContext,
    result: TResult,
    heldout: THeldout | undefined,
  ) => TOutcome | Promise<TOutcome>;
  /** Releases what the job's own steps opened (models, audio evaluators); runs last, after the run is closed. */
  readonly release?: () => Promise<void>;
}

const stderrWarning = (message: string) => process.stderr.write(`warning: ${message}\n`);

function openFolder(dir: string, mode: JobFolderMode): RunDirectory | undefined {
  if (mode === 'create') return RunDirectory.create(dir);
  if (mode === 'resume') return RunDirectory.open(dir);
  if (mode === 'open-or-create') return RunDirectory.openOrCreate(dir);
  return undefined;
}

function openCache(path: string, warn: (message: string) => void): ResponseCache | undefined {
  try {
    return new ResponseCache(path);
  } catch (error) {
    warn(`response cache disabled (${(error as Error).message})`);
    return undefined;
  }
}

/** Whether an optimizer's result (the shared contract's, or balanced's run record) says it was aborted. */
function stoppedByAbort(result: unknown): boolean {
  return typeof result === 'object' && result !== null && (result as { stopReason?: unknown }).stopReason === 'aborted';
}

/** Runs one optimization job; see the file comment. */
export async function runOptimizationJob<TResult, THeldout, TOutcome>(
  job: OptimizationJob<TResult, THeldout, TOutcome>,
): Promise<TOutcome> {
  const warn = job.onWarning ?? stderrWarning;
  let runDir: RunDirectory | undefined;
  let cache: ResponseCache | undefined;
  try {
    runDir = openFolder(job.dir, job.folder);
    for (const warning of runDir?.warnings ?? []) warn(warning);
    await job.onOpen?.(runDir);
    if (job.cache !== false) cache = openCache(runDir?.cachePath ?? cachePathIn(job.dir), warn);
    const models = await job.models(cache, runDir);
    const context: JobContext = { ...models, dir: job.dir, runDir, cache };
    const result = await job.optimize(context);
    const heldout = stoppedByAbort(result) ? undefined : await job.heldout?.(context, result);
    return await job.finish(context, result, heldout);
  } finally {
    runDir?.close();
    cache?.close();
    await job.release?.();
  }
}

/** Without an event log the folder may not exist yet: it is made for the cache. */
function cachePathIn(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return join(dir, CACHE_FILE);
}
