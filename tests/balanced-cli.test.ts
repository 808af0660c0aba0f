/**
 * End to end: the real CLI in a child process runs `balanced`, `experiments` and `report` against the toy models
 * served over real OpenAI-compatible HTTP servers on 127.0.0.1, on a jsonl task written to a temporary folder.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balancedRunResultSchema } from '../ts/optimizers/balanced/results.js';
import { startServer, type RunningServer } from '../ts/serve/server.js';
import { SOURCE_CLI_ARGS, runCli } from './cli-harness.js';
import { CONCISE_TOKENS, STEP_BY_STEP, toyOptimizerModel, toyTaskModel } from './balanced-toy.js';

// Each spawn compiles the CLI from source with tsx: seconds on an idle machine, far more on a busy CI box.
const CLI_TEST_TIMEOUT_MS = 240_000;

const cli = (args: string[]) =>
  runCli(SOURCE_CLI_ARGS, args, { ...process.env, OPT_NATIVE_CHROMIUM: '/nonexistent/chromium' });

let dir: string;
let taskServer: RunningServer;
let optimizerServer: RunningServer;
let taskModel: string;
let optimizerModel: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'balanced-cli-'));
  const rows = Array.from({ length: 20 }, (_, index) => ({
    input: `What is ${index} + ${index + 7}?`,
    target: 2 * index + 7,
  }));
  await writeFile(join(dir, 'add.jsonl'), rows.map((row) => JSON.stringify(row)).join('\n'));
  taskServer = await startServer({ model: toyTaskModel(), modelName: 'toy-task' });
  optimizerServer = await startServer({ model: toyOptimizerModel(), modelName: 'toy-optimizer' });
  taskModel = `openai-compatible:${taskServer.url}#toy-task`;
  optimizerModel = `openai-compatible:${optimizerServer.url}#toy-optimizer`;
});

afterAll(async () => {
  await taskServer?.close();
  await optimizerServer?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('opt-native balanced / experiments / report', () => {
  it(
    'balanced: optimizes over HTTP and writes the results JSON',
    async () => {
      const out = join(dir, 'single');
      const args = [
        'balanced',
        ...['--task', `jsonl:${join(dir, 'add.jsonl')}`, '--model', taskModel, '--optimizer-model', optimizerModel],
        ...['--custom-prompt', 'Solve it.', '--accuracy-weight', '1', '--efficiency-weight', '0'],
        ...['--max-epochs', '2', '--eval-samples', '4', '--run-validation', '--output-dir', out],
      ];
      const result = await cli(args);
      expect(result.stderr).toContain('epoch 2/2 focus=accuracy');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('accuracy 0.0% → 100.0%');
      const resultsPath = join(out, 'balanced-acc1.00-eff0.00.json');
      const saved = balancedRunResultSchema.parse(JSON.parse(await readFile(resultsPath, 'utf8')));
      expect(saved.finalPrompt).toBe(`Solve it. ${STEP_BY_STEP} ${STEP_BY_STEP}`);
      expect(saved.model).toBe('toy-task');
      expect(saved.optimizerModel).toBe('toy-optimizer');
      expect(saved.settings).toMatchObject({ batchSize: 3, maxEpochs: 2, evalSamples: 4, runValidation: true });
      expect(saved.stopReason).toBe('completed');
      expect(saved.usage.total.cacheHits).toBe(0);

      // The same command again replays every answer from <output-dir>/cache.sqlite.
      const rerun = await cli(args);
      expect(rerun.code).toBe(0);
      const replayed = balancedRunResultSchema.parse(JSON.parse(await readFile(resultsPath, 'utf8')));
      expect(replayed.usage.total.cacheHits).toBe(replayed.usage.total.calls);
      expect(replayed.epochs).toEqual(saved.epochs);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'experiments + report: one results file per weight pair, then an HTML report (PNGs skipped without Chromium)',
    async () => {
      const out = join(dir, 'sweep');
      const promptFile = join(dir, 'prompt.txt');
      await writeFile(promptFile, `Solve it. ${STEP_BY_STEP}\n`);
      const sweep = await cli([
        'experiments',
        ...['--task', `jsonl:${join(dir, 'add.jsonl')}`, '--model', taskModel, '--optimizer-model', optimizerModel],
        ...['--prompt-file', promptFile, '--max-epochs', '3', '--eval-samples', '4'],
        ...['--run-validation', '--output-dir', out, '--configs', '0,1', '0.5,0.5', '1,0'],
      ]);
      // Progress lines of the concurrent runs interleave; each names its configuration.
      expect(sweep.stderr).toContain('[acc 0.00 / eff 1.00] epoch 3/3 focus=efficiency');
      expect(sweep.stderr).toContain('[acc 1.00 / eff 0.00] epoch 3/3 focus=accuracy');
      expect(sweep.code).toBe(0);
      expect(sweep.stdout).toContain('3 runs (concurrent)');
      // The summary table: the efficiency-only run kept accuracy at 100% and cut 24 tokens to 6 (-75%).
      expect(sweep.stdout).toMatch(/0\.00\/1\.00 +100\.0% +100\.0% +0\.0 pp +24\.0 +6\.0 +\+18\.0 +\+75\.0%/);
      expect((await readdir(out)).filter((name) => name.endsWith('.json')).sort()).toEqual([
        'balanced-acc0.00-eff1.00.json',
        'balanced-acc0.50-eff0.50.json',
        'balanced-acc1.00-eff0.00.json',
      ]);
      const efficiencyOnly = balancedRunResultSchema.parse(
        JSON.parse(await readFile(join(out, 'balanced-acc0.00-eff1.00.json'), 'utf8')),
      );
      expect(efficiencyOnly.final).toEqual({ accuracy: 1, meanCompletionTokens: CONCISE_TOKENS, examples: 4 });

      const reportPath = join(dir, 'report.html');
      const report = await cli(['report', '--results', out, '--output', reportPath]);
      expect(report.code).toBe(0);
      expect(report.stderr).toContain('warning: PNG charts skipped: Chromium not found at /nonexistent/chromium');
      const html = await readFile(reportPath, 'utf8');
      expect(html).toContain('<td>acc 0.00 / eff 1.00</td><td>100.0%</td><td>100.0%</td>');
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'refuses bad input with a coded error and exit 1',
    async () => {
      const bad = await cli(['experiments', '--task', 'gsm8k', '--configs', '0.3']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('error[E_BAD_INPUT]: a weight config is "accuracy,efficiency"');
      const bothPrompts = await cli(['balanced', '--task', 'gsm8k', '--custom-prompt', 'a', '--prompt-file', 'b.txt']);
      expect(bothPrompts.code).toBe(1);
      expect(bothPrompts.stderr).toContain(
        'error[E_BAD_INPUT]: give either --custom-prompt or --prompt-file, not both',
      );
      const missing = await cli(['report', '--results', join(dir, 'nothing-here'), '--no-png']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('error[E_FILE_NOT_FOUND]: results folder not found');
    },
    CLI_TEST_TIMEOUT_MS,
  );
});
