/**
 * A benchmark task cut short by a provider error is retried from its checkpoint: the retry pays only what failed,
 * never the successes of the failed attempt again. The provider is a real OpenAI-compatible server on 127.0.0.1 that
 * fails for a while (HTTP 400, so the provider's own retries and breaker stay out of the way) and then recovers.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandManifest, manifestFromFlags } from '../ts/bench/manifest.js';
import { runBenchmark } from '../ts/bench/run.js';
import { OptNativeError } from '../ts/errors.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import { startServer, type RunningServer } from '../ts/serve/server.js';
import { storedTasks } from './bench-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-transient-'));
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Answers meta_prompt's rewrites and the navigate questions; goes down after `answersLeft` answers. */
class FlakyBackend {
  readonly answered = new Map<string, number>();
  answersLeft = Infinity;
  readonly model = new ScriptedLanguageModel({ respond: (request) => this.respond(request) });

  recover(): void {
    this.answersLeft = Infinity;
  }

  private respond(request: GenerateRequest): string {
    if (this.answersLeft <= 0) throw new OptNativeError('E_BAD_INPUT', 'backend down for maintenance');
    this.answersLeft -= 1;
    const content = request.messages.map((message) => message.content).join('\n');
    const key = `${content}|${request.seed ?? ''}`;
    this.answered.set(key, (this.answered.get(key) ?? 0) + 1);
    if (content.includes('<prompt>')) return '<prompt>Think step by step, then answer Yes or No.</prompt>';
    return 'The answer is Yes.';
  }
}

describe('bench retry after a transient provider error', () => {
  it('resumes the failed attempt from its checkpoint and pays no success twice', async () => {
    const backend = new FlakyBackend();
    server = await startServer({ model: backend.model, modelName: 'toy' });
    const model = `openai-compatible:${server.url}#toy`;
    const manifest = manifestFromFlags({
      datasets: ['bbh:navigate'],
      optimizers: ['meta_prompt'],
      models: [model],
      optimizerModel: model,
      testMode: true,
    });
    // The baseline's 5 validation answers succeed, then the rewrites fail: the attempt ends in an error.
    backend.answersLeft = 5;
    const failures: string[] = [];
    const checkpointDir = join(dir, 'ck');
    const summary = await runBenchmark({
      checkpointDir,
      manifest,
      tasks: expandManifest(manifest),
      maxAttempts: 2,
      backoffMs: 10,
      onTaskFailed: (_task, error) => {
        failures.push(error);
        backend.recover();
      },
    });
    expect(failures).toHaveLength(1);
    expect(summary.status).toBe('completed');
    const [task] = storedTasks(checkpointDir);
    expect([task?.status, task?.attempts]).toEqual(['succeeded', 2]);
    expect(backend.answered.size).toBeGreaterThan(5);
    expect([...backend.answered.entries()].filter(([, count]) => count > 1)).toEqual([]);
    // The failed attempt's checkpoint is still kept aside for inspection.
    const runDirs = readdirSync(join(checkpointDir, summary.runId));
    expect(runDirs.filter((name) => name.includes('.failed-'))).toHaveLength(1);
  });
});
