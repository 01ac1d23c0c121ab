/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { type Target } from '../integration/harness.js';
import { consoleSession, screenshot, signIn } from './browser.js';

/** X3 in the admin console: the successor picker on a deletion preview, the two previews side by side, the request. */
const embeddedOnly = process.env.OFFBOARD_TARGET === 'stack' ? describe.skip : describe;

let target: Target;
let page: Page;
consoleSession((s) => ({ target, page } = s));

embeddedOnly('X3 successor in the console', () => {
  it("X3, X4: adminA picks Akira Abe as successor on a2's deletion preview, sees both previews side by side and what the archive would hold, and requests it with an export: a2's files are handed over", async () => {
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
    // X3: what the successor takes over, in words, with its rule
    const takes = page.locator('.successor-effects li');
    await expect.poll(() => takes.count()).toBe(3);
    expect((await takes.allInnerTexts()).every((x) => x.includes('X3'))).toBe(true);
    expect(await page.locator('.successor-effects li[data-kind="task-reassigned"]').count()).toBe(1);
    // X4: with the export ticked, what the archive would hold: a2's invoice (1,500 bytes), the one file still deleted
    await page.getByLabel(/Export the organization's files/).check();
    const estimate = page.locator('.export-estimate');
    await expect.poll(() => estimate.getAttribute('data-files')).toBe('1');
    expect(await estimate.getAttribute('data-bytes')).toBe('1500');
    expect(await estimate.innerText()).toContain('The archive will hold 1 files (1,500 bytes)');
    await screenshot(page, 'successor-preview');
    await page.getByRole('button', { name: 'Request with this successor' }).click();
    await expect.poll(() => page.locator('.status-line .status').innerText(), { timeout: 30_000 }).toBe('Succeeded');
    // X4: the Export phase first in the progress, verified; the download while ready
    const exportPhase = page.locator('.phase').first();
    expect(await exportPhase.locator('.phase-name').innerText()).toBe('Export the files (X4)');
    expect(await exportPhase.locator('.phase-count').innerText()).toBe('1 / 1 files · 1,500 / 1,500 bytes · verified against the manifest');
    await expect.poll(() => page.getByRole('link', { name: 'Download the archive' }).count()).toBe(1);
    await screenshot(page, 'successor-export-progress');
    const w = await target.export();
    expect(w.files.find((f: any) => f.id === 'f-a2-solo')).toMatchObject({ stored: true });
    expect(w.chats.find((c: any) => c.id === 'g-solo').members).toEqual([{ userId: 'a1', role: 'admin' }]);
  });
});
