/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWorld, openTarget, type Target } from '../integration/harness.js';
import { launchChromium, newPage, screenshot, signIn } from './browser.js';

/** X3 in the admin console: the successor picker on a deletion preview, the two previews side by side, the request. */
const embeddedOnly = process.env.OFFBOARD_TARGET === 'stack' ? describe.skip : describe;

let target: Target;
let browser: Browser;
let page: Page;
beforeAll(async () => {
  [target, browser] = await Promise.all([openTarget(), launchChromium()]);
  await target.load(demoWorld());
  ({ page } = await newPage(browser));
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await target?.close();
});

embeddedOnly('X3 successor in the console', () => {
  it('X3: adminA picks Akira Abe as successor on a2\'s deletion preview, sees both previews side by side, and requests it: a2\'s files are handed over', async () => {
    await signIn(page, target.url, 'adminA');
    await page.getByRole('link', { name: 'My organization' }).click();
    await page.getByRole('button', { name: 'Choose Asuka Aoki' }).click();
    await page.getByRole('button', { name: 'Preview deletion' }).click();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Deletion of Asuka Aoki');
    const picker = page.getByLabel('Successor');
    await expect.poll(() => picker.locator('option').count()).toBeGreaterThan(1);
    await picker.selectOption({ label: 'Akira Abe' });
    const columns = page.locator('.side-by-side > div');
    await expect.poll(() => columns.count()).toBe(2);
    const [without, withA1] = await columns.allInnerTexts();
    expect(without).toContain('2 files deleted, 1 handed over to Company A'); // f-a2-solo (F2), f-a2-dm-b1 (F1); f-a2-design
    expect(withA1).toContain('With Akira Abe as successor');
    expect(withA1).toContain('1 files deleted, 2 handed over to Company A');
    expect(withA1).toContain('2 joined by the successor');
    await screenshot(page, 'successor-preview');
    await page.getByRole('button', { name: 'Request with this successor' }).click();
    await expect.poll(() => page.locator('.status-line .status').innerText(), { timeout: 30_000 }).toBe('Succeeded');
    const w = await target.export();
    expect(w.files.find((f: any) => f.id === 'f-a2-solo')).toMatchObject({ stored: true });
    expect(w.chats.find((c: any) => c.id === 'g-solo').members).toEqual([{ userId: 'a1', role: 'admin' }]);
  });
});
