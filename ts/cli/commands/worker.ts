// `opt-native worker`: runs benchmark tasks from a BullMQ queue until stopped (SIGTERM / SIGINT).
import type { Command } from 'commander';
import { startBenchWorker } from '../../bench/worker.js';
import { integerOption } from '../task-options.js';

interface WorkerValues {
  redis: string;
  queue?: string;
  concurrency: number;
  checkpointDir?: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

async function runWorker(values: WorkerValues): Promise<void> {
  const worker = startBenchWorker({
    redisUrl: values.redis,
    queueName: values.queue,
    concurrency: values.concurrency,
    checkpointDir: values.checkpointDir,
    lockDurationMs: values.lockDurationMs,
    stalledIntervalMs: values.stalledIntervalMs,
    maxStalledCount: values.maxStalledCount,
    log: (event) => console.log(JSON.stringify(event)),
  });
  await worker.waitUntilReady();
  console.log(JSON.stringify({ event: 'ready', pid: process.pid }));
  await new Promise<void>((resolve) => {
    const stop = () => void worker.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run benchmark tasks from a BullMQ queue (start any number, on any machine)')
    .requiredOption('--redis <url>', 'Redis server (redis://host:port)')
    .option('--queue <name>', 'BullMQ queue name')
    .option('--concurrency <n>', 'tasks at once', integerOption('--concurrency'), 1)
    .option('--checkpoint-dir <dir>', 'checkpoint folder (default: the one each job names)')
    .option(
      '--lock-duration-ms <n>',
      'job lock; a dead worker loses its job after this',
      integerOption('--lock-duration-ms'),
      30_000,
    )
    .option(
      '--stalled-interval-ms <n>',
      'how often stalled jobs are looked for',
      integerOption('--stalled-interval-ms'),
      30_000,
    )
    .option('--max-stalled-count <n>', 'worker deaths a job survives', integerOption('--max-stalled-count'), 3)
    .action(runWorker);
}
