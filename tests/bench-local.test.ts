/**
 * The local engine end to end: example manifests run on a scripted model; a run killed with SIGKILL resumes with its
 * finished tasks kept and its interrupted task continued from its recorded steps (same result as an uninterrupted
 * run); a failing task is retried with backoff, stays failed on resume, and runs again only with
 * --retry-failed-run-id; results and the HTML report read the store.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { expandManifest, loadManifestFile, manifestFromFlags } from '../ts/bench/manifest.js';
import { runBenchmark } from '../ts/bench/run.js';
import type { BenchTaskResult } from '../ts/bench/types.js';
import { repoRoot, cli, runIdOf, spawnCli, storedTasks, writeBenchScript, type StoredTask } from './bench-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of an example manifest with every model replaced by `model`. */
function withModel(example: string, model: string): string {
  const text = readFileSync(join(repoRoot, 'examples/manifests', example), 'utf8').replaceAll('native:default', model);
  const path = join(dir, example);
  writeFileSync(path, text);
  return path;
}

const resultOf = (task: StoredTask | undefined) => JSON.parse(task?.result_json ?? 'null') as BenchTaskResult;

/** Child processes on a busy 2-core machine: generous, since nothing here is a timing assertion. */
const SLOW_TEST_MS = 180_000;

describe('local engine', { timeout: SLOW_TEST_MS }, () => {
  it('runs the example manifests (test mode) to completion on a scripted model', async () => {
    const model = writeBenchScript(join(dir, 'examples-model.json'));
    for (const example of ['tasks.example.json', 'generator.example.json']) {
      const { manifest, tasks } = loadManifestFile(withModel(example, model));
      const checkpointDir = join(dir, `ck-${example}`);
      const summary = await runBenchmark({ checkpointDir, manifest, tasks, maxConcurrent: 2, backoffMs: 10 });
      expect(summary.status).toBe('completed');
      expect(summary.counts.succeeded).toBe(tasks.length);
      for (const stored of storedTasks(checkpointDir)) {
        const result = resultOf(stored);
        expect(result.bestPrompt).not.toBe('');
        expect(result.usage.calls).toBeGreaterThan(0);
        const usable = result.usableCandidates!;
        expect(usable.usable).toBeLessThanOrEqual(usable.proposed);
        expect(usable.share).toBe(usable.proposed === 0 ? null : usable.usable / usable.proposed);
        expect(result.final?.examples).toBeGreaterThan(0);
        // The baseline prompt is scored on the same held-out examples, with paired bootstrap intervals.
        expect(result.baselineFinal?.examples).toBe(result.final?.examples);
        const heldout = result.heldout!;
        expect(heldout.best).toBe(result.final?.score);
        expect(heldout.baseline).toBe(result.baselineFinal?.score);
        expect(heldout.gain).toBeCloseTo(heldout.best - heldout.baseline, 12);
        expect(heldout.gainInterval[0]).toBeLessThanOrEqual(heldout.gain);
        expect(heldout.gainInterval[1]).toBeGreaterThanOrEqual(heldout.gain);
      }
    }
    // A loader object is one slice for training and validation; a dataset string keeps its test split.
    const generated = storedTasks(join(dir, 'ck-generator.example.json')).map(resultOf);
    expect(generated.map((result) => result.final?.split)).toEqual(['test', 'test', 'validation', 'validation']);
  });

  it('resumes a killed run: finished tasks are kept, the interrupted one continues from its steps', async () => {
    const model = writeBenchScript(join(dir, 'slow-model.json'), { delayMs: 10 });
    const args = (checkpointDir: string) => [
      'bench',
      'run',
      '--datasets',
      'bbh:navigate',
      '--optimizers',
      'meta_prompt',
      'hierarchical_reflective',
      '--models',
      model,
      '--test-mode',
      '--checkpoint-dir',
      checkpointDir,
      '--quiet',
    ];
    const reference = await cli(args(join(dir, 'ck-reference')));
    expect(reference.code).toBe(0);
    // The run's shared cache answers the second optimizer's baseline evaluations, paid by the first.
    const [first, second] = storedTasks(join(dir, 'ck-reference')).map(resultOf);
    expect(first!.usage.cacheHits).toBe(0);
    expect(second!.usage.cacheHits).toBeGreaterThan(0);

    const checkpointDir = join(dir, 'ck-killed');
    const child = spawnCli(args(checkpointDir));
    let stderr = '';
    child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
    let tasks: StoredTask[] = [];
    // Kill once the first task is done and the second has recorded a few steps.
    for (;;) {
      await sleep(50);
      if (!stderr.includes('run ')) continue;
      tasks = storedTasks(checkpointDir);
      const second = tasks[1];
      const log = second ? join(checkpointDir, runIdOf(stderr), second.task_id, 'events.jsonl') : '';
      if (
        tasks[0]?.status === 'succeeded' &&
        existsSync(log) &&
        readFileSync(log, 'utf8').split('"type":"step"').length > 4
      )
        break;
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const runId = runIdOf(stderr);
    expect(storedTasks(checkpointDir).map((task) => task.status)).toEqual(['succeeded', 'running']);

    const resumed = await cli(['bench', 'run', '--resume-run-id', runId, '--checkpoint-dir', checkpointDir, '--quiet']);
    expect(resumed.code).toBe(0);
    const after = storedTasks(checkpointDir);
    expect(after.map((task) => task.status)).toEqual(['succeeded', 'succeeded']);
    // The finished task was not run again.
    expect(after[0]?.finished_at).toBe(tasks[0]?.finished_at);
    expect(after[0]?.result_json).toBe(tasks[0]?.result_json);
    // The interrupted task started twice, but every recorded step ran once.
    const events = readFileSync(join(checkpointDir, runId, after[1]!.task_id, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; key?: string });
    expect(events.filter((event) => event.type === 'bench_task_started')).toHaveLength(2);
    const stepKeys = events.filter((event) => event.type === 'step').map((event) => event.key);
    expect(new Set(stepKeys).size).toBe(stepKeys.length);
    // Same outcome as the uninterrupted run.
    const expected = storedTasks(join(dir, 'ck-reference')).map(resultOf);
    const [finished, interrupted] = after.map(resultOf);
    const { wallTimeMs: _a, ...finishedGot } = finished!;
    const { wallTimeMs: _b, ...finishedWant } = expected[0]!;
    expect(finishedGot).toEqual(finishedWant);
    const { wallTimeMs: _c, usage: got, ...interruptedGot } = interrupted!;
    const { wallTimeMs: _d, usage: want, ...interruptedWant } = expected[1]!;
    expect(interruptedGot).toEqual(interruptedWant);
    // The same requests were answered. The killed process may have paid for and cached a reply (its parallel
    // analyses race the kill) without recording the step: on resume that request is a cache hit, not a call.
    expect(got.calls + got.cacheHits).toBe(want.calls + want.cacheHits);
    expect(got.calls).toBeLessThanOrEqual(want.calls);
    expect(got.promptTokens).toBeLessThanOrEqual(want.promptTokens);
    expect(got.completionTokens).toBeLessThanOrEqual(want.completionTokens);
  });

  it('retries a failing task with backoff, keeps it failed on resume, and reruns it only when asked', async () => {
    const scriptPath = join(dir, 'flaky-model.json');
    // Boolean expressions mention True/False everywhere: every call about them fails.
    const failing = writeBenchScript(scriptPath, {
      extraRules: [
        { contains: 'True', error: 'backend down' },
        { contains: '<current>', reply: '<prompt>Use <b>bold</b> & answer Yes or No.</prompt>' },
      ],
    });
    const checkpointDir = join(dir, 'ck-retry');
    const first = await cli([
      'bench',
      'run',
      '--datasets',
      'bbh:navigate,bbh:boolean_expressions',
      '--optimizers',
      'meta_prompt',
      '--models',
      failing,
      '--test-mode',
      '--checkpoint-dir',
      checkpointDir,
      '--max-attempts',
      '2',
      '--backoff-ms',
      '10',
    ]);
    expect(first.code).toBe(1);
    const runId = runIdOf(first.stderr);
    expect(first.stderr).toContain(`--retry-failed-run-id ${runId}`);
    expect(first.stderr).toContain('[bench] retrying t001-bbh_boolean_expressions-meta_prompt');
    const failed = storedTasks(checkpointDir);
    expect(failed.map((task) => [task.status, task.attempts])).toEqual([
      ['succeeded', 1],
      ['failed', 2],
    ]);
    expect(failed[1]?.error).toContain('E_CIRCUIT_OPEN');
    // Each failed attempt's checkpoint was set aside, so a retry starts afresh.
    const asides = readdirSync(join(checkpointDir, runId)).filter((name) => name.includes('.failed-'));
    expect(asides).toHaveLength(2);

    const resumed = await cli(['bench', 'run', '--resume-run-id', runId, '--checkpoint-dir', checkpointDir, '--quiet']);
    expect(resumed.code).toBe(1);
    expect(storedTasks(checkpointDir)).toEqual(failed);

    writeBenchScript(scriptPath, {
      extraRules: [{ contains: '<current>', reply: '<prompt>Use <b>bold</b> & answer Yes or No.</prompt>' }],
    });
    const retried = await cli(['bench', 'run', '--retry-failed-run-id', runId, '--checkpoint-dir', checkpointDir]);
    expect(retried.code).toBe(0);
    const after = storedTasks(checkpointDir);
    expect(after.map((task) => [task.status, task.attempts])).toEqual([
      ['succeeded', 1],
      ['succeeded', 1],
    ]);
    expect(after[0]?.finished_at).toBe(failed[0]?.finished_at);

    const raw = await cli(['bench', 'results', '--run-id', runId, '--raw', '--checkpoint-dir', checkpointDir]);
    const parsed = JSON.parse(raw.stdout) as { run: { status: string }; tasks: { result: BenchTaskResult }[] };
    expect(parsed.run.status).toBe('completed');
    expect(parsed.tasks[1]?.result.optimizer).toBe('meta_prompt');
    const list = await cli(['bench', 'results', '--list-runs', '--checkpoint-dir', checkpointDir]);
    expect(list.stdout).toMatch(new RegExp(`${runId}\\s+\\S+ \\S+\\s+local\\s+completed\\s+2/2`));
    const table = await cli(['bench', 'results', '--run-id', runId, '--detailed', '--checkpoint-dir', checkpointDir]);
    expect(table.stdout).toContain('t001-bbh_boolean_expressions-meta_prompt-scripted_flaky_model_json  succeeded');

    const report = await cli(['bench', 'report', '--run-id', runId, '--checkpoint-dir', checkpointDir]);
    expect(report.code).toBe(0);
    const html = readFileSync(join(checkpointDir, runId, 'report.html'), 'utf8');
    expect(html).toContain(`<title>Benchmark ${runId}</title>`);
    expect(html).toContain('<td class="text">meta_prompt</td>');
  });

  it('leaves tasks open when the run is aborted (SIGINT), and a resume finishes them', async () => {
    const model = writeBenchScript(join(dir, 'abort-model.json'), { delayMs: 50 });
    const { manifest, tasks } = loadManifestFile(withModel('generator.example.json', model));
    const checkpointDir = join(dir, 'ck-abort');
    const abort = new AbortController();
    let runId = '';
    const summary = await runBenchmark({
      checkpointDir,
      manifest,
      tasks,
      signal: abort.signal,
      onRunId: (id) => (runId = id),
      onTaskStart: () => setTimeout(() => abort.abort(), 100),
    });
    expect(summary.status).toBe('running');
    expect(storedTasks(checkpointDir).map((task) => task.status)).toEqual(['running', 'pending', 'pending', 'pending']);
    const resumed = await runBenchmark({ checkpointDir, resumeRunId: runId, maxConcurrent: 2 });
    expect(resumed.status).toBe('completed');
    expect(resumed.counts.succeeded).toBe(4);
    // The interrupted attempt was continued, not counted as a second one.
    expect(storedTasks(checkpointDir).map((task) => task.attempts)).toEqual([1, 1, 1, 1]);
  });

  it('prompts the valset and the held-out split with the layout the manifest names', async () => {
    const startFormat = 'End your reply with the line "The answer is X." where X is one of: No, Yes.\n\nQ: ';
    const model = writeBenchScript(join(dir, 'layout-model.json'), {
      extraRules: [
        { contains: startFormat, reply: 'Working: three steps back.\nThe answer is No.' },
        { contains: 'Answer with one of: No, Yes.', error: 'the answer format came at the end' },
      ],
    });
    const manifestPath = join(dir, 'layout.json');
    const params = { answer_format_position: 'start', instruction_position: 'before', rounds: 1 };
    writeFileSync(
      manifestPath,
      JSON.stringify({
        seed: 3,
        test_mode: true,
        generators: [
          {
            datasets: [{ dataset: 'bbh:navigate' }],
            models: [model],
            optimizers: [{ name: 'meta_prompt', optimizer_params: { ...params, seed_instructions: 'generic' } }],
          },
        ],
      }),
    );
    const { manifest, tasks } = loadManifestFile(manifestPath);
    const checkpointDir = join(dir, 'ck-layout');
    const summary = await runBenchmark({ checkpointDir, manifest, tasks, maxAttempts: 1 });
    expect(summary.status).toBe('completed');
    const result = resultOf(storedTasks(checkpointDir)[0]);
    expect(result.final?.examples).toBe(5);
    // The baseline and the five generic seeds, then one round of three rewrites (one new, two duplicates).
    expect(result.candidates).toBe(9);

    const bad = join(dir, 'bad-layout.json');
    writeFileSync(bad, readFileSync(manifestPath, 'utf8').replace('"start"', '"middle"'));
    expect(() => loadManifestFile(bad)).toThrow(/answer_format_position must be one of end, start, got middle/);
  });

  it('does not retry permanent errors (a missing dataset file)', async () => {
    const model = writeBenchScript(join(dir, 'plain-model.json'));
    const manifest = manifestFromFlags({
      datasets: [`jsonl:${join(dir, 'missing.jsonl')}`],
      optimizers: ['meta_prompt'],
      models: [model],
      testMode: true,
    });
    const checkpointDir = join(dir, 'ck-permanent');
    const summary = await runBenchmark({ checkpointDir, manifest, tasks: expandManifest(manifest), maxAttempts: 3 });
    expect(summary.status).toBe('failed');
    const [task] = storedTasks(checkpointDir);
    expect(task?.attempts).toBe(1);
    expect(task?.error).toMatch(/^\[E_FILE_NOT_FOUND\]/);
  });
});
