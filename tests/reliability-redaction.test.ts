/**
 * API keys never leave the process through error text. A real HTTP server on 127.0.0.1 plays a proxy that echoes the
 * credential headers in its 401 body; the keys (configured in the environment, passed in code, or merely key-shaped)
 * must appear nowhere: not in the coded error, its cause, the logs on stderr, the run folder of `opro`
 * (events.jsonl and the rest), nor the HTTP answer that `serve` relays to its client.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicLanguageModel } from '../ts/llm/anthropic.js';
import { OpenAICompatibleLanguageModel } from '../ts/llm/openai-compatible.js';
import { ProviderError } from '../ts/llm/provider-error.js';
import { createLogger } from '../ts/run/logger.js';
import pLimit from 'p-limit';
import { errorText } from '../ts/bench/retry.js';
import type { Example } from '../ts/datasets/types.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { evaluatePrompt } from '../ts/optimizers/balanced/evaluate.js';
import { CallMeter } from '../ts/optimizers/balanced/usage.js';
import { errorMessage, redactSecrets } from '../ts/secrets.js';
import { evaluateTextPrompt } from '../ts/tasks/evaluate.js';
import { createTextTask } from '../ts/tasks/text-task.js';
import { SOURCE_CLI_ARGS, repoRoot, runCli } from './cli-harness.js';

/** Keys with no recognisable shape: only knowing them lets us redact them. */
const ENV_OPENAI_KEY = 'proxy-credential-7c1e9a55d2';
const CODE_KEY = 'handed-in-code-4b8f03e6aa';
const ANTHROPIC_KEY = 'anthropic-credential-93d1e0';
const SHAPED_KEY = 'sk-shapedbutunknown0123456789';

/** A proxy that refuses every request and quotes the credentials it was sent (as some do). */
class EchoingProxy {
  requests = 0;
  private readonly server: Server = createServer((request, response) => this.answer(request, response));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    this.requests += 1;
    request.resume();
    const quoted = `authorization=${request.headers.authorization ?? ''} x-api-key=${String(request.headers['x-api-key'] ?? '')}`;
    const body = JSON.stringify({
      error: { message: `invalid credentials (${quoted}); also seen: Bearer ${SHAPED_KEY}`, type: 'auth' },
    });
    response.writeHead(401, { 'content-type': 'application/json' }).end(body);
  }
}

const proxy = new EchoingProxy();
let proxyUrl = '';
const savedEnv = { ...process.env };
beforeAll(async () => {
  proxyUrl = await proxy.start();
  process.env.OPENAI_API_KEY = ENV_OPENAI_KEY;
});
afterAll(async () => {
  process.env = savedEnv;
  await proxy.close();
});

const KEYS = [ENV_OPENAI_KEY, CODE_KEY, ANTHROPIC_KEY, SHAPED_KEY];
const leaked = (text: string) => KEYS.filter((key) => text.includes(key));

async function failureOf(work: () => Promise<unknown>): Promise<ProviderError> {
  try {
    await work();
  } catch (error) {
    return error as ProviderError;
  }
  throw new Error('the call succeeded');
}

/** Every file under `dir`, concatenated (the run folder: events.jsonl, opro_prompts.jsonl, …). */
function allFiles(dir: string): { names: string[]; text: string } {
  const names: string[] = [];
  let text = '';
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        names.push(name);
        text += readFileSync(path).toString('latin1');
      }
    }
  };
  walk(dir);
  return { names, text };
}

describe('provider errors are redacted where they are made', () => {
  it('openai-compatible: env key, key given in code and key shapes are replaced in message and cause', async () => {
    const fromEnv = new OpenAICompatibleLanguageModel({ model: 'x', baseURL: `${proxyUrl}/v1` });
    const fromCode = new OpenAICompatibleLanguageModel({ model: 'x', baseURL: `${proxyUrl}/v1`, apiKey: CODE_KEY });
    for (const model of [fromEnv, fromCode]) {
      const error = await failureOf(() => model.generate({ messages: [{ role: 'user', content: 'hi' }] }));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ code: 'E_PROVIDER', status: 401, kind: 'client' });
      expect(error.message).toContain('authorization=[REDACTED]');
      expect(error.message).toContain('also seen: [REDACTED]');
      expect(leaked(`${error.message} ${String(error.cause)} ${(error.cause as Error).stack}`)).toEqual([]);
    }
  });

  it('anthropic: the x-api-key echo is redacted, and logging the error leaks nothing', async () => {
    process.env.ANTHROPIC_API_KEY = ANTHROPIC_KEY;
    const model = new AnthropicLanguageModel({ model: 'claude-x', baseURL: proxyUrl });
    const error = await failureOf(() => model.generate({ messages: [{ role: 'user', content: 'hi' }] }));
    expect(error.message).toContain('x-api-key=[REDACTED]');
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
    logger.warn({ err: error }, `generation failed: ${error.message}`);
    expect(lines).toHaveLength(1);
    expect(leaked(lines.join(''))).toEqual([]);
  });

  it('redactSecrets: longest key first, shapes, idempotent', () => {
    const text = `k=${ENV_OPENAI_KEY} Authorization: Bearer abc.def-123456 api_key: "zz-top-secret" ${SHAPED_KEY}`;
    const once = redactSecrets(text);
    expect(once).toBe('k=[REDACTED] Authorization: [REDACTED] api_key: "[REDACTED]" [REDACTED]');
    expect(redactSecrets(once)).toBe(once);
    expect(redactSecrets('task-runner and sk-1 are fine')).toBe('task-runner and sk-1 are fine');
  });
});

describe('the CLI leaks no key', () => {
  const env = () => ({ ...process.env, OPENAI_API_KEY: ENV_OPENAI_KEY });

  it('opro against the proxy: stderr, stdout and every file of the run folder are clean', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'redaction-opro-')), 'run');
    const model = `openai-compatible:${proxyUrl}/v1#x`;
    const before = proxy.requests;
    const outcome = await runCli(
      SOURCE_CLI_ARGS,
      [
        'opro',
        '--task',
        'bbh:navigate',
        '--test-mode',
        '--output-dir',
        out,
        '--evaluator',
        model,
        '--optimizer-llm',
        model,
      ],
      env(),
    );
    expect(outcome.code).toBe(1);
    expect(proxy.requests).toBeGreaterThan(before);
    expect(outcome.stderr).toMatch(/^error\[E_[A-Z_]+\]: /m);
    expect(leaked(outcome.stderr + outcome.stdout)).toEqual([]);
    const files = allFiles(out);
    expect(files.names).toContain('events.jsonl');
    expect(files.text).toContain('[REDACTED]');
    expect(leaked(files.text)).toEqual([]);
  }, 120_000);

  it('serve relays the failure without the key, and logs it without the key', async () => {
    const child = spawn(
      process.execPath,
      [...SOURCE_CLI_ARGS, 'serve', '--model', `openai-compatible:${proxyUrl}/v1#x`, '--port', '0'],
      { cwd: repoRoot, env: env() },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (data) => (stderr += String(data)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (data) => {
        stdout += String(data);
        const match = / at (http:\/\/\S+)\n/.exec(stdout);
        if (match?.[1]) resolve(match[1]);
      });
      child.on('close', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
    try {
      const response = await fetch(`${url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }),
      });
      const body = await response.text();
      expect(response.status).toBe(500);
      expect(JSON.parse(body)).toMatchObject({ error: { code: 'E_PROVIDER' } });
      expect(body).toContain('[REDACTED]');
      expect(leaked(body)).toEqual([]);
    } finally {
      const closed = new Promise((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      await closed;
    }
    expect(stderr).toContain('generation failed');
    expect(leaked(stderr + stdout)).toEqual([]);
  }, 60_000);
});

describe('uncoded errors are redacted where their text is kept', () => {
  // A model or SDK that throws a plain Error (not a coded provider error) quoting the credentials.
  const quoting = () => `upstream said key=${ENV_OPENAI_KEY}; Authorization: Bearer ${CODE_KEY}; ${SHAPED_KEY}`;
  const examples: Example[] = ['alpha', 'beta', 'gamma'].map((input, index) => ({
    id: String(index),
    input,
    target: 'Yes',
  }));
  const model = () =>
    new ScriptedLanguageModel({
      respond: (request) => {
        if (request.messages.some((message) => message.content.includes('beta'))) throw new Error(quoting());
        return 'Yes';
      },
    });

  it('errorMessage and the benchmark store text (errorText) hold no key', () => {
    const expected = 'upstream said key=[REDACTED]; Authorization: [REDACTED]; [REDACTED]';
    expect(errorMessage(new Error(quoting()))).toBe(expected);
    expect(errorMessage(quoting())).toBe(expected);
    expect(errorText(new Error(quoting()))).toBe(expected);
  });

  it('a failed example of an evaluation (kept in events.jsonl and the results) holds no key', async () => {
    const task = createTextTask({
      name: 'toy',
      defaultMetric: 'exact_match',
      train: [],
      validation: examples,
      test: [],
    });
    const report = await evaluateTextPrompt({ task, examples, model: model(), instruction: 'Go.' });
    expect(report.failures).toBe(1);
    expect(report.predictions[1]?.error).toContain('[REDACTED]');
    expect(leaked(JSON.stringify(report))).toEqual([]);

    const balanced = await evaluatePrompt(
      {
        model: model(),
        metric: (reply, example) => ({ score: reply === example.target ? 1 : 0 }),
        limit: pLimit(1),
        sampling: {},
        meter: new CallMeter(),
      },
      'Go.',
      examples,
    );
    expect(balanced.outcomes[1]?.error).toContain('[REDACTED]');
    expect(leaked(JSON.stringify(balanced))).toEqual([]);
  });
});
