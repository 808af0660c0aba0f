/**
 * `balanced` never silently replaces what is in its output folder: the results of a different run (another prompt,
 * task, model or settings) are refused unless --force, and so is a folder of someone else's files; the same command
 * again is a rerun (tests/balanced-cli.test.ts). Real CLI, toy models over real HTTP servers on 127.0.0.1.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../ts/serve/server.js';
import { SOURCE_CLI_ARGS, runCli } from './cli-harness.js';
import { toyOptimizerModel, toyTaskModel } from './balanced-toy.js';

const CLI_TEST_TIMEOUT_MS = 240_000;
const cli = (args: string[]) => runCli(SOURCE_CLI_ARGS, args);

let dir: string;
let servers: RunningServer[] = [];
let common: (out: string, prompt: string) => string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'balanced-folder-'));
  const rows = Array.from({ length: 12 }, (_, index) => ({ input: `What is ${index} + 3?`, target: index + 3 }));
  await writeFile(join(dir, 'add.jsonl'), rows.map((row) => JSON.stringify(row)).join('\n'));
  servers = [
    await startServer({ model: toyTaskModel(), modelName: 'toy-task' }),
    await startServer({ model: toyOptimizerModel(), modelName: 'toy-optimizer' }),
  ];
  const [task, optimizer] = servers.map((server) => server.url);
  common = (out, prompt) => [
    'balanced',
    ...['--task', `jsonl:${join(dir, 'add.jsonl')}`, '--custom-prompt', prompt, '--output-dir', out],
    ...[
      '--model',
      `openai-compatible:${task}#toy-task`,
      '--optimizer-model',
      `openai-compatible:${optimizer}#toy-optimizer`,
    ],
    ...['--max-epochs', '1', '--eval-samples', '2', '--accuracy-weight', '1', '--efficiency-weight', '0'],
  ];
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('balanced output folder', () => {
  it(
    "refuses to replace a different run's results unless --force",
    async () => {
      const out = join(dir, 'run');
      const first = await cli(common(out, 'Solve it.'));
      expect(first.code).toBe(0);
      const path = join(out, 'balanced-acc1.00-eff0.00.json');
      const saved = await readFile(path, 'utf8');

      const other = await cli(common(out, 'Other prompt.'));
      expect(other.code).toBe(1);
      expect(other.stderr).toBe(
        `error[E_BAD_INPUT]: ${path} holds the results of a different run (initialPrompt differ); ` +
          'choose another --output-dir, or pass --force to replace it\n',
      );
      expect(await readFile(path, 'utf8')).toBe(saved);

      const forced = await cli([...common(out, 'Other prompt.'), '--force']);
      expect(forced.code).toBe(0);
      expect(JSON.parse(await readFile(path, 'utf8')).initialPrompt).toBe('Other prompt.');
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'refuses a folder of other files, before writing anything into it',
    async () => {
      const out = join(dir, 'mine');
      await mkdir(out);
      await writeFile(join(out, 'notes.txt'), 'my notes');
      const refused = await cli(common(out, 'Solve it.'));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error\[E_BAD_INPUT\]: .*mine is not empty and holds no balanced run/);
      expect(await readdir(out)).toEqual(['notes.txt']);
    },
    CLI_TEST_TIMEOUT_MS,
  );
});
