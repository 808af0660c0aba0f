/**
 * The report in a real headless Chromium (Debian's /usr/bin/chromium through playwright-core): charts render without
 * console errors, a hostile prompt shows as text and never runs, and the PNG charts are real images of the canvases.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRunResult } from '../ts/optimizers/balanced/experiments.js';
import { launchChromium, openReport, resolveChromiumPath } from '../ts/report/browser.js';
import { buildReportData } from '../ts/report/data.js';
import { renderReportHtml } from '../ts/report/html.js';
import { writeReport } from '../ts/report/index.js';
import { sweepRuns } from './report-runs.js';

const HOSTILE_PROMPT = 'Solve it. <script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';

let chromiumPath: string | undefined;
try {
  chromiumPath = resolveChromiumPath();
} catch {
  chromiumPath = undefined;
}
// CI installs Chromium (.ci/run), so there a missing browser fails the suite instead of skipping it.
const skip = chromiumPath === undefined && !process.env.CI;

describe.skipIf(skip)('the HTML report in headless Chromium', () => {
  let dir: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-browser-'));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('draws the three charts with every configuration and logs no errors', async () => {
    const htmlPath = join(dir, 'plain.html');
    await writeFile(htmlPath, await renderReportHtml(buildReportData(sweepRuns())));
    const { page, errors } = await openReport(browser, htmlPath);
    const charts = await page.evaluate(() => {
      const chartApi = (globalThis as unknown as { Chart: { getChart(canvas: unknown): unknown } }).Chart;
      const doc = (globalThis as unknown as { document: { querySelectorAll(selector: string): ArrayLike<unknown> } })
        .document;
      return Array.from(doc.querySelectorAll('canvas')).map((canvas) => {
        const chart = chartApi.getChart(canvas) as { data: { datasets: { label: string; data: unknown[] }[] } };
        const element = canvas as {
          id: string;
          width: number;
          height: number;
          getContext(kind: '2d'): {
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        };
        const pixels = element.getContext('2d').getImageData(0, 0, element.width, element.height).data;
        let opaque = 0;
        let inked = 0;
        let firstSeriesBlue = 0;
        for (let index = 0; index < pixels.length; index += 4) {
          const [red, green, blue, alpha] = [pixels[index], pixels[index + 1], pixels[index + 2], pixels[index + 3]];
          if (alpha === 255) opaque += 1;
          if (red !== 255 || green !== 255 || blue !== 255) inked += 1;
          // #2563eb, the first configuration's colour (anti-aliasing blends edges, so a small tolerance).
          if (
            Math.abs((red ?? 0) - 0x25) < 12 &&
            Math.abs((green ?? 0) - 0x63) < 12 &&
            Math.abs((blue ?? 0) - 0xeb) < 12
          ) {
            firstSeriesBlue += 1;
          }
        }
        return {
          id: element.id,
          labels: chart.data.datasets.map((dataset) => dataset.label),
          points: chart.data.datasets.map((dataset) => dataset.data.length),
          opaque,
          inked,
          firstSeriesBlue,
        };
      });
    });
    expect(errors).toEqual([]);
    expect(charts.map((chart) => chart.id)).toEqual(['chart-accuracy', 'chart-tokens', 'chart-tradeoff']);
    for (const chart of charts) {
      expect(chart.labels).toEqual(['acc 0.30 / eff 0.70', 'acc 0.50 / eff 0.50', 'acc 0.70 / eff 0.30']);
      // Initial prompt + 3 epochs per configuration.
      expect(chart.points).toEqual([4, 4, 4]);
      // The white background (drawn with the chart) covers every pixel; an undrawn chart stays transparent.
      expect(chart.opaque).toBe(2000 * 840);
      // Axes, grid, labels and lines: far more than stray pixels, and the first series' line is really drawn.
      expect(chart.inked).toBeGreaterThan(20_000);
      expect(chart.firstSeriesBlue).toBeGreaterThan(1_000);
    }
    await page.close();
  });

  it('shows a prompt holding <script> as text and never runs it', async () => {
    const htmlPath = join(dir, 'hostile.html');
    const runs = sweepRuns(HOSTILE_PROMPT);
    await writeFile(htmlPath, await renderReportHtml(buildReportData(runs)));
    const { page, errors } = await openReport(browser, htmlPath);
    const seen = await page.evaluate(() => {
      const global = globalThis as unknown as {
        __xss?: number;
        document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> };
      };
      return {
        xss: global.__xss ?? null,
        finalPrompts: Array.from(global.document.querySelectorAll('pre.final-prompt')).map((pre) => pre.textContent),
        injectedImages: global.document.querySelectorAll('img').length,
        scripts: global.document.querySelectorAll('script').length,
      };
    });
    expect(errors).toEqual([]);
    expect(seen.xss).toBeNull();
    expect(seen.injectedImages).toBe(0);
    // The data block, Chart.js and the chart code: nothing the prompt brought in.
    expect(seen.scripts).toBe(3);
    expect(seen.finalPrompts).toEqual(buildReportData(runs).runs.map((run) => run.finalPrompt));
    expect(seen.finalPrompts[0]).toContain('<script>window.__xss = 1</script>');
    await page.close();
  });

  it('writeReport writes the HTML and one PNG per chart, at twice the canvas size', async () => {
    const resultsDir = join(dir, 'results');
    for (const run of sweepRuns()) await writeRunResult(resultsDir, run);
    const written = await writeReport({ resultsDir, outputPath: join(dir, 'out', 'report.html') });
    expect(written.consoleErrors).toEqual([]);
    expect(written.pngFiles.map((file) => file.slice(join(dir, 'out').length + 1))).toEqual([
      'report-accuracy.png',
      'report-tokens.png',
      'report-tradeoff.png',
    ]);
    for (const file of written.pngFiles) {
      const png = await readFile(file);
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      // IHDR: width and height, big-endian, at bytes 16..23.
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([2000, 840]);
      expect(png.length).toBeGreaterThan(10_000);
    }
    expect(existsSync(written.htmlPath)).toBe(true);
  });
});
