import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHART_IDS } from './html.js';
import { launchChromium, openReport } from './browser.js';

/** `chart-accuracy` → `<prefix>accuracy.png`. */
export function pngFileName(chartId: string, prefix: string): string {
  return `${prefix}${chartId.replace(/^chart-/, '')}.png`;
}

/**
 * Saves each chart canvas (drawn at 2x for sharp images) of a rendered report into PNG files beside it, for readers who do not open HTML.
 * Returns the written paths and any console errors the page logged.
 */
export async function renderChartPngs(
  htmlPath: string,
  outputDir: string,
  options: { chromiumPath?: string; prefix?: string } = {},
): Promise<{ files: string[]; consoleErrors: string[] }> {
  const browser = await launchChromium(options.chromiumPath);
  try {
    const { page, errors } = await openReport(browser, htmlPath);
    const files: string[] = [];
    for (const id of CHART_IDS) {
      const path = join(outputDir, pngFileName(id, options.prefix ?? ''));
      // The canvas's own pixels: exact size, no page layout rounding (a screenshot can be 1px off).
      const dataUrl = await page.evaluate(
        (canvasId) =>
          (
            globalThis as unknown as {
              document: { getElementById(id: string): { toDataURL(type: string): string } };
            }
          ).document
            .getElementById(canvasId)
            .toDataURL('image/png'),
        id,
      );
      await writeFile(path, Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'));
      files.push(path);
    }
    return { files, consoleErrors: errors };
  } finally {
    await browser.close();
  }
}
