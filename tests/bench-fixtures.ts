/**
 * Shared pieces of the bench tests: the CLI run from source in a child process, a stateless scripted model for
 * every optimizer's meta-prompts, and read-only looks into a run's SQLite store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SOURCE_CLI_ARGS, repoRoot, runCli } from './cli-harness.js';

export { repoRoot, type CliOutcome } from './cli-harness.js';
/** Node arguments that run the CLI from source. */
export const CLI_ARGS = SOURCE_CLI_ARGS;

export const cli = (args: string[]) => runCli(CLI_ARGS, args);

export function spawnCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [...CLI_ARGS, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Replies for each optimizer's meta-prompt; the evaluated model answers "Yes". `extraRules` come first. */
export function writeBenchScript(
  path: string,
  options: { delayMs?: number; extraRules?: { contains: string | string[]; reply?: string; error?: string }[] } = {},
): string {
  const script = {
    modelId: 'bench-scripted',
    delayMs: options.delayMs ?? 0,
    rules: [
      ...(options.extraRules ?? []),
      { contains: '"ROOT CAUSE:', reply: 'ROOT CAUSE: the instruction does not ask for one word' },
      { contains: '"FAILURE MODE:', reply: 'FAILURE MODE: format | answers are not one word' },
      { contains: '<IMPROVED_VARIABLE>', reply: '<IMPROVED_VARIABLE>Answer Yes or No.</IMPROVED_VARIABLE>' },
      { contains: '<INS>', reply: '<INS>Think it through, then answer Yes or No.</INS>' },
      { contains: '<prompt>', reply: '<prompt>Think step by step, then answer with one allowed answer.</prompt>' },
    ],
    default: 'The answer is Yes.',
  };
  writeFileSync(path, JSON.stringify(script));
  return `scripted:${path}`;
}

export interface StoredTask {
  task_id: string;
  status: string;
  attempts: number;
  result_json: string | null;
  error: string | null;
  finished_at: number | null;
}

/** The run's tasks as stored (read-only; the runner may be writing). */
export function storedTasks(checkpointDir: string, runId?: string): StoredTask[] {
  const db = new Database(join(checkpointDir, 'bench.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const sql = 'SELECT task_id, status, attempts, result_json, error, finished_at FROM tasks';
    return (
      runId
        ? db.prepare(`${sql} WHERE run_id = ? ORDER BY position`).all(runId)
        : db.prepare(`${sql} ORDER BY position`).all()
    ) as StoredTask[];
  } finally {
    db.close();
  }
}

export function runIdOf(stderr: string): string {
  const match = /^run (\S+)$/m.exec(stderr);
  if (!match?.[1]) throw new Error(`no run id in: ${stderr}`);
  return match[1];
}
