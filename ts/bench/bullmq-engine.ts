/**
 * The distributed engine: `bench run --engine bullmq` enqueues one BullMQ job per task on a Redis server and follows
 * the jobs into the local SQLite store; `opt-native worker` processes (any number, on any machine that reaches the
 * Redis server and the checkpoint folder) run them. Results live in Redis as job return values until collected;
 * a worker killed mid-task loses its lock and BullMQ's stalled-job check hands the job to another worker, which
 * resumes it from the task's recorded steps. Failed attempts are retried with exponential backoff; a task that
 * used up its attempts stays failed until `--retry-failed-run-id`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, type Job, type RedisOptions } from 'bullmq';
import { OptNativeError } from '../errors.js';
import type { EngineEvents } from './local-engine.js';
import type { BenchStore, TaskRecord } from './store.js';
import type { BenchTaskResult, BenchTaskSpec } from './types.js';

export const BENCH_QUEUE = 'opt-native-bench';

/** What a job carries: everything a worker needs, with the coordinator's checkpoint folder. */
export interface BenchJobData {
  readonly runId: string;
  readonly checkpointDir: string;
  readonly spec: BenchTaskSpec;
}

/** `redis://[:password@]host:port[/db]` as BullMQ connection options (workers need no per-request retry cap). */
export function redisConnection(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OptNativeError('E_BAD_INPUT', `--redis expects a URL such as redis://127.0.0.1:6379, got "${url}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new OptNativeError('E_BAD_INPUT', `--redis expects a redis:// URL, got "${url}"`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  return {
    host: parsed.hostname,
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

export function jobIdOf(runId: string, taskId: string): string {
  return `${runId}--${taskId}`;
}

export interface BullmqEngineOptions extends EngineEvents {
  readonly store: BenchStore;
  readonly runId: string;
  readonly checkpointDir: string;
  readonly redisUrl: string;
  readonly queueName?: string;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  /** Only enqueue; `bench results --redis` collects later. */
  readonly detach?: boolean;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

export function openQueue(redisUrl: string, queueName = BENCH_QUEUE): Queue<BenchJobData, BenchTaskResult> {
  return new Queue<BenchJobData, BenchTaskResult>(queueName, { connection: redisConnection(redisUrl) });
}

/**
 * Enqueues the run's open tasks. Job ids are `<run>--<task>`, so enqueueing again (a resumed coordinator) adds
 * nothing twice; a task put back to pending after failing gets its old job removed first.
 */
async function enqueue(queue: Queue<BenchJobData, BenchTaskResult>, options: BullmqEngineOptions): Promise<void> {
  const open = options.store
    .tasks(options.runId)
    .filter((task) => task.status === 'pending' || task.status === 'running');
  for (const task of open) {
    const existing = await queue.getJob(jobIdOf(options.runId, task.taskId));
    if (existing && (await existing.getState()) === 'failed') await existing.remove();
  }
  await queue.addBulk(
    open.map((task) => ({
      name: 'bench-task',
      data: { runId: options.runId, checkpointDir: options.checkpointDir, spec: task.spec },
      opts: {
        jobId: jobIdOf(options.runId, task.taskId),
        attempts: options.maxAttempts,
        backoff: { type: 'exponential', delay: options.backoffMs },
        removeOnComplete: false,
        removeOnFail: false,
      },
    })),
  );
}

/** Copies one job's state into the store; true once the task is final (succeeded or failed). */
async function syncTask(
  queue: Queue<BenchJobData, BenchTaskResult>,
  task: TaskRecord,
  options: Pick<BullmqEngineOptions, 'store' | 'runId'> & EngineEvents,
): Promise<boolean> {
  const job: Job<BenchJobData, BenchTaskResult> | undefined = await queue.getJob(jobIdOf(options.runId, task.taskId));
  if (!job) return false;
  const state = await job.getState();
  if (state === 'completed') {
    options.store.markSucceeded(options.runId, task.taskId, job.returnvalue, job.attemptsMade);
    options.onTaskDone?.(task, job.returnvalue);
    return true;
  }
  if (state === 'failed') {
    options.store.markFailed(options.runId, task.taskId, job.failedReason, job.attemptsMade);
    options.onTaskFailed?.(task, job.failedReason, false);
    return true;
  }
  if (state === 'active' && task.status !== 'running') {
    options.store.markRunning(options.runId, task.taskId, job.processedBy ?? 'bullmq', job.attemptsMade + 1);
    options.onTaskStart?.(task, job.attemptsMade + 1);
  }
  return false;
}

/** One pass over the run's open tasks; returns how many are still open. */
export async function syncRun(
  queue: Queue<BenchJobData, BenchTaskResult>,
  options: Pick<BullmqEngineOptions, 'store' | 'runId'> & EngineEvents,
): Promise<number> {
  let open = 0;
  for (const task of options.store.tasks(options.runId)) {
    if (task.status === 'succeeded' || task.status === 'failed') continue;
    if (!(await syncTask(queue, task, options))) open += 1;
  }
  return open;
}

/** Enqueues and (unless detached) follows the run until every task is final. */
export async function runBullmqEngine(options: BullmqEngineOptions): Promise<void> {
  const queue = openQueue(options.redisUrl, options.queueName);
  try {
    await enqueue(queue, options);
    if (options.detach) return;
    while ((await syncRun(queue, options)) > 0) {
      if (options.signal?.aborted) return;
      await sleep(options.pollMs ?? 500);
    }
  } finally {
    await queue.close();
  }
}
