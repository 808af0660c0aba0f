import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { OptNativeError } from '../errors.js';

export const CHROMIUM_PATH_ENV = 'OPT_NATIVE_CHROMIUM';
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless, offline, no first-run work: the report must render from the file alone. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The Chromium to drive: the option, else $OPT_NATIVE_CHROMIUM, else Debian's /usr/bin/chromium. */
export function resolveChromiumPath(option?: string): string {
  const chosen = option ?? process.env[CHROMIUM_PATH_ENV] ?? DEFAULT_CHROMIUM_PATH;
  if (!existsSync(chosen)) {
    throw new OptNativeError(
      'E_FILE_NOT_FOUND',
      `Chromium not found at ${chosen} (install Debian's chromium, or set ${CHROMIUM_PATH_ENV} or --chromium)`,
    );
  }
  return chosen;
}

export async function launchChromium(executablePath?: string): Promise<Browser> {
  const path = resolveChromiumPath(executablePath);
  // Loaded on demand: only PNG rendering needs playwright, not every import of the package.
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: path, args: CHROMIUM_ARGS });
}

export interface OpenedReport {
  readonly page: Page;
  /** Console errors and uncaught page errors, in order. */
  readonly errors: string[];
}

/** Opens a report file and waits until its charts are drawn (or fails with the page's errors). */
export async function openReport(browser: Browser, htmlPath: string, timeoutMs = 15_000): Promise<OpenedReport> {
  // 2x device pixels: Chart.js then draws the canvases at double resolution, for sharp PNGs.
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 2 });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(pathToFileURL(htmlPath).href);
  try {
    await page.waitForFunction(() => (globalThis as { __reportReady?: boolean }).__reportReady === true, undefined, {
      timeout: timeoutMs,
    });
  } catch (error) {
    throw new OptNativeError('E_INTERNAL', `the report's charts did not render: ${errors.join('; ') || 'timeout'}`, {
      cause: error,
    });
  }
  return { page, errors };
}
