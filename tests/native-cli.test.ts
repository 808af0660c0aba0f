// `opt-native generate` end to end: spawns bin/opt-native.js (dist/, built by `npm run build:ts`) on the tiny fixture.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN_CLI_ARGS, runCli } from './cli-harness.js';
import { TINY_MODEL_DIR } from './native-fixtures.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const cli = (args: string[]) => runCli(BIN_CLI_ARGS, args);

describe('opt-native generate', () => {
  beforeAll(async () => {
    if (!existsSync(`${ROOT}dist/cli/main.js`)) await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
  });

  it('prints the greedy result as JSON, and streams the same text to stdout with usage on stderr', async () => {
    const args = ['generate', '--model', TINY_MODEL_DIR, '--prompt', 'Hello', '--max-tokens', '8'];
    const json = await cli([...args, '--json']);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as {
      text: string;
      usage: { promptTokens: number; completionTokens: number };
      finishReason: string;
      modelId: string;
    };
    expect(result.modelId).toBe(`native:${TINY_MODEL_DIR}`);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeLessThanOrEqual(8);
    // ChatML with the default system prompt around "Hello": byte-level tokens, one per byte plus specials.
    expect(result.usage.promptTokens).toBeGreaterThan('Hello'.length);

    const streamed = await cli(args);
    expect(streamed.code).toBe(0);
    expect(streamed.stdout).toBe(`${result.text}\n`);
    expect(streamed.stderr).toMatch(
      new RegExp(
        `\\[usage\\] prompt ${result.usage.promptTokens} tokens, completion ${result.usage.completionTokens} tokens`,
      ),
    );
  });

  it('exits 1 with error[E_MODEL_NOT_FOUND] for a missing model file', async () => {
    const missing = await cli(['generate', '--model', './no-such-model.gguf', '--prompt', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error[E_MODEL_NOT_FOUND]');
  });
});
