/// <reference lib="dom" />
// Callbacks given to page.evaluate run in the browser.
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DICTIONARIES } from '../../console/src/i18n/index.js';
import type { Target } from '../integration/harness.js';
import { consoleSession, mainText, newPage, screenshot, seriousViolations, signIn } from './browser.js';

/** Keyboard-only use, axe-core on each main screen, and every language rendered without a missing key. */
const embeddedOnly = process.env.OFFBOARD_TARGET === 'stack' ? describe.skip : describe;

let target: Target;
let browser: Browser;
consoleSession(({ target: t, browser: b }) => ([target, browser] = [t, b]), {
  // one request to list (Requests and approvals) and follow (progress): a2 → Company C, awaiting approval
  ready: async (t) => {
    const requested = await t.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a2', destinationOrganizationId: 'C' } });
    if (requested.status !== 201) throw new Error(`POST /transfers: ${requested.status} ${JSON.stringify(requested.body)}`);
  },
});

/** Presses Tab (at most 80 times) until the focused element matches `selector` (and has the text `text`). */
async function tabTo(page: Page, selector: string, text?: string): Promise<void> {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const reached = await page.evaluate(
      ([s, x]) => !!document.activeElement?.matches(s!) && (x === undefined || document.activeElement.textContent?.trim() === x),
      [selector, text] as const,
    );
    if (reached) return;
  }
  throw new Error(`Tab never reached ${selector} ${text ?? ''}`);
}

/** The focused element shows a visible focus indicator (an outline or a box shadow). */
const focusVisible = (page: Page) =>
  page.evaluate(() => {
    const s = getComputedStyle(document.activeElement!);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  });

const h1 = (page: Page) => page.locator('h1').innerText();

embeddedOnly('keyboard and accessibility', () => {
  it('keyboard only: sign in, choose a member, pick the destination, preview and request the transfer', async () => {
    const { page, context } = await newPage(browser);
    await page.goto(`${target.url}/`);
    await tabTo(page, 'button[data-user="adminA"]');
    expect(await focusVisible(page)).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => h1(page)).toBe('My organization: Company A');
    await tabTo(page, 'button', 'Choose Akira Abe');
    expect(await focusVisible(page)).toBe(true);
    await page.keyboard.press('Enter');
    // the chosen member's panel takes the focus; the destination is chosen with the arrow keys
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('chosen-title');
    await tabTo(page, 'select#destination');
    for (let i = 0; i < 5 && (await page.locator('select#destination').inputValue()) !== 'C'; i++) await page.keyboard.press('ArrowDown');
    expect(await page.locator('select#destination').inputValue()).toBe('C');
    await tabTo(page, 'button', 'Preview transfer');
    await page.keyboard.press('Enter');
    await expect.poll(() => h1(page)).toBe('Transfer of Akira Abe to Company C');
    await expect.poll(() => page.locator('li.effect').count()).toBe(13);
    await tabTo(page, 'button', 'Request this transfer');
    await page.keyboard.press('Enter');
    // the confirmation takes the focus; Tab reaches its button
    await tabTo(page, 'button', 'Send the request');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.status-line .status').innerText()).toBe('Awaiting approval');
    await context.close();
  });

  it('axe-core: no serious or critical violation on sign-in, organization, preview, requests, progress and billing runs', async () => {
    const { page, context } = await newPage(browser);
    const found: Record<string, unknown[]> = {};
    const check = async (screen: string) => (found[screen] = await seriousViolations(page));

    await page.goto(`${target.url}/`);
    await page.locator('button[data-user="adminA"]').waitFor();
    await check('sign-in');
    await screenshot(page, 'sign-in');
    await signIn(page, target.url, 'adminA');
    await page.getByRole('button', { name: 'Choose Arata Ando' }).click();
    await check('organization');
    await screenshot(page, 'organization');
    await page.getByRole('button', { name: 'Preview deletion' }).click();
    await expect.poll(() => page.locator('li.effect').count()).toBeGreaterThan(0);
    await check('preview');
    await page.getByRole('link', { name: 'Requests and approvals' }).click();
    await page.locator('section[aria-labelledby="outgoing-title"]').waitFor();
    await check('requests');
    await page.locator('section[aria-labelledby="outgoing-title"] a.op-title').first().click();
    await page.locator('.status-line .status').waitFor();
    await check('progress');
    await signIn(page, target.url, 'platform-operator');
    await page.locator('h1').waitFor();
    await check('billing-runs');
    expect(found).toEqual({ 'sign-in': [], organization: [], preview: [], requests: [], progress: [], 'billing-runs': [] });
    await context.close();
  });
});

/** Raw dictionary keys or unfilled values that would show a missing translation. */
const MISSING = /\b(kind|status|phase|phaseStatus|audit|code|why|plan)_[A-Za-z-]+\b|undefined|\[object|NaN/;

embeddedOnly('languages', () => {
  for (const [locale, lang] of [
    ['en-GB', 'en'],
    ['ja-JP', 'ja'],
    ['vi-VN', 'vi'],
  ] as const) {
    it(`${lang}: chosen from the browser's languages, every main screen renders without a missing key`, async () => {
      const t = DICTIONARIES[lang];
      const { page, context } = await newPage(browser, locale);
      await page.goto(`${target.url}/`);
      await expect.poll(() => h1(page)).toBe(t.signInTitle);
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      await signIn(page, target.url, 'adminA');
      await expect.poll(() => h1(page)).toContain(t.orgTitle);
      expect(await mainText(page)).not.toMatch(MISSING);
      await page.getByRole('button', { name: t.memberChoose('Arata Ando') }).click();
      await page.getByRole('button', { name: t.previewDeletion }).click();
      await expect.poll(() => h1(page)).toBe(t.previewTitleDeletion('Arata Ando'));
      await expect.poll(() => page.locator('li.effect').count()).toBeGreaterThan(0);
      const preview = await mainText(page);
      expect(preview).not.toMatch(MISSING);
      expect(preview).toContain(t['kind_user-deleted']);
      if (lang !== 'en') await screenshot(page, `preview-${lang}`);
      await page.getByRole('link', { name: t.navRequests }).click();
      await expect.poll(() => h1(page)).toBe(t.requestsTitle);
      expect(await mainText(page)).not.toMatch(MISSING);
      await context.close();
    });
  }

  it('the language can be switched and is remembered; dates follow it', async () => {
    const { page, context } = await newPage(browser, 'en-US');
    await page.goto(`${target.url}/`);
    await page.getByLabel('Language').selectOption('vi');
    await expect.poll(() => h1(page)).toBe(DICTIONARIES.vi.signInTitle);
    await page.reload();
    await expect.poll(() => h1(page)).toBe(DICTIONARIES.vi.signInTitle);
    await page.locator('button[data-user="adminA"]').click();
    await page.getByRole('link', { name: DICTIONARIES.vi.navRequests }).click();
    await expect.poll(() => h1(page)).toBe(DICTIONARIES.vi.requestsTitle);
    const date = await page.locator('.op-meta').first().innerText();
    // Vietnamese dates name the month "tháng"
    expect(date).toMatch(/thg|tháng/);
    await context.close();
  });
});
