import type { Command } from 'commander';
import { OptNativeError } from '../../errors.js';
import { resolveChromiumPath } from '../../report/browser.js';
import { writeReport } from '../../report/index.js';

interface ReportCliOptions {
  results: string;
  output: string;
  title?: string;
  png: boolean;
  chromium?: string;
}

/** Whether PNGs can be made; without a browser the HTML is still written, with a warning. */
function chromiumOrWarning(options: ReportCliOptions): string | undefined {
  if (!options.png) return undefined;
  try {
    return resolveChromiumPath(options.chromium);
  } catch (error) {
    if (!(error instanceof OptNativeError)) throw error;
    process.stderr.write(`warning: PNG charts skipped: ${error.message}\n`);
    return undefined;
  }
}

/** `opt-native report`: a self-contained HTML report (table + interactive charts) and PNG charts beside it. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write an HTML report (summary table, charts) of a balanced/experiments results folder')
    .requiredOption('--results <dir>', 'folder with balanced-*.json results files')
    .option('--output <file>', 'HTML file to write', 'report.html')
    .option('--title <text>', 'report title')
    .option('--no-png', 'skip the PNG charts (they need a headless Chromium)')
    .option(
      '--chromium <path>',
      'Chromium binary for the PNG charts (default: $OPT_NATIVE_CHROMIUM or /usr/bin/chromium)',
    )
    .action(async (options: ReportCliOptions) => {
      const chromiumPath = chromiumOrWarning(options);
      const written = await writeReport({
        resultsDir: options.results,
        outputPath: options.output,
        title: options.title,
        png: chromiumPath !== undefined,
        chromiumPath,
      });
      process.stdout.write(`report: ${written.htmlPath} (${written.configurations} configurations)\n`);
      for (const file of written.pngFiles) process.stdout.write(`chart: ${file}\n`);
      for (const message of written.consoleErrors) {
        process.stderr.write(`warning: the report page logged an error: ${message}\n`);
      }
    });
}
