/**
 * `opro --resume` through a provider outage, against a real OpenAI-compatible server on 127.0.0.1: a run started
 * while nothing listens records no failure as a result; once a server listens on that port a resume reaches it; when
 * the server fails mid-run and recovers, a second resume retries what failed and pays no recorded success again.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import { startServer, type RunningServer } from '../ts/serve/server.js';
import { SOURCE_CLI_ARGS, runCli } from './cli-harness.js';

// Each failing call is retried with backoff (about 8 s) before the provider's breaker opens.
const TEST_TIMEOUT_MS = 240_000;

const dir = mkdtempSync(join(tmpdir(), 'opro-outage-'));
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
});

/** A port that was free a moment ago: nothing listens there until the test starts its server. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The navigator script of tests/opro-cli.test.ts; counts answered requests per request text, and can go down. */
class FlakyBackend {
  answered = new Map<string, number>();
  /** Answer this many more requests, then fail every one (HTTP 500) until `recover()`. */
  answersLeft = Infinity;
  readonly model = new ScriptedLanguageModel({ respond: (request) => this.respond(request) });

  get totalAnswered(): number {
    return [...this.answered.values()].reduce((sum, count) => sum + count, 0);
  }

  recover(): void {
    this.answersLeft = Infinity;
  }

  private respond(request: GenerateRequest): string {
    if (this.answersLeft <= 0) throw new Error('backend down');
    this.answersLeft -= 1;
    const content = request.messages.map((message) => message.content).join('\n');
    const key = `${content}|${request.seed ?? ''}|${request.temperature ?? ''}`;
    this.answered.set(key, (this.answered.get(key) ?? 0) + 1);
    if (content.includes('<INS>')) {
      return '<INS>Think carefully, answer Yes or No.</INS> <INS>Reply Yes or No.</INS> <INS>Count the steps carefully and answer Yes or No.</INS>';
    }
    return content.includes('carefully') ? 'No' : 'So the answer is Yes.';
  }
}

const stepEvents = (out: string) =>
  readFileSync(join(out, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; key?: string })
    .filter((event) => event.type === 'step');

describe('opro --resume through a provider outage', () => {
  it(
    'retries what failed once the provider is back and keeps every success',
    async () => {
      const port = await freePort();
      const model = `openai-compatible:http://127.0.0.1:${port}/v1#toy`;
      const out = join(dir, 'run');
      const down = await runCli(SOURCE_CLI_ARGS, [
        'opro',
        ...['--task', 'bbh:navigate', '--test-mode', '--output-dir', out, '--quiet'],
        ...['--evaluator', model, '--optimizer-llm', model, '--candidates-per-iter', '1', '--num-iterations', '3'],
      ]);
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(/error\[E_CIRCUIT_OPEN\]: no prompt could be evaluated/);
      // Connection refused is not a result: nothing but the options is recorded.
      expect(stepEvents(out)).toEqual([]);

      // The server comes up on that port, answers the baseline's 5 validation questions, then fails again.
      const backend = new FlakyBackend();
      backend.answersLeft = 5;
      servers.push(await startServer({ model: backend.model, modelName: 'toy', port }));
      const flaky = await runCli(SOURCE_CLI_ARGS, ['opro', '--resume', out, '--quiet']);
      expect(backend.totalAnswered).toBe(5);
      expect(flaky.code).toBe(1);
      const recordedBeforeRecovery = stepEvents(out).map((event) => event.key);
      expect(recordedBeforeRecovery).toEqual([expect.stringMatching(/^opro\/evaluate\/0\/0\//)]);

      backend.recover();
      const recovered = await runCli(SOURCE_CLI_ARGS, ['opro', '--resume', out, '--quiet']);
      expect(recovered.stderr).toBe('');
      expect(recovered.code).toBe(0);
      expect(recovered.stdout).toContain('Stopped: completed');
      expect(existsSync(join(out, 'best_prompt.txt'))).toBe(true);
      const history = JSON.parse(readFileSync(join(out, 'opro_history.json'), 'utf8')) as {
        iteration_stats: unknown[];
      };
      expect(history.iteration_stats).toHaveLength(4);
      // Every request the server answered was answered once across the three sessions: no success was paid twice.
      expect([...backend.answered.values()].every((count) => count === 1)).toBe(true);
      expect(backend.totalAnswered).toBeGreaterThan(5);
      expect(stepEvents(out).map((event) => event.key)).toEqual(expect.arrayContaining(recordedBeforeRecovery));
    },
    TEST_TIMEOUT_MS,
  );
});
