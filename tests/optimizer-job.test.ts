/**
 * runOptimizationJob, the one way opro, balanced and bench tasks run: the folder modes, the held-out step skipped for
 * an aborted run, warnings from a damaged log, and everything closed and released whatever happened.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { runOptimizationJob, type OptimizationJob } from '../ts/optimizers/engine/job.js';
import { EVENT_LOG_FILE } from '../ts/run/run-directory.js';

const tempDir = () => join(mkdtempSync(join(tmpdir(), 'optimizer-job-')), 'run');
const model = new ScriptedLanguageModel({ respond: () => 'ok' });

type Result = { stopReason: string; bestPrompt: string };

function job(dir: string, overrides: Partial<OptimizationJob<Result, string, string>> = {}) {
  const calls: string[] = [];
  const spec: OptimizationJob<Result, string, string> = {
    dir,
    folder: 'create',
    onWarning: (message) => calls.push(`warning: ${message}`),
    onOpen: (runDir) => {
      calls.push('open');
      runDir?.appendEvent({ type: 'options' });
    },
    models: async (cache) => {
      calls.push(`models (cache ${cache ? 'open' : 'none'})`);
      return { model, optimizerModel: model };
    },
    optimize: async ({ runDir }) => {
      calls.push('optimize');
      await runDir?.runStep('step/1', async () => 1);
      return { stopReason: 'completed', bestPrompt: 'P' };
    },
    heldout: async (_context, result) => {
      calls.push(`heldout ${result.bestPrompt}`);
      return 'H';
    },
    finish: (_context, result, heldout) => {
      calls.push(`finish ${heldout ?? '-'}`);
      return `${result.bestPrompt}/${heldout ?? '-'}`;
    },
    release: async () => {
      calls.push('release');
    },
    ...overrides,
  };
  return { spec, calls };
}

describe('runOptimizationJob', () => {
  it('opens, runs, scores held-out, finishes and releases, in that order; a resume replays the log', async () => {
    const dir = tempDir();
    const first = job(dir);
    expect(await runOptimizationJob(first.spec)).toBe('P/H');
    expect(first.calls).toEqual(['open', 'models (cache open)', 'optimize', 'heldout P', 'finish H', 'release']);
    expect(readdirSync(dir).sort()).toEqual(['cache.sqlite', EVENT_LOG_FILE]);
    // A second `create` is refused before anything runs; `resume` reopens the log.
    const again = job(dir);
    await expect(runOptimizationJob(again.spec)).rejects.toThrow(/already holds a run/);
    expect(again.calls).toEqual(['release']);
    const resumed = job(dir, { folder: 'resume' });
    expect(await runOptimizationJob(resumed.spec)).toBe('P/H');
    expect(readFileSync(join(dir, EVENT_LOG_FILE), 'utf8').match(/"step"/g)).toHaveLength(1);
  });

  it('skips the held-out step for an aborted run, and releases after a failure', async () => {
    const aborted = job(tempDir(), {
      optimize: async () => ({ stopReason: 'aborted', bestPrompt: 'P' }),
    });
    expect(await runOptimizationJob(aborted.spec)).toBe('P/-');
    expect(aborted.calls).toEqual(['open', 'models (cache open)', 'finish -', 'release']);
    const failing = job(tempDir(), {
      optimize: async () => {
        throw new OptNativeError('E_CIRCUIT_OPEN', 'nothing could be evaluated');
      },
    });
    await expect(runOptimizationJob(failing.spec)).rejects.toThrow('nothing could be evaluated');
    expect(failing.calls).toEqual(['open', 'models (cache open)', 'release']);
  });

  it('cache-only keeps just the cache (or nothing with the cache off); damaged log lines are reported', async () => {
    const cacheOnly = tempDir();
    const onlyCache = job(cacheOnly, { folder: 'cache-only' });
    expect(await runOptimizationJob(onlyCache.spec)).toBe('P/H');
    expect(readdirSync(cacheOnly)).toEqual(['cache.sqlite']);
    const nothing = tempDir();
    await runOptimizationJob(job(nothing, { folder: 'cache-only', cache: false }).spec);
    expect(existsSync(nothing)).toBe(false);

    const damaged = tempDir();
    await runOptimizationJob(job(damaged).spec);
    const log = join(damaged, EVENT_LOG_FILE);
    const [options, step] = readFileSync(log, 'utf8').trimEnd().split('\n');
    writeFileSync(log, `${options}\n{not json\n${step}\n`);
    const reopened = job(damaged, { folder: 'open-or-create' });
    await runOptimizationJob(reopened.spec);
    expect(reopened.calls[0]).toBe(
      `warning: ${log}: skipped 1 damaged line(s) (line 2); kept the 2 valid records around them`,
    );
  });
});
