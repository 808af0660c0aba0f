import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resultsFileName } from '../ts/optimizers/balanced/results.js';
import { buildReportData, loadResultsFolder, parseRunResult, reportRow, reportSeries } from '../ts/report/data.js';
import { escapeHtml, jsonForScript, scriptSafe } from '../ts/report/escape.js';
import { renderReportHtml } from '../ts/report/html.js';
import { formatSummaryTable } from '../ts/report/text-table.js';
import { makeRun, sweepRuns } from './report-runs.js';

describe('reportRow', () => {
  it('computes improvement, reduction and % reduction from the initial and final evaluations', () => {
    const [accuracyHeavy] = sweepRuns();
    expect(reportRow(accuracyHeavy!)).toEqual({
      label: 'acc 0.70 / eff 0.30',
      accuracyWeight: 0.7,
      efficiencyWeight: expect.closeTo(0.3, 12),
      initialAccuracy: 0.4,
      finalAccuracy: 0.8,
      accuracyImprovement: 0.4,
      initialTokens: 200,
      finalTokens: 180,
      tokenReduction: 20,
      tokenReductionPercent: 10,
      epochs: 3,
      reverts: 1,
    });
  });

  it('reports a negative reduction when answers got longer, and no percentage from 0 tokens', () => {
    const longer = makeRun({
      accuracyWeight: 1,
      initial: { accuracy: 0, tokens: 0 },
      epochs: [{ focus: 'accuracy', accuracy: 0.2, tokens: 30 }],
    });
    expect(reportRow(longer)).toMatchObject({ tokenReduction: -30, tokenReductionPercent: null, reverts: 0 });
  });

  it('a run with no epochs has equal initial and final numbers', () => {
    const idle = makeRun({ accuracyWeight: 0.5, initial: { accuracy: 0.6, tokens: 80 }, epochs: [] });
    expect(reportRow(idle)).toMatchObject({ accuracyImprovement: 0, tokenReduction: 0, tokenReductionPercent: 0 });
  });
});

describe('reportSeries and buildReportData', () => {
  it('curves start at the initial prompt and follow the per-epoch evaluations', () => {
    const [, efficiencyHeavy] = sweepRuns();
    expect(reportSeries(efficiencyHeavy!)).toEqual({
      label: 'acc 0.30 / eff 0.70',
      accuracy: [0.4, 0.4, 0.2, 0.2],
      tokens: [200, 120, 100, 100],
      focus: ['efficiency', 'efficiency', 'accuracy'],
      reverted: [false, false, false],
    });
  });

  it('orders configurations by accuracy weight', () => {
    const data = buildReportData(sweepRuns());
    expect(data.rows.map((row) => row.label)).toEqual([
      'acc 0.30 / eff 0.70',
      'acc 0.50 / eff 0.50',
      'acc 0.70 / eff 0.30',
    ]);
    expect(data.series.map((series) => series.label)).toEqual(data.rows.map((row) => row.label));
    expect(data.rows.map((row) => row.tokenReductionPercent)).toEqual([50, 30, 10]);
  });
});

describe('results files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-data-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads every balanced-*.json of a folder and ignores other files', async () => {
    for (const run of sweepRuns()) await writeFile(join(dir, resultsFileName(run.weights)), JSON.stringify(run));
    await writeFile(join(dir, 'notes.json'), '{"not": "a run"}');
    const runs = await loadResultsFolder(dir);
    expect(runs.map((run) => run.weights.accuracy).sort()).toEqual([0.3, 0.5, 0.7]);
  });

  it('refuses a missing folder, an empty one, bad JSON and other versions with coded errors', async () => {
    await expect(loadResultsFolder(join(dir, 'absent'))).rejects.toMatchObject({ code: 'E_FILE_NOT_FOUND' });
    await expect(loadResultsFolder(dir)).rejects.toMatchObject({ code: 'E_EMPTY_TABLE' });
    expect(() => parseRunResult('{', 'x.json')).toThrow('x.json is not valid JSON');
    const future = { ...makeRun({ accuracyWeight: 0.5, initial: { accuracy: 0, tokens: 1 }, epochs: [] }), version: 2 };
    expect(() => parseRunResult(JSON.stringify(future), 'y.json')).toThrow(
      /y\.json is not a balanced-optimizer results file \(v1\): version:/,
    );
  });
});

describe('escaping', () => {
  it('escapes markup for element content and attributes', () => {
    expect(escapeHtml(`<script>alert("x") & 'y'</script>`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;',
    );
  });

  it('keeps JSON in a script block inert and parseable', () => {
    const value = { label: '</script><script>alert(1)</script> <!-- & \u2028' };
    const encoded = jsonForScript(value);
    expect(encoded).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(encoded)).toEqual(value);
    expect(scriptSafe('a = "</script>"; b = "</SCRIPT >"')).toBe('a = "<\\/script>"; b = "<\\/SCRIPT >"');
  });
});

describe('renderReportHtml', () => {
  const hostile = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';

  it('writes the summary table rows as the seed did', async () => {
    const html = await renderReportHtml(buildReportData(sweepRuns()), { chartJsSource: '/* chart */' });
    expect(html).toContain(
      '<tr><td>acc 0.30 / eff 0.70</td><td>40.0%</td><td>20.0%</td><td><span class="worse">-20.0 pp</span></td>' +
        '<td>200.0</td><td>100.0</td><td><span class="better">+100.0</span></td><td>+50.0%</td><td>0 / 3</td></tr>',
    );
  });

  it('shows hostile prompts and task names only escaped', async () => {
    const runs = sweepRuns(hostile).map((run) => ({ ...run, task: `jsonl:${hostile}` }));
    const html = await renderReportHtml(buildReportData(runs), { chartJsSource: '/* chart */' });
    expect(html).not.toContain('<script>window.__xss');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;window.__xss = 1&lt;/script&gt;');
  });

  it('lets exactly its two inline scripts run, by hash', async () => {
    const html = await renderReportHtml(buildReportData(sweepRuns()), { chartJsSource: 'window.Chart = {};' });
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1] ?? '');
    expect(scripts).toHaveLength(2);
    const hashes = scripts.map((source) => `'sha256-${createHash('sha256').update(source).digest('base64')}'`);
    expect(html).toContain(`script-src ${hashes[0]} ${hashes[1]};`);
    expect(html).toContain("default-src 'none'");
  });
});

describe('formatSummaryTable', () => {
  it('aligns the terminal table: labels left, numbers right', () => {
    expect(formatSummaryTable(buildReportData(sweepRuns()).rows)).toBe(
      [
        'weights (acc/eff)  initial acc  final acc  improvement  initial tokens  final tokens  reduction  % reduction',
        '-----------------  -----------  ---------  -----------  --------------  ------------  ---------  -----------',
        '0.30/0.70                40.0%      20.0%     -20.0 pp           200.0         100.0     +100.0       +50.0%',
        '0.50/0.50                40.0%      60.0%     +20.0 pp           200.0         140.0      +60.0       +30.0%',
        '0.70/0.30                40.0%      80.0%     +40.0 pp           200.0         180.0      +20.0       +10.0%',
      ].join('\n'),
    );
  });
});
