/**
 * Run state of the benchmark in one SQLite file (`<checkpoint-dir>/bench.sqlite`, WAL): a run, its task specs,
 * each task's status, attempts, result or error. Every change is committed at once, so a killed runner loses
 * nothing it finished; a resumed run reads which tasks are left.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { OptNativeError } from '../errors.js';
import type { BenchTaskResult, BenchTaskSpec, TaskStatus } from './types.js';

export const BENCH_DB_FILE = 'bench.sqlite';

export type Engine = 'local' | 'bullmq';

export interface RunRecord {
  readonly runId: string;
  readonly createdAt: number;
  readonly engine: Engine;
  readonly manifest: unknown;
}

export interface TaskRecord {
  readonly runId: string;
  readonly taskId: string;
  readonly position: number;
  readonly spec: BenchTaskSpec;
  readonly status: TaskStatus;
  readonly attempts: number;
  readonly result: BenchTaskResult | null;
  readonly error: string | null;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly worker: string | null;
}

export interface RunSummary extends RunRecord {
  readonly total: number;
  readonly counts: Readonly<Record<TaskStatus, number>>;
  /** `completed` when every task succeeded, `failed` when all finished with failures, `running` otherwise. */
  readonly status: 'running' | 'completed' | 'failed';
}

interface TaskRow {
  run_id: string;
  task_id: string;
  position: number;
  spec_json: string;
  status: TaskStatus;
  attempts: number;
  result_json: string | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
  worker: string | null;
}

interface RunRow {
  run_id: string;
  created_at: number;
  engine: Engine;
  manifest_json: string;
}

function taskOf(row: TaskRow): TaskRecord {
  return {
    runId: row.run_id,
    taskId: row.task_id,
    position: row.position,
    spec: JSON.parse(row.spec_json) as BenchTaskSpec,
    status: row.status,
    attempts: row.attempts,
    result: row.result_json === null ? null : (JSON.parse(row.result_json) as BenchTaskResult),
    error: row.error,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    worker: row.worker,
  };
}

function runOf(row: RunRow): RunRecord {
  return { runId: row.run_id, createdAt: row.created_at, engine: row.engine, manifest: JSON.parse(row.manifest_json) };
}

export class BenchStore {
  readonly path: string;
  private readonly db: Database.Database;

  constructor(checkpointDir: string) {
    mkdirSync(checkpointDir, { recursive: true });
    this.path = join(checkpointDir, BENCH_DB_FILE);
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, engine TEXT NOT NULL, manifest_json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS tasks (
        run_id TEXT NOT NULL, task_id TEXT NOT NULL, position INTEGER NOT NULL, spec_json TEXT NOT NULL,
        status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, result_json TEXT, error TEXT,
        started_at INTEGER, finished_at INTEGER, worker TEXT, PRIMARY KEY (run_id, task_id));`);
  }

  createRun(runId: string, engine: Engine, manifest: unknown, specs: readonly BenchTaskSpec[]): void {
    const insertRun = this.db.prepare(
      'INSERT INTO runs (run_id, created_at, engine, manifest_json) VALUES (?, ?, ?, ?)',
    );
    const insertTask = this.db.prepare(
      "INSERT INTO tasks (run_id, task_id, position, spec_json, status) VALUES (?, ?, ?, ?, 'pending')",
    );
    this.db.transaction(() => {
      insertRun.run(runId, Date.now(), engine, JSON.stringify(manifest));
      specs.forEach((spec, position) => insertTask.run(runId, spec.taskId, position, JSON.stringify(spec)));
    })();
  }

  run(runId: string): RunRecord {
    const row = this.db.prepare('SELECT * FROM runs WHERE run_id = ?').get(runId) as RunRow | undefined;
    if (!row) throw new OptNativeError('E_BAD_INPUT', `no benchmark run "${runId}" in ${this.path}`);
    return runOf(row);
  }

  tasks(runId: string): TaskRecord[] {
    const rows = this.db.prepare('SELECT * FROM tasks WHERE run_id = ? ORDER BY position').all(runId) as TaskRow[];
    return rows.map(taskOf);
  }

  summary(runId: string): RunSummary {
    const run = this.run(runId);
    const counts: Record<TaskStatus, number> = { pending: 0, running: 0, succeeded: 0, failed: 0 };
    const rows = this.db
      .prepare('SELECT status, COUNT(*) AS n FROM tasks WHERE run_id = ? GROUP BY status')
      .all(runId) as { status: TaskStatus; n: number }[];
    for (const { status, n } of rows) counts[status] = n;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const open = counts.pending + counts.running;
    const status = open > 0 ? 'running' : counts.failed > 0 ? 'failed' : 'completed';
    return { ...run, total, counts, status };
  }

  listRuns(): RunSummary[] {
    const ids = this.db.prepare('SELECT run_id FROM runs ORDER BY created_at, run_id').all() as { run_id: string }[];
    return ids.map(({ run_id }) => this.summary(run_id));
  }

  markRunning(runId: string, taskId: string, worker: string, attempts?: number): void {
    this.db
      .prepare(
        `UPDATE tasks SET status = 'running', started_at = COALESCE(started_at, ?), worker = ?,
         attempts = COALESCE(?, attempts + 1) WHERE run_id = ? AND task_id = ? AND status != 'succeeded'`,
      )
      .run(Date.now(), worker, attempts ?? null, runId, taskId);
  }

  markSucceeded(runId: string, taskId: string, result: BenchTaskResult, attempts?: number): void {
    this.db
      .prepare(
        `UPDATE tasks SET status = 'succeeded', result_json = ?, error = NULL, finished_at = ?,
         attempts = COALESCE(?, attempts) WHERE run_id = ? AND task_id = ?`,
      )
      .run(JSON.stringify(result), Date.now(), attempts ?? null, runId, taskId);
  }

  markFailed(runId: string, taskId: string, error: string, attempts?: number): void {
    this.db
      .prepare(
        `UPDATE tasks SET status = 'failed', error = ?, finished_at = ?, attempts = COALESCE(?, attempts)
         WHERE run_id = ? AND task_id = ?`,
      )
      .run(error, Date.now(), attempts ?? null, runId, taskId);
  }

  /** Puts failed tasks back to pending (`--retry-failed-run-id`); returns how many. */
  resetFailed(runId: string): number {
    return this.db
      .prepare(
        "UPDATE tasks SET status = 'pending', error = NULL, finished_at = NULL, attempts = 0 WHERE run_id = ? AND status = 'failed'",
      )
      .run(runId).changes;
  }

  close(): void {
    this.db.close();
  }
}

/** `run-20260101-120000-ab12`: sortable by time, unique enough for one checkpoint folder. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `run-${stamp}-${Math.random().toString(16).slice(2, 6)}`;
}
