/**
 * `opt-native worker`: a BullMQ worker that runs benchmark tasks. Locks are renewed while a task runs; when a worker
 * dies its lock expires after `lockDurationMs` and another worker takes the job over (up to `maxStalledCount`
 * times), resuming from the task's recorded steps in the checkpoint folder.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { LanguageModelResolver } from '../llm/resolver.js';
import { BENCH_QUEUE, redisConnection, type BenchJobData } from './bullmq-engine.js';
import { keepFailedAttemptCopy, executeBenchTask } from './execute.js';
import { errorText, isRetryable } from './retry.js';
import type { BenchTaskResult } from './types.js';

export interface BenchWorkerOptions {
  readonly redisUrl: string;
  readonly queueName?: string;
  readonly concurrency?: number;
  /** Overrides the checkpoint folder a job names (when this machine mounts it elsewhere). */
  readonly checkpointDir?: string;
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  readonly maxStalledCount?: number;
  /** One line per job event (JSON), for logs and tests. */
  readonly log?: (event: Record<string, unknown>) => void;
}

export function startBenchWorker(options: BenchWorkerOptions): Worker<BenchJobData, BenchTaskResult> {
  const resolver = new LanguageModelResolver();
  const name = `${hostname()}:${process.pid}`;
  const log = options.log ?? (() => undefined);
  const processor = async (job: Job<BenchJobData, BenchTaskResult>): Promise<BenchTaskResult> => {
    const { runId, spec } = job.data;
    const checkpointDir = options.checkpointDir ?? job.data.checkpointDir;
    log({ event: 'start', jobId: job.id, taskId: spec.taskId, attempt: job.attemptsMade + 1, worker: name });
    try {
      const result = await executeBenchTask(spec, {
        checkpointDir,
        runId,
        resolver,
      });
      log({ event: 'done', jobId: job.id, taskId: spec.taskId, worker: name });
      return result;
    } catch (error) {
      keepFailedAttemptCopy(checkpointDir, runId, spec.taskId);
      log({ event: 'error', jobId: job.id, taskId: spec.taskId, worker: name, error: errorText(error) });
      // Permanent errors skip the remaining attempts.
      throw isRetryable(error) ? error : new UnrecoverableError(errorText(error));
    }
  };
  const worker = new Worker<BenchJobData, BenchTaskResult>(options.queueName ?? BENCH_QUEUE, processor, {
    connection: redisConnection(options.redisUrl),
    concurrency: options.concurrency ?? 1,
    name,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 3,
  });
  worker.on('closed', () => void resolver.disposeAll());
  return worker;
}
