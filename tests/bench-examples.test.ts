/**
 * The shipped example manifests: every one validates against the schema; the README example of the original runner
 * and the smoke manifest run to completion in test mode on a scripted model (the smoke manifest's label scoring
 * included). With OPT_NATIVE_REAL_MODEL=default the smoke manifest also runs on the real default model (opt-in:
 * about an hour on a busy 2-core machine).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManifestFile } from '../ts/bench/manifest.js';
import { optimizerConfigOf } from '../ts/bench/optimizers.js';
import { formatRunTable } from '../ts/bench/results.js';
import { runBenchmark } from '../ts/bench/run.js';
import { BenchStore } from '../ts/bench/store.js';
import type { BenchTaskResult, BenchTaskSpec } from '../ts/bench/types.js';
import { repoRoot, storedTasks, writeBenchScript } from './bench-fixtures.js';

const EXAMPLES = join(repoRoot, 'examples/manifests');
const dir = mkdtempSync(join(tmpdir(), 'bench-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of an example manifest with every model replaced by `model`. */
function withModel(example: string, model: string): string {
  const text = readFileSync(join(EXAMPLES, example), 'utf8').replaceAll('native:default', model);
  const path = join(dir, example);
  writeFileSync(path, text);
  return path;
}

/** What `bench run --test-mode` does to the expanded tasks. */
const inTestMode = (tasks: BenchTaskSpec[]) => tasks.map((task) => ({ ...task, testMode: true }));

function results(checkpointDir: string): BenchTaskResult[] {
  return storedTasks(checkpointDir).map((task) => JSON.parse(task.result_json ?? 'null') as BenchTaskResult);
}

/** The recorded values of a task's steps, in order. */
function stepValues(checkpointDir: string, runId: string, taskId: string): { wallMs?: number }[] {
  return readFileSync(join(checkpointDir, runId, taskId, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; value?: { wallMs?: number } })
    .filter((event) => event.type === 'step')
    .map((event) => event.value ?? {});
}

/** Keys of the final-evaluation steps a task recorded (`bench/final/<split>/<mode>/<digest>`). */
function finalStepKeys(checkpointDir: string, runId: string, taskId: string): string[] {
  return readFileSync(join(checkpointDir, runId, taskId, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; key?: string })
    .filter((event) => event.type === 'step' && event.key?.startsWith('bench/final/'))
    .map((event) => event.key!.split('/').slice(0, 4).join('/'));
}

describe('example manifests', () => {
  it('all validate and expand', () => {
    const counts = Object.fromEntries(
      readdirSync(EXAMPLES)
        .filter((name) => name.endsWith('.json'))
        .map((name) => [name, loadManifestFile(join(EXAMPLES, name)).tasks.length]),
    );
    expect(counts).toEqual({
      'generator.example.json': 4,
      'gsm8k.json': 3,
      'manifest.example.json': 2,
      'quality.json': 18,
      'smoke.json': 12,
      'tasks.example.json': 3,
    });
  });

  it("the original README's example keeps its meaning: max_trials, n_samples, per-split loaders", () => {
    const { tasks } = loadManifestFile(join(EXAMPLES, 'manifest.example.json'));
    const [fewShot, evolutionary] = tasks;
    expect(fewShot).toMatchObject({ dataset: 'gsm8k', optimizer: 'few_shot', modelParameters: { temperature: 0.7 } });
    expect(optimizerConfigOf('few_shot', fewShot!.optimizerParams, fewShot!.optimizerPromptParams)).toEqual({
      config: { trials: 3 },
      runner: { nSamples: 10 },
    });
    expect(evolutionary?.optimizer).toBe('evolutionary');
    expect(evolutionary?.datasets).toEqual({
      train: { loader: 'gsm8k', count: 150 },
      validation: { loader: 'gsm8k', split: 'validation', count: 50 },
    });
    // num_generations comes after max_trials and wins; both name the generation count.
    expect(
      optimizerConfigOf('evolutionary', evolutionary!.optimizerParams, evolutionary!.optimizerPromptParams).config,
    ).toEqual({ generations: 1, populationSize: 3 });
  });

  it('the README example runs in test mode on a scripted model', { timeout: 120_000 }, async () => {
    const delayMs = 20;
    const model = writeBenchScript(join(dir, 'readme-model.json'), { delayMs });
    const { manifest, tasks } = loadManifestFile(withModel('manifest.example.json', model));
    const checkpointDir = join(dir, 'ck-readme');
    let runId = '';
    const summary = await runBenchmark({
      checkpointDir,
      manifest,
      tasks: inTestMode(tasks),
      backoffMs: 10,
      onRunId: (id) => (runId = id),
    });
    expect(summary.status).toBe('completed');
    const [fewShot, evolutionary] = results(checkpointDir);
    // A dataset string keeps its test split; per-split loaders without one are scored on validation.
    expect([fewShot?.final?.split, fewShot?.final?.examples]).toEqual(['test', 5]);
    expect([evolutionary?.final?.split, evolutionary?.final?.examples]).toEqual(['validation', 5]);
    // The task's time is the sum of its recorded steps, the final evaluation's included (it once counted the
    // optimizer's steps only, unlike calls and tokens). few_shot runs its steps one after another.
    const stepTimes = stepValues(join(dir, 'ck-readme'), runId, 't000-gsm8k-few_shot-scripted_readme_model_json').map(
      (value) => value.wallMs ?? 0,
    );
    expect(stepTimes.at(-1)).toBeGreaterThanOrEqual(delayMs);
    expect(fewShot!.wallTimeMs).toBe(stepTimes.reduce((a, b) => a + b, 0));
  });

  it('the smoke manifest runs every optimizer, label-scored where it says so', { timeout: 180_000 }, async () => {
    const model = writeBenchScript(join(dir, 'smoke-model.json'));
    const { manifest, tasks } = loadManifestFile(withModel('smoke.json', model));
    const checkpointDir = join(dir, 'ck-smoke');
    let runId = '';
    const summary = await runBenchmark({ checkpointDir, manifest, tasks, onRunId: (id) => (runId = id) });
    expect(summary.counts.succeeded).toBe(12);
    for (const [index, result] of results(checkpointDir).entries()) {
      const task = tasks[index]!;
      expect(result.usage.promptTokens).toBeGreaterThan(0);
      expect(result.usage.cost).toBe(0);
      expect(result.final?.examples).toBe(5);
      // Balanced optimizes answer length too, so it generates; every other optimizer scores labels.
      const mode = task.optimizer === 'balanced' ? 'generate' : 'score';
      // The best prompt and, when it differs, the baseline are scored on the held-out split in the same mode.
      const keys = finalStepKeys(checkpointDir, runId, task.taskId);
      expect([task.taskId, ...new Set(keys)]).toEqual([task.taskId, `bench/final/test/${mode}`]);
      expect(keys.length).toBe(result.final?.score === result.baselineFinal?.score ? keys.length : 2);
      expect(keys.length).toBeLessThanOrEqual(2);
      expect(result.baselineFinal?.examples).toBe(5);
    }
    const store = new BenchStore(checkpointDir);
    try {
      const table = formatRunTable(store.summary(runId), store.tasks(runId));
      expect(table).toMatch(
        /task\s+status\s+initial\s+best\s+baseline\s+final\s+gain \[95% CI\]\s+usable\s+calls\s+tokens\s+cost\s+time/,
      );
      expect(table.match(/ succeeded .* \$0\.0000 /g)).toHaveLength(12);
    } finally {
      store.close();
    }
  });
});

const REAL_MODEL = process.env.OPT_NATIVE_REAL_MODEL === 'default';

describe.skipIf(!REAL_MODEL)('smoke manifest on the real default model (opt-in)', () => {
  it('completes on the local engine with scores, tokens and cost per task', { timeout: 3 * 3600_000 }, async () => {
    const { manifest, tasks } = loadManifestFile(join(EXAMPLES, 'smoke.json'));
    const checkpointDir = join(dir, 'ck-real');
    let runId = '';
    const summary = await runBenchmark({ checkpointDir, manifest, tasks, onRunId: (id) => (runId = id) });
    expect(summary.status).toBe('completed');
    for (const result of results(checkpointDir)) {
      expect(result.bestPrompt.trim()).not.toBe('');
      expect(result.usage.promptTokens).toBeGreaterThan(0);
      expect(result.usage.cost).toBe(0);
      expect(result.final?.score).toBeGreaterThanOrEqual(0);
      expect(result.final?.score).toBeLessThanOrEqual(1);
    }
    const store = new BenchStore(checkpointDir);
    try {
      console.log(formatRunTable(store.summary(runId), store.tasks(runId)));
    } finally {
      store.close();
    }
  });
});
