/**
 * The embedded engine: a pool of `maxConcurrent` tasks in this process, state in the run's SQLite store. A task
 * that fails is retried with exponential backoff up to `maxAttempts` (permanent errors are not); a run killed
 * mid-way resumes with its finished tasks kept and its interrupted ones continued from their recorded steps.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { LanguageModelResolver } from '../llm/resolver.js';
import { keepFailedAttemptCopy, executeBenchTask } from './execute.js';
import { backoffDelayMs, errorText, isRetryable } from './retry.js';
import type { BenchStore, TaskRecord } from './store.js';
import type { BenchTaskResult } from './types.js';

export interface EngineEvents {
  onTaskStart?(task: TaskRecord, attempt: number): void;
  onTaskDone?(task: TaskRecord, result: BenchTaskResult): void;
  onTaskFailed?(task: TaskRecord, error: string, willRetry: boolean): void;
}

export interface LocalEngineOptions extends EngineEvents {
  readonly store: BenchStore;
  readonly runId: string;
  readonly checkpointDir: string;
  readonly maxConcurrent: number;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly signal?: AbortSignal;
}

async function runTask(task: TaskRecord, options: LocalEngineOptions, resolver: LanguageModelResolver): Promise<void> {
  const { store, runId } = options;
  // A task still `running` was interrupted (killed or aborted), not failed: its attempt continues, uncounted again.
  const first = task.status === 'running' ? Math.max(1, task.attempts) : task.attempts + 1;
  for (let attempt = first; ; attempt += 1) {
    if (options.signal?.aborted) return;
    store.markRunning(runId, task.taskId, `local:${process.pid}`, attempt);
    options.onTaskStart?.(task, attempt);
    try {
      const result = await executeBenchTask(task.spec, {
        checkpointDir: options.checkpointDir,
        runId,
        signal: options.signal,
        resolver,
      });
      store.markSucceeded(runId, task.taskId, result);
      options.onTaskDone?.(task, result);
      return;
    } catch (error) {
      // An abort leaves the task running, whatever error it surfaced as: a resume continues it.
      if (options.signal?.aborted) return;
      const willRetry = isRetryable(error) && attempt < options.maxAttempts;
      keepFailedAttemptCopy(options.checkpointDir, runId, task.taskId);
      options.onTaskFailed?.(task, errorText(error), willRetry);
      if (!willRetry) {
        store.markFailed(runId, task.taskId, errorText(error));
        return;
      }
      await sleep(backoffDelayMs(options.backoffMs, attempt), undefined, { signal: options.signal }).catch(() => {});
    }
  }
}

/** Runs the run's pending and interrupted tasks; failed ones stay failed unless reset first (retry-failed). */
export async function runLocalEngine(options: LocalEngineOptions): Promise<void> {
  const open = options.store
    .tasks(options.runId)
    .filter((task) => task.status === 'pending' || task.status === 'running');
  const limit = pLimit(Math.max(1, options.maxConcurrent));
  const resolver = new LanguageModelResolver();
  try {
    await Promise.all(open.map((task) => limit(() => runTask(task, options, resolver))));
  } finally {
    await resolver.disposeAll();
  }
}
