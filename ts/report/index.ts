import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { buildReportData, loadResultsFolder } from './data.js';
import { renderReportHtml } from './html.js';
import { renderChartPngs } from './png.js';

export { buildReportData, loadResultsFolder, parseRunResult, reportRow, reportSeries } from './data.js';
export type { ReportData, ReportRow, ReportSeries } from './data.js';
export { renderReportHtml, CHART_IDS } from './html.js';
export { renderChartPngs } from './png.js';

export interface WriteReportOptions {
  readonly resultsDir: string;
  readonly outputPath: string;
  readonly title?: string;
  /** Also screenshot the charts into PNGs beside the HTML (needs Chromium). */
  readonly png?: boolean;
  readonly chromiumPath?: string;
}

export interface WrittenReport {
  readonly htmlPath: string;
  readonly pngFiles: string[];
  readonly consoleErrors: string[];
  readonly configurations: number;
}

/** Reads a results folder, writes the HTML report and (by default) `<report name>-<chart>.png` beside it. */
export async function writeReport(options: WriteReportOptions): Promise<WrittenReport> {
  const runs = await loadResultsFolder(resolve(options.resultsDir));
  const htmlPath = resolve(options.outputPath);
  await mkdir(dirname(htmlPath), { recursive: true });
  await writeFile(htmlPath, await renderReportHtml(buildReportData(runs), { title: options.title }), 'utf8');
  if (options.png === false) return { htmlPath, pngFiles: [], consoleErrors: [], configurations: runs.length };
  const prefix = `${basename(htmlPath, extname(htmlPath))}-`;
  const { files, consoleErrors } = await renderChartPngs(htmlPath, dirname(htmlPath), {
    chromiumPath: options.chromiumPath,
    prefix,
  });
  return { htmlPath, pngFiles: files, consoleErrors, configurations: runs.length };
}
