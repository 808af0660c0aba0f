/**
 * The BullMQ engine against a real Redis server (Debian's redis-server on 127.0.0.1, started here on a free port
 * without persistence): two `opt-native worker` processes take the tasks of a `bench run --engine bullmq`; one is
 * killed with SIGKILL in the middle of a task, its job is handed to the other worker once the lock expires, and the
 * run completes with every task done exactly once, the interrupted one resumed from its recorded steps. A task that
 * keeps failing uses up its attempts (with backoff) and runs again only with --retry-failed-run-id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, runIdOf, spawnCli, storedTasks, writeBenchScript } from './bench-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-bullmq-'));
const children: ChildProcess[] = [];
let redisUrl = '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Resolves once a line of the child's stdout satisfies `test`. */
function waitForLine(child: ChildProcess, test: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += String(chunk);
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      const found = lines.find(test);
      if (found !== undefined) {
        child.stdout?.off('data', onData);
        resolve(found);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before the expected line`)));
  });
}

interface WorkerEvent {
  event: string;
  taskId?: string;
  worker?: string;
}

function startWorker(queue: string): { child: ChildProcess; events: WorkerEvent[]; ready: Promise<string> } {
  const child = spawnCli([
    'worker',
    '--redis',
    redisUrl,
    '--queue',
    queue,
    // A live worker starved of CPU for longer than its lock loses its job to the other (BullMQ's stalled check),
    // so the lock leaves room for a busy CI machine; the killed worker's job still moves within seconds.
    '--lock-duration-ms',
    '6000',
    '--stalled-interval-ms',
    '1000',
  ]);
  children.push(child);
  const events: WorkerEvent[] = [];
  let buffer = '';
  child.stdout?.on('data', (chunk) => {
    buffer += String(chunk);
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line) as WorkerEvent);
  });
  return { child, events, ready: waitForLine(child, (line) => line.includes('"event":"ready"')) };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

beforeAll(async () => {
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(redis);
  await waitForLine(redis, (line) => line.includes('Ready to accept connections'));
  redisUrl = `redis://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const child of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exitOf(child);
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Child processes on a busy 2-core machine: generous, since nothing here is a timing assertion. */
const SLOW_TEST_MS = 180_000;

describe('bullmq engine', { timeout: SLOW_TEST_MS }, () => {
  it('completes every task exactly once when a worker is killed mid-task', async () => {
    const queue = 'bench-kill';
    const model = writeBenchScript(join(dir, 'model.json'), { delayMs: 40 });
    const checkpointDir = join(dir, 'ck-kill');
    const victim = startWorker(queue);
    const survivor = startWorker(queue);
    await Promise.all([victim.ready, survivor.ready]);

    const coordinator = spawnCli([
      'bench',
      'run',
      '--engine',
      'bullmq',
      '--redis',
      redisUrl,
      '--queue',
      queue,
      '--datasets',
      'bbh:navigate',
      '--optimizers',
      'meta_prompt',
      'few_shot',
      'evolutionary',
      'hierarchical_reflective',
      '--models',
      model,
      '--test-mode',
      '--checkpoint-dir',
      checkpointDir,
      '--backoff-ms',
      '100',
    ]);
    children.push(coordinator);
    let stderr = '';
    coordinator.stderr?.on('data', (chunk) => (stderr += String(chunk)));

    // Kill the victim well inside its first task: once it has recorded a few steps.
    const started = await waitForLine(victim.child, (line) => line.includes('"event":"start"'));
    const killedTask = (JSON.parse(started) as WorkerEvent).taskId;
    const log = () => join(checkpointDir, runIdOf(stderr), killedTask!, 'events.jsonl');
    const recordedSteps = () =>
      /^run /m.test(stderr) && existsSync(log()) ? readFileSync(log(), 'utf8').split('"type":"step"').length - 1 : 0;
    while (recordedSteps() < 3) await sleep(20);
    victim.child.kill('SIGKILL');
    await exitOf(victim.child);
    expect(victim.events.some((event) => event.event === 'done' && event.taskId === killedTask)).toBe(false);

    const diagnosis = () =>
      `coordinator stderr:\n${stderr}\nvictim: ${JSON.stringify(victim.events)}\nsurvivor: ${JSON.stringify(survivor.events)}`;
    expect(await exitOf(coordinator), diagnosis()).toBe(0);
    const runId = runIdOf(stderr);
    const tasks = storedTasks(checkpointDir, runId);
    expect(tasks, diagnosis()).toHaveLength(4);
    expect(tasks.every((task) => task.status === 'succeeded')).toBe(true);

    const done = [...victim.events, ...survivor.events].filter((event) => event.event === 'done');
    expect(done.map((event) => event.taskId).sort()).toEqual(tasks.map((task) => task.task_id).sort());
    expect(survivor.events.some((event) => event.event === 'done' && event.taskId === killedTask)).toBe(true);
    // The survivor resumed the killed task from its checkpoint: two starts, every recorded step once.
    const events = readFileSync(join(checkpointDir, runId, killedTask!, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; key?: string });
    expect(events.filter((event) => event.type === 'bench_task_started')).toHaveLength(2);
    const keys = events.filter((event) => event.type === 'step').map((event) => event.key);
    expect(new Set(keys).size).toBe(keys.length);
    survivor.child.kill('SIGTERM');
    await exitOf(survivor.child);
  });

  it('fails a task after its attempts and reruns it only with --retry-failed-run-id', async () => {
    const queue = 'bench-retry';
    const scriptPath = join(dir, 'flaky.json');
    const model = writeBenchScript(scriptPath, { extraRules: [{ contains: 'True', error: 'backend down' }] });
    const checkpointDir = join(dir, 'ck-retry');
    const worker = startWorker(queue);
    await worker.ready;
    const common = ['--redis', redisUrl, '--queue', queue, '--checkpoint-dir', checkpointDir];
    const first = await cli([
      'bench',
      'run',
      '--engine',
      'bullmq',
      ...common,
      '--datasets',
      'bbh:navigate',
      'bbh:boolean_expressions',
      '--optimizers',
      'meta_prompt',
      '--models',
      model,
      '--test-mode',
      '--max-attempts',
      '2',
      '--backoff-ms',
      '50',
    ]);
    expect(first.code).toBe(1);
    const runId = runIdOf(first.stderr);
    const failed = storedTasks(checkpointDir, runId);
    expect(failed.map((task) => [task.status, task.attempts])).toEqual([
      ['succeeded', 1],
      ['failed', 2],
    ]);
    expect(worker.events.filter((event) => event.event === 'error')).toHaveLength(2);

    // The fixed model is deployed: workers load a model once, so the old worker goes and a new one comes.
    writeBenchScript(scriptPath);
    worker.child.kill('SIGTERM');
    await exitOf(worker.child);
    const fixed = startWorker(queue);
    await fixed.ready;
    const retried = await cli(['bench', 'run', '--retry-failed-run-id', runId, ...common]);
    expect(retried.code).toBe(0);
    const after = storedTasks(checkpointDir, runId);
    expect(after.map((task) => task.status)).toEqual(['succeeded', 'succeeded']);
    expect(after[0]?.finished_at).toBe(failed[0]?.finished_at);
    expect(worker.events.filter((event) => event.event === 'done').map((event) => event.taskId)).toEqual([
      failed[0]?.task_id,
    ]);
    expect(fixed.events.filter((event) => event.event === 'done').map((event) => event.taskId)).toEqual([
      failed[1]?.task_id,
    ]);
  });

  it('--detach only enqueues; bench results --redis --watch collects until the run is done', async () => {
    const queue = 'bench-detach';
    const model = writeBenchScript(join(dir, 'detach.json'));
    const checkpointDir = join(dir, 'ck-detach');
    const worker = startWorker(queue);
    await worker.ready;
    const common = ['--redis', redisUrl, '--queue', queue, '--checkpoint-dir', checkpointDir];
    const enqueued = await cli([
      'bench',
      'run',
      '--engine',
      'bullmq',
      ...common,
      '--datasets',
      'bbh:navigate',
      '--optimizers',
      'meta_prompt',
      'few_shot',
      '--models',
      model,
      '--test-mode',
      '--detach',
    ]);
    expect(enqueued.code).toBe(0);
    expect(enqueued.stdout).toContain('enqueued; follow with');
    const runId = runIdOf(enqueued.stderr);
    const watched = await cli(['bench', 'results', '--run-id', runId, '--watch', '--interval-ms', '200', ...common]);
    expect(watched.code).toBe(0);
    expect(watched.stdout.trimEnd().split('\n').slice(-5)[0]).toBe(
      `run ${runId} (bullmq): completed, 2/2 done, 0 failed`,
    );
    expect(storedTasks(checkpointDir, runId).map((task) => task.status)).toEqual(['succeeded', 'succeeded']);
  });
});
