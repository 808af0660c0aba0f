import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import { startServer, type RunningServer } from '../ts/serve/server.js';

const ROOT = resolve(import.meta.dirname, '..');
const DRIVER = 'tests/fixtures/resume-driver.ts';
const EVALUATIONS = 12;
const SEED = 20260101;

interface DriverExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface DriverOutput {
  final: { best: { score: number; candidate: string }; scores: number[] };
  spent: { calls: number; cacheHits: number };
}

/** The paid backend: counts completed (paid) generations per evaluation; can kill the driver mid-call. */
class PaidBackend {
  readonly paid = new Map<number, number>();
  readonly abortedInFlight: number[] = [];
  killDuring: { evaluation: number; kill: () => void } | undefined;
  readonly model = new ScriptedLanguageModel({ respond: (request) => this.respond(request) });

  get totalPaid(): number {
    return [...this.paid.values()].reduce((a, b) => a + b, 0);
  }

  private async respond(request: GenerateRequest): Promise<string> {
    const content = request.messages[0]?.content ?? '';
    const evaluation = Number(/#(\d+)/.exec(content)?.[1]);
    if (this.killDuring?.evaluation === evaluation) {
      const { kill } = this.killDuring;
      this.killDuring = undefined;
      return new Promise((_resolve, reject) => {
        request.signal?.addEventListener('abort', () => {
          this.abortedInFlight.push(evaluation);
          reject(new Error('client went away'));
        });
        kill();
      });
    }
    this.paid.set(evaluation, (this.paid.get(evaluation) ?? 0) + 1);
    const digest = createHash('sha256').update(`${content}|${request.seed}|${request.temperature}`).digest();
    return `score ${digest.readUInt16BE(0) % 100}`;
  }
}

const servers: RunningServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function backendServer(): Promise<{ backend: PaidBackend; url: string }> {
  const backend = new PaidBackend();
  const server = await startServer({ model: backend.model });
  servers.push(server);
  return { backend, url: server.url };
}

function runDriver(args: string[], onSpawn?: (kill: () => void) => void): Promise<DriverExit> {
  const child = spawn(process.execPath, ['--import', 'tsx', DRIVER, ...args], { cwd: ROOT });
  onSpawn?.(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => (stdout += String(data)));
  child.stderr.on('data', (data) => (stderr += String(data)));
  return new Promise((resolvePromise) =>
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr })),
  );
}

function driverArgs(dir: string, url: string, extra: string[] = []): string[] {
  return ['--run', dir, '--base-url', url, '--evaluations', String(EVALUATIONS), '--seed', String(SEED), ...extra];
}

function outputOf(exit: DriverExit): DriverOutput {
  expect(exit.code, exit.stderr).toBe(0);
  return JSON.parse(exit.stdout.trim().split('\n').at(-1) ?? '') as DriverOutput;
}

const tempRunDir = () => join(mkdtempSync(join(tmpdir(), 'opt-native-resume-')), 'run');

async function uninterruptedResult(): Promise<DriverOutput['final']> {
  const { backend, url } = await backendServer();
  const output = outputOf(await runDriver(driverArgs(tempRunDir(), url)));
  expect(backend.totalPaid).toBe(EVALUATIONS);
  return output.final;
}

/** A kill point in 1..EVALUATIONS-2, logged so that a failure can be replayed. */
function randomEvaluation(): number {
  const evaluation = 1 + Math.floor(Math.random() * (EVALUATIONS - 2));
  console.info(`resume test: kill at evaluation ${evaluation}`);
  return evaluation;
}

describe('resume after SIGKILL', () => {
  it('a run killed during a paid call resumes to the same result with no repeated paid call', async () => {
    const reference = await uninterruptedResult();
    const { backend, url } = await backendServer();
    const dir = tempRunDir();
    const killAt = randomEvaluation();
    const killed = await runDriver(driverArgs(dir, url), (kill) => {
      backend.killDuring = { evaluation: killAt, kill };
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout.trim().split('\n').at(-1)).toBe(`evaluated ${killAt - 1}`);
    await expect.poll(() => backend.abortedInFlight).toEqual([killAt]);

    const resumed = outputOf(await runDriver(driverArgs(dir, url, ['--resume'])));
    expect(resumed.final).toEqual(reference);
    // every evaluation paid exactly once across both processes
    expect([...backend.paid.entries()].sort((a, b) => a[0] - b[0])).toEqual(
      Array.from({ length: EVALUATIONS }, (_, index) => [index, 1]),
    );
    expect(resumed.spent).toMatchObject({ calls: EVALUATIONS - killAt, cacheHits: 0 });
  });

  it('a run killed after a paid answer was cached but before it was logged takes it from the cache on resume', async () => {
    const reference = await uninterruptedResult();
    const { backend, url } = await backendServer();
    const dir = tempRunDir();
    const crashAt = randomEvaluation();
    const killed = await runDriver(driverArgs(dir, url, ['--crash-after-call', String(crashAt)]));
    expect(killed.signal).toBe('SIGKILL');
    expect(backend.totalPaid).toBe(crashAt + 1);

    const resumed = outputOf(await runDriver(driverArgs(dir, url, ['--resume'])));
    expect(resumed.final).toEqual(reference);
    expect(backend.totalPaid).toBe(EVALUATIONS);
    expect([...backend.paid.values()].every((count) => count === 1)).toBe(true);
    expect(resumed.spent).toMatchObject({ calls: EVALUATIONS - crashAt - 1, cacheHits: 1 });
  });

  it('resuming a finished run recomputes and pays nothing', async () => {
    const { backend, url } = await backendServer();
    const dir = tempRunDir();
    const first = outputOf(await runDriver(driverArgs(dir, url)));
    const again = outputOf(await runDriver(driverArgs(dir, url, ['--resume'])));
    expect(again.final).toEqual(first.final);
    expect(again.spent).toMatchObject({ calls: 0, cacheHits: 0 });
    expect(backend.totalPaid).toBe(EVALUATIONS);
  });
});
