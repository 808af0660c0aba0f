/** Starting, resuming and retrying benchmark runs on either engine: what `bench run` does, callable from code. */
import { resolve } from 'node:path';
import { OptNativeError } from '../errors.js';
import { runBullmqEngine } from './bullmq-engine.js';
import { runLocalEngine, type EngineEvents } from './local-engine.js';
import { BenchStore, newRunId, type Engine, type RunSummary } from './store.js';
import type { BenchTaskSpec } from './types.js';

export const DEFAULT_CHECKPOINT_DIR = '.opt-native/bench';

export interface BenchRunOptions extends EngineEvents {
  readonly checkpointDir?: string;
  readonly engine?: Engine;
  /** A new run: the manifest (stored with the run) and its expanded tasks. */
  readonly manifest?: unknown;
  readonly tasks?: readonly BenchTaskSpec[];
  readonly runId?: string;
  /** Continue an interrupted run: finished tasks are kept, failed ones stay failed. */
  readonly resumeRunId?: string;
  /** Run the failed tasks of a run again (and any left open). */
  readonly retryFailedRunId?: string;
  readonly maxConcurrent?: number;
  readonly maxAttempts?: number;
  readonly backoffMs?: number;
  readonly redisUrl?: string;
  readonly queueName?: string;
  readonly detach?: boolean;
  readonly signal?: AbortSignal;
  /** Called once the run id is known, before any task starts. */
  readonly onRunId?: (runId: string) => void;
}

function chooseRun(store: BenchStore, options: BenchRunOptions, engine: Engine): string {
  if (options.resumeRunId && options.retryFailedRunId) {
    throw new OptNativeError('E_BAD_INPUT', '--resume-run-id and --retry-failed-run-id cannot be combined');
  }
  const existing = options.resumeRunId ?? options.retryFailedRunId;
  if (existing) {
    store.run(existing);
    if (options.retryFailedRunId) store.resetFailed(existing);
    return existing;
  }
  if (!options.tasks || options.tasks.length === 0) {
    throw new OptNativeError('E_BAD_INPUT', 'nothing to run: give --config, or --datasets and --optimizers');
  }
  const runId = options.runId ?? newRunId();
  store.createRun(runId, engine, options.manifest ?? null, options.tasks);
  return runId;
}

/** Runs (or resumes) a benchmark and returns its summary. */
export async function runBenchmark(options: BenchRunOptions): Promise<RunSummary> {
  const checkpointDir = resolve(options.checkpointDir ?? DEFAULT_CHECKPOINT_DIR);
  const store = new BenchStore(checkpointDir);
  try {
    const requested = options.engine ?? 'local';
    const existing = options.resumeRunId ?? options.retryFailedRunId;
    const engine = existing ? store.run(existing).engine : requested;
    const runId = chooseRun(store, options, engine);
    options.onRunId?.(runId);
    const common = {
      ...options,
      store,
      runId,
      checkpointDir,
      maxAttempts: options.maxAttempts ?? 3,
      backoffMs: options.backoffMs ?? 1000,
    };
    if (engine === 'bullmq') {
      if (!options.redisUrl) throw new OptNativeError('E_BAD_INPUT', 'the bullmq engine needs --redis URL');
      await runBullmqEngine({ ...common, redisUrl: options.redisUrl });
    } else {
      await runLocalEngine({ ...common, maxConcurrent: options.maxConcurrent ?? 1 });
    }
    return store.summary(runId);
  } finally {
    store.close();
  }
}
