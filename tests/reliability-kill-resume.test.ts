/**
 * kill -9 at seeded random points of `opro`, `balanced` and `bench run`, against an OpenAI-compatible server on
 * 127.0.0.1 that goes through an outage (a seeded fraction of requests refused or answered HTTP 500) and recovers.
 * Each command is SIGKILLed three times (once right after a failed answer, inside the outage) and resumed until it
 * completes. The completed run must equal an uninterrupted reference run, record every step once, never ask the
 * server again for an answer it had already stored, and retry (not replay) the calls that failed in the outage.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import { seededRandom } from '../ts/run/clock.js';
import { toyOptimizerModel, toyTaskModel } from './balanced-toy.js';
import { cacheMaterialKey, startChaosServer, type ChaosServer, type HandledRequest } from './chaos-server.js';
import { SOURCE_CLI_ARGS, repoRoot } from './cli-harness.js';

// Up to 7 CLI spawns per command (tsx compiles from source each time) plus the provider's retry backoff in the
// outage: about a minute per command on an idle machine, several on a busy one.
const TEST_TIMEOUT_MS = 600_000;
const SEED = 13;
/** Sessions after which a run that still has not completed counts as one that cannot resume. */
const MAX_SESSIONS = 10;

const dir = mkdtempSync(join(tmpdir(), 'kill-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const content = (request: GenerateRequest) => request.messages.map((message) => message.content).join('\n');

/** opro's and bench's model on BBH navigate: instructions for meta-prompts, "Yes" unless told to be careful. */
function navigatorModel(): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    respond: (request) => {
      const text = content(request);
      if (text.includes('<INS>')) {
        return '<INS>Think carefully, answer Yes or No.</INS> <INS>Reply Yes or No.</INS> <INS>Count the steps carefully and answer Yes or No.</INS>';
      }
      if (text.includes('<prompt>')) return '<prompt>Think step by step, then answer Yes or No.</prompt>';
      return text.includes('carefully') ? 'No' : 'So the answer is Yes.';
    },
  });
}

interface Session {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** One CLI process; `server.onHandled` may kill it (the returned `kill`). */
function startSession(args: readonly string[]): { exited: Promise<Session>; kill: () => void } {
  const child = spawn(process.execPath, [...SOURCE_CLI_ARGS, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Session>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { exited, kill: () => child.kill('SIGKILL') };
}

/** Every `*.sqlite` response cache under `folder`, as HTTP request keys: what a resumed run will not pay for. */
function storedRequestKeys(folder: string): Set<string> {
  const keys = new Set<string>();
  for (const path of filesNamed(folder, (name) => name === 'cache.sqlite' || name === 'shared-cache.sqlite')) {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT request_json FROM responses').all() as { request_json: string }[];
      for (const row of rows) keys.add(cacheMaterialKey(row.request_json));
    } finally {
      db.close();
    }
  }
  return keys;
}

/** Files under `folder` (recursively) whose name passes `accept`; kept copies of failed bench attempts excluded. */
function filesNamed(folder: string, accept: (name: string) => boolean): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && accept(entry.name) && !entry.parentPath.includes('.failed-'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The step keys of each events.jsonl under `folder`. */
function stepKeysPerLog(folder: string): string[][] {
  return filesNamed(folder, (name) => name === 'events.jsonl').map((path) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { type: string; key?: string })
      .filter((event) => event.type === 'step')
      .map((event) => event.key ?? ''),
  );
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const readJsonLines = (path: string): unknown[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);

/**
 * A copy of `value` without clock readings and call accounting: a resumed run gets recorded answers back from its
 * cache, so its calls, cache hits and tokens are split differently (and counted in another session).
 */
function withoutClocks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutClocks);
  if (value === null || typeof value !== 'object') return value;
  const accounting = /wall|time|started|finished|usage|^at$|^calls$|cache_?hits|_tokens$|^cost$/i;
  const kept = Object.entries(value).filter(([key]) => !accounting.test(key));
  return Object.fromEntries(kept.map(([key, inner]) => [key, withoutClocks(inner)]));
}

interface Scenario {
  readonly name: string;
  /** Scripted models by the `model` field of the request. */
  readonly models: () => Record<string, ScriptedLanguageModel>;
  /** The first session's command line (the run's folder is `out`). */
  readonly start: (url: string, out: string) => string[];
  /** The next session's command line after `previous` was killed or failed. */
  readonly resume: (out: string, sessions: readonly Session[]) => string[];
  /** Whether a session that exited says the run is complete. */
  readonly completed: (session: Session) => boolean;
  /** What must equal between the reference and the interrupted run. */
  readonly outputs: (out: string) => unknown;
}

/** Where the three kills land, from the reference run's request count and the seed. */
interface KillPlan {
  /** Kill after this many handled requests. */
  readonly first: number;
  /** The outage: down for `hardDown` requests, then flaky until `to`; the second kill comes right after the first
   * failed request of the flaky part. */
  readonly outage: { from: number; hardDown: number; to: number };
  /** Kill after this many handled requests (past the outage). */
  readonly third: number;
}

function killPlan(referenceRequests: number, seed: number): KillPlan {
  const random = seededRandom(seed);
  const at = (low: number, high: number) => Math.floor(referenceRequests * (low + (high - low) * random()));
  const first = Math.max(1, at(0.08, 0.25));
  const from = at(0.3, 0.4);
  const hardDown = 6;
  const to = from + hardDown + Math.max(8, Math.floor(referenceRequests * 0.15));
  return { first, outage: { from, hardDown, to }, third: Math.max(to + 1, at(0.7, 0.85)) };
}

/** Arms the kill switch on `server` for `plan`: each kill fires once, in whichever session reaches it. */
function armKills(server: ChaosServer, plan: KillPlan, kill: () => void): { fired: HandledRequest[] } {
  const fired: HandledRequest[] = [];
  server.onHandled = (request) => {
    const handled = request.index + 1;
    const due =
      (fired.length === 0 && handled >= plan.first) ||
      (fired.length === 1 && request.outcome !== 'ok' && request.index >= plan.outage.from + plan.outage.hardDown) ||
      (fired.length === 2 && handled >= plan.third);
    if (!due) return;
    fired.push(request);
    kill();
  };
  return { fired };
}

interface ChaosRun {
  readonly sessions: Session[];
  readonly kills: HandledRequest[];
  /** Request keys stored in the run's caches when each session ended. */
  readonly storedAfter: Set<string>[];
  readonly log: HandledRequest[];
}

async function runUninterrupted(scenario: Scenario, out: string): Promise<{ requests: number; session: Session }> {
  const server = await startChaosServer(scenario.models());
  try {
    const session = await startSession(scenario.start(server.url, out)).exited;
    return { requests: server.log.length, session };
  } finally {
    await server.close();
  }
}

async function runWithKills(scenario: Scenario, out: string, plan: KillPlan): Promise<ChaosRun> {
  const server = await startChaosServer(scenario.models());
  server.outage = { ...plan.outage, fraction: 0.5, seed: SEED };
  let killCurrent = () => {};
  const { fired } = armKills(server, plan, () => killCurrent());
  const sessions: Session[] = [];
  const storedAfter: Set<string>[] = [];
  try {
    while (sessions.length < MAX_SESSIONS) {
      server.session = sessions.length;
      const args = sessions.length === 0 ? scenario.start(server.url, out) : scenario.resume(out, sessions);
      const running = startSession(args);
      killCurrent = running.kill;
      const session = await running.exited;
      sessions.push(session);
      storedAfter.push(storedRequestKeys(out));
      if (session.signal === null && scenario.completed(session)) break;
    }
    return { sessions, kills: fired, storedAfter, log: [...server.log] };
  } finally {
    await server.close();
  }
}

/** The checks every command must pass; see the file comment. */
function expectSafeResume(run: ChaosRun, out: string): void {
  const last = run.sessions.at(-1);
  expect(last?.stderr ?? 'no session').not.toMatch(/error\[/);
  expect(last?.code).toBe(0);
  expect(run.kills.map((kill) => kill.outcome === 'ok')).toEqual([true, false, true]);
  expect(run.sessions.filter((session) => session.signal === 'SIGKILL')).toHaveLength(3);

  // Nothing paid twice: each step recorded once per log, and no stored answer asked for again in a later session.
  for (const keys of stepKeysPerLog(out)) expect(keys.length - new Set(keys).size).toBe(0);
  const repaid = run.log.filter(
    (request) =>
      request.outcome === 'ok' &&
      run.storedAfter.some((stored, session) => session < request.session && stored.has(request.key)),
  );
  expect(repaid).toEqual([]);
  for (let session = 0; session < run.sessions.length; session += 1) {
    const answered = run.log.filter((request) => request.session === session && request.outcome === 'ok');
    expect(answered.length - new Set(answered.map((request) => request.key)).size).toBe(0);
  }

  // Failures are retried, not replayed: every request that failed was answered later, and the one failed right
  // before the second kill was answered in a later session.
  const answeredKeys = new Set(run.log.filter((request) => request.outcome === 'ok').map((request) => request.key));
  const failed = run.log.filter((request) => request.outcome !== 'ok');
  expect(failed.length).toBeGreaterThan(0);
  expect(failed.filter((request) => !answeredKeys.has(request.key))).toEqual([]);
  const outageKill = run.kills[1] as HandledRequest;
  expect(
    run.log.some(
      (request) => request.key === outageKill.key && request.outcome === 'ok' && request.session > outageKill.session,
    ),
  ).toBe(true);
}

const opro: Scenario = {
  name: 'opro',
  models: () => ({ navigator: navigatorModel() }),
  start: (url, out) => {
    const model = `openai-compatible:${url}#navigator`;
    return [
      'opro',
      ...['--task', 'bbh:navigate', '--test-mode', '--output-dir', out, '--quiet'],
      ...['--evaluator', model, '--optimizer-llm', model, '--candidates-per-iter', '1', '--num-iterations', '3'],
    ];
  },
  resume: (out) => ['opro', '--resume', out, '--quiet'],
  completed: (session) => session.code === 0 && session.stdout.includes('Stopped: completed'),
  outputs: (out) => ({
    best: readFileSync(join(out, 'best_prompt.txt'), 'utf8'),
    summary: withoutClocks(readJson(join(out, 'best_prompt_summary.json'))),
    metrics: withoutClocks(readJson(join(out, 'best_metrics.json'))),
    prompts: withoutClocks(readJsonLines(join(out, 'opro_prompts.jsonl'))),
    history: withoutClocks(readJson(join(out, 'opro_history.json'))),
  }),
};

function balancedScenario(taskFile: string): Scenario {
  const args = (url: string, out: string) => [
    'balanced',
    ...['--task', `jsonl:${taskFile}`, '--model', `openai-compatible:${url}#toy-task`],
    ...['--optimizer-model', `openai-compatible:${url}#toy-optimizer`, '--custom-prompt', 'Solve it.'],
    ...['--max-epochs', '3', '--eval-samples', '4', '--run-validation', '--output-dir', out],
  ];
  let started: string[] = [];
  return {
    name: 'balanced',
    models: () => ({ 'toy-task': toyTaskModel(), 'toy-optimizer': toyOptimizerModel() }),
    // balanced resumes by running the same command into its folder: its cache replays what was answered.
    start: (url, out) => (started = args(url, out)),
    resume: () => started,
    completed: (session) => session.code === 0,
    outputs: (out) => withoutClocks(readJson(join(out, 'balanced-acc0.50-eff0.50.json'))),
  };
}

function runIdOf(sessions: readonly Session[]): string {
  for (const session of sessions) {
    const match = /^run (\S+)$/m.exec(session.stderr);
    if (match?.[1]) return match[1];
  }
  throw new Error(`no run id in: ${sessions.map((session) => session.stderr).join('\n')}`);
}

const benchTasks = (out: string) => {
  const db = new Database(join(out, 'bench.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT task_id, status, result_json FROM tasks ORDER BY position').all() as {
      task_id: string;
      status: string;
      result_json: string | null;
    }[];
    return rows.map((row) => ({
      task: row.task_id,
      status: row.status,
      result: withoutClocks(row.result_json === null ? null : JSON.parse(row.result_json)),
    }));
  } finally {
    db.close();
  }
};

const bench: Scenario = {
  name: 'bench',
  models: () => ({ navigator: navigatorModel() }),
  start: (url, out) => {
    const model = `openai-compatible:${url}#navigator`;
    return [
      ...['bench', 'run', '--datasets', 'bbh:navigate', '--optimizers', 'meta_prompt,opro', '--test-mode'],
      ...['--models', model, '--optimizer-model', model, '--checkpoint-dir', out],
      ...['--max-attempts', '2', '--backoff-ms', '10', '--quiet'],
    ];
  },
  resume: (out, sessions) => {
    const runId = runIdOf(sessions);
    // A task that used up its attempts in the outage is failed, not interrupted: it is retried, not resumed.
    const failed = sessions.at(-1)?.signal === null && /--retry-failed-run-id/.test(sessions.at(-1)?.stderr ?? '');
    const flag = failed ? '--retry-failed-run-id' : '--resume-run-id';
    return ['bench', 'run', flag, runId, '--checkpoint-dir', out, '--max-attempts', '2', '--backoff-ms', '10'];
  },
  completed: (session) => session.code === 0,
  // Task ids and model strings name the server's port, which differs between the two runs.
  outputs: (out) => JSON.parse(JSON.stringify(benchTasks(out)).replace(/127[._]0[._]0[._]1[:_]\d+/g, 'SERVER')),
};

async function checkScenario(scenario: Scenario, seed: number): Promise<void> {
  const reference = join(dir, `${scenario.name}-reference`);
  const straight = await runUninterrupted(scenario, reference);
  expect(straight.session.stderr).not.toMatch(/error\[/);
  expect(straight.session.code).toBe(0);
  const plan = killPlan(straight.requests, seed);
  const out = join(dir, `${scenario.name}-killed`);
  const run = await runWithKills(scenario, out, plan);
  expectSafeResume(run, out);
  expect(scenario.outputs(out)).toEqual(scenario.outputs(reference));
}

describe('kill -9 and resume through a provider outage', () => {
  it('opro', () => checkScenario(opro, SEED), TEST_TIMEOUT_MS);

  it(
    'balanced',
    async () => {
      const taskFile = join(dir, 'add.jsonl');
      const rows = Array.from({ length: 20 }, (_, index) => ({
        input: `What is ${index} + ${index + 7}?`,
        target: 2 * index + 7,
      }));
      writeFileSync(taskFile, rows.map((row) => JSON.stringify(row)).join('\n'));
      await checkScenario(balancedScenario(taskFile), SEED + 1);
    },
    TEST_TIMEOUT_MS,
  );

  it('bench run (2 tasks)', () => checkScenario(bench, SEED + 2), TEST_TIMEOUT_MS);
});
