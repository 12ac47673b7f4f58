import { existsSync, mkdirSync } from 'node:fs';
import type { Test } from 'tap';
import { chromium, type Browser, type Page } from 'playwright-core';
import { root } from './processes.js';

/** Debian's chromium (package `chromium`), which `.ci/run` installs when missing. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where the browser tests leave their screenshots (tap's own output folder, never committed). */
export const SCREENSHOTS = `${root}.tap/screenshots/`;

/** The one-line reason to skip a browser test here, or undefined when Chromium is installed. */
export const noBrowser = (): string | undefined => (existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM}: install Debian's package "chromium" (apt-get install chromium) to run the browser tests`);

/** Headless Chromium with the flags that work on a closed network (no background fetches), closed after the test. */
export async function launchBrowser(t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  return browser;
}

/** Everything that went wrong on a page: console errors, uncaught exceptions, failed or refused requests. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return problems;
}

/** Saves a screenshot (the full page unless `fullPage` is false) under .tap/screenshots/ and says where. */
export async function screenshot(t: Test, page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}${name}.png`;
  await page.screenshot({ path, fullPage });
  t.comment(`screenshot: ${path}`);
  return path;
}
