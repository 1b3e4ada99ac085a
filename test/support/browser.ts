/**
 * A real browser for the web stories: Debian's Chromium (CHROMIUM_PATH, set by
 * `npm test`), driven by playwright-core. Flags as this closed machine needs:
 * headless, no sandbox as root, and nothing that phones home; each launch
 * gets a fresh profile from Playwright.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Screenshots the stories save, for people to look at (kept out of git). */
export const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');

export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function screenshotPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, `${name}.png`);
}
