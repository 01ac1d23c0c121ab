/// <reference lib="dom" />
// Callbacks given to page.evaluate run in the browser.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import chromium from '@sparticuz/chromium';
import { chromium as playwright, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { demoWorld, openTarget, type Target } from '../integration/harness.js';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';

/**
 * A real Chromium for the browser tests: the binary shipped inside the npm package `@sparticuz/chromium` (unpacked
 * to /tmp on first use), so `npm ci` is all a machine needs; `OFFBOARD_CHROMIUM` names another binary instead
 * (for example Debian's /usr/bin/chromium).
 */
export async function launchChromium(): Promise<Browser> {
  const fromEnv = process.env.OFFBOARD_CHROMIUM;
  return playwright.launch({
    executablePath: fromEnv ?? (await chromium.executablePath()),
    // not the package's serverless flags (--single-process ends the browser with its first closed context)
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    headless: true,
  });
}

export const SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots');

/** A browser context reading in `locale` (navigator.languages follows it), 1280 px wide. */
export async function newPage(browser: Browser, locale = 'en-US'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Tokyo' });
  const page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  return { context, page };
}

/** Local sign-in: the console's own sign-in page, choosing the user by id. */
export async function signIn(page: Page, url: string, userId: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await page.locator(`button[data-user="${userId}"]`).click();
  await expect.poll(() => page.locator('.who').count()).toBe(1);
}

/** On "My organization", chooses the member named `name` (its panel opens, to preview a transfer or a deletion). */
export async function chooseMember(p: Page, name: string): Promise<void> {
  await p.getByRole('link', { name: 'My organization' }).click();
  await p.getByRole('button', { name: `Choose ${name}` }).click();
  await expect.poll(() => p.locator('#chosen-title').innerText()).toContain(name);
}

/**
 * A screenshot for docs/console.md (docs/screenshots/): the first screenful, or the whole page (`fullPage`) when it is short. Taken only when
 * UPDATE_SCREENSHOTS=1, so a test run leaves the tracked pictures (and the clone) as they were.
 */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core on the page as it is: the violations of impact serious or critical (WCAG 2 A and AA rules). */
export async function seriousViolations(page: Page): Promise<{ id: string; impact: string; help: string; targets: string[] }[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const axe = (window as any).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return result.violations
      .filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
      .map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n: any) => n.target.join(' ')) }));
  });
}

/** The visible text of the page's main region. */
export const mainText = (page: Page) => page.locator('main').innerText();

export interface ConsoleSession {
  target: Target;
  browser: Browser;
  page: Page;
}

/**
 * One stack and one Chromium for a test file, the stack loaded with `world` (the demo world), `ready` run on them
 * (what the file's tests start from), and one page; all closed after the file, `done` first. `set` receives them
 * once ready (the file's tests run in order on them).
 */
export function consoleSession(
  set: (session: ConsoleSession) => void,
  options: { world?: () => unknown; ready?: (target: Target) => Promise<void>; done?: () => void; timeout?: number } = {},
): void {
  let started: Partial<ConsoleSession> = {};
  beforeAll(async () => {
    const [target, browser] = await Promise.all([openTarget(), launchChromium()]);
    started = { target, browser };
    await target.load((options.world ?? demoWorld)());
    await options.ready?.(target);
    const { page } = await newPage(browser);
    set({ target, browser, page });
  }, options.timeout ?? 180_000);
  afterAll(async () => {
    options.done?.();
    await started.browser?.close();
    await started.target?.close();
  });
}

/** Signs out whoever is signed in, signs `userId` in and opens "Requests and approvals": its `count` incoming requests. */
export async function incomingRequests(page: Page, url: string, userId: string, count = 1): Promise<Locator> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, url, userId);
  await page.getByRole('link', { name: 'Requests and approvals' }).click();
  const incoming = page.locator('section[aria-labelledby="incoming-title"] li.op');
  await expect.poll(() => incoming.count()).toBe(count);
  return incoming;
}
