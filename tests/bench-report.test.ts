import { describe, expect, it } from 'vitest';
import { optimizerMeans, renderBenchReport } from '../ts/bench/report.js';
import { alignedTable, formatRunTable } from '../ts/bench/results.js';
import { backoffDelayMs, isRetryable } from '../ts/bench/retry.js';
import type { RunSummary, TaskRecord } from '../ts/bench/store.js';
import type { BenchTaskResult, BenchTaskSpec } from '../ts/bench/types.js';
import { OptNativeError } from '../ts/errors.js';
import { usableCandidates } from '../ts/optimizers/contract.js';

function spec(taskId: string, optimizer: BenchTaskSpec['optimizer']): BenchTaskSpec {
  return {
    taskId,
    datasetName: 'bbh:navigate',
    dataset: 'bbh:navigate',
    optimizer,
    model: 'openai:gpt-4o-mini',
    optimizerModel: 'openai:gpt-4o-mini',
    modelParameters: {},
    optimizerParams: {},
    optimizerPromptParams: {},
    metrics: [],
    testMode: true,
    seed: 42,
  };
}

function result(optimizer: BenchTaskSpec['optimizer'], score: number, calls: number, prompt: string): BenchTaskResult {
  return {
    taskId: 't',
    optimizer,
    dataset: 'bbh:navigate',
    model: 'openai:gpt-4o-mini',
    bestPrompt: prompt,
    initialScore: 0.5,
    score,
    final: { split: 'test', examples: 5, score: score - 0.1, metrics: { exact_match: score - 0.1 } },
    usage: { calls, promptTokens: 100 * calls, completionTokens: 10 * calls, cost: 0.001 * calls, cacheHits: 0 },
    wallTimeMs: 1500 * calls,
    stopReason: 'completed',
    candidates: 3,
  };
}

function task(taskId: string, optimizer: BenchTaskSpec['optimizer'], fields: Partial<TaskRecord>): TaskRecord {
  return {
    runId: 'run-1',
    taskId,
    position: 0,
    spec: spec(taskId, optimizer),
    status: 'succeeded',
    attempts: 1,
    result: null,
    error: null,
    startedAt: 0,
    finishedAt: 0,
    worker: 'local:1',
    ...fields,
  };
}

/** t000's held-out comparison: baseline 0.6, best 0.7 on the same test examples. */
const HELDOUT = {
  baseline: 0.6,
  best: 0.7,
  gain: 0.1,
  baselineInterval: [0.5, 0.7] as const,
  bestInterval: [0.6, 0.8] as const,
  gainInterval: [0.02, 0.18] as const,
  resamples: 2000,
  confidence: 0.95,
};

const TASKS: TaskRecord[] = [
  task('t000', 'meta_prompt', {
    result: {
      ...result('meta_prompt', 0.8, 2, '<script>alert(1)</script> & "quote"'),
      baselineFinal: { split: 'test', examples: 5, score: 0.6, metrics: { exact_match: 0.6 } },
      heldout: HELDOUT,
      usableCandidates: { proposed: 8, usable: 3, share: 3 / 8 },
    },
  }),
  task('t001', 'meta_prompt', { result: result('meta_prompt', 0.6, 4, 'Plain.') }),
  task('t002', 'few_shot', { status: 'failed', error: 'boom <img src=x>' }),
];

const SUMMARY: RunSummary = {
  runId: 'run-1',
  createdAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  engine: 'local',
  manifest: null,
  total: 3,
  counts: { pending: 0, running: 0, succeeded: 2, failed: 1 },
  status: 'failed',
};

describe('bench report', () => {
  it('averages finished tasks per optimizer', () => {
    const [mean] = optimizerMeans(TASKS);
    expect(optimizerMeans(TASKS)).toHaveLength(1);
    expect(mean?.optimizer).toBe('meta_prompt');
    expect(mean?.best).toBeCloseTo(0.7, 12);
    expect(mean?.final).toBeCloseTo(0.6, 12);
    // Only t000 has a held-out comparison: the mean gain is over the compared tasks.
    expect(mean?.gain).toBeCloseTo(0.1, 12);
    expect(mean?.compared).toBe(1);
    expect(mean?.calls).toBe(3);
    expect(mean?.tokens).toBe(330);
    expect(mean?.cost).toBeCloseTo(0.003, 12);
    expect(mean?.seconds).toBeCloseTo(4.5, 12);
  });

  it('is self-contained HTML with every run value escaped', () => {
    const html = renderBenchReport(SUMMARY, TASKS);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quote&quot;');
    expect(html).toContain('failed: boom &lt;img src=x&gt;');
    expect(html).not.toMatch(/<script|<img/);
    expect(html).toContain('<td>0.600</td><td>0.700</td><td>+0.100 [+0.020, +0.180]</td>');
    expect(html).toContain(
      '<td>0.700</td><td>0.600</td><td>0.100</td><td>3.0</td><td>330</td><td>$0.0030</td><td>4.5</td>',
    );
  });
});

describe('bench results table', () => {
  it('aligns columns, numbers to the right', () => {
    expect(
      alignedTable(
        ['name', 'n'],
        [
          ['a', '1'],
          ['bbb', '22'],
        ],
      ),
    ).toBe('name   n\n----  --\na      1\nbbb   22');
  });

  it('shows status, scores, tokens, cost and time per task', () => {
    const lines = formatRunTable(SUMMARY, TASKS).split('\n');
    expect(lines[0]).toBe('run run-1 (local): failed, 2/3 done, 1 failed');
    // Cells are two or more spaces apart; the gain cell holds single spaces.
    expect(lines[3]?.split(/\s{2,}/)).toEqual([
      't000',
      'succeeded',
      '0.500',
      '0.800',
      '0.600',
      '0.700',
      '+0.100 [+0.020, +0.180]',
      '3/8',
      '2',
      '220',
      '$0.0020',
      '3.0s',
    ]);
    expect(lines[4]?.split(/\s{2,}/).slice(4, 7)).toEqual(['-', '0.500', '-']);
    // A result stored before usable candidates were kept shows '-' there.
    expect(lines[4]?.split(/\s{2,}/).slice(7, 8)).toEqual(['-']);
    expect(lines[5]?.split(/\s+/)).toEqual(['t002', 'failed', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-']);
  });
});

describe('usable candidates', () => {
  it('counts the candidates of the optimizer model: scored or never refused, not refused without a score', () => {
    const history = [
      { iteration: 0, prompt: 'baseline', score: 0.5 },
      { iteration: 0, prompt: 'seed copied', score: null, rejectionReason: 'copies an exemplar' },
      { iteration: 1, prompt: 'a', score: 0.6 },
      { iteration: 1, prompt: 'b', score: null, rejectionReason: 'too long (900 chars, maximum 500)' },
      { iteration: 2, prompt: 'c', score: 0.4, rejectionReason: 'scored on a minibatch only' },
      { iteration: 2, prompt: 'd', score: null },
    ];
    expect(usableCandidates(history)).toEqual({ proposed: 4, usable: 3, share: 0.75 });
    expect(usableCandidates(history.slice(0, 2))).toEqual({ proposed: 0, usable: 0, share: null });
  });
});

describe('retry policy', () => {
  it('backs off exponentially and never retries permanent errors', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelayMs(1000, attempt))).toEqual([1000, 2000, 4000, 8000]);
    expect(isRetryable(new OptNativeError('E_PROVIDER', 'x'))).toBe(true);
    expect(isRetryable(new OptNativeError('E_CIRCUIT_OPEN', 'x'))).toBe(true);
    expect(isRetryable(new Error('socket hang up'))).toBe(true);
    expect(isRetryable(new OptNativeError('E_BAD_INPUT', 'x'))).toBe(false);
    expect(isRetryable(new OptNativeError('E_FILE_NOT_FOUND', 'x'))).toBe(false);
  });
});
