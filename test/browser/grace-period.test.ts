/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { type Target } from '../integration/harness.js';
import { consoleSession, screenshot, seriousViolations, signIn } from './browser.js';

/**
 * D7 beyond, in the console: an administrator sets the organization's grace period, deletes a member, sees the
 * scheduled deletion with its purge date and countdown, undoes it; then deletes again and, the embedded stack's clock
 * moved past the purge date, follows the purge to `succeeded`. One stack and one browser, tests in order.
 */
const embeddedOnly = process.env.OFFBOARD_TARGET === 'stack' ? describe.skip : describe;

let target: Target;
let page: Page;
consoleSession((s) => ({ target, page } = s));

const status = (p: Page) => p.locator('.status-line .status').innerText();
const a2Status = async () => (await target.export()).users.find((u: any) => u.id === 'a2').status;

async function deleteAsukaFromConsole(p: Page) {
  await p.getByRole('link', { name: 'My organization' }).click();
  await p.getByRole('button', { name: 'Choose Asuka Aoki' }).click();
  await p.getByRole('button', { name: 'Preview deletion' }).click();
  await expect.poll(() => p.locator('h1').innerText()).toBe('Deletion of Asuka Aoki');
  // the preview says when the purge would run and that nothing is removed before it
  await expect
    .poll(() => p.locator('main').innerText())
    .toMatch(/Grace period of 7 days \(D7\): the user is suspended at once and nothing below is removed before/);
  await p.getByRole('button', { name: 'Delete this user' }).click();
  // the confirmation says the user is suspended now and when the changes are applied, with their number
  expect(await p.getByRole('alertdialog').locator('#confirm-question').innerText()).toMatch(
    /^Delete Asuka Aoki\? The user is suspended now; \d+ changes are applied on .+ unless the deletion is undone before then\.$/,
  );
  await p.getByRole('button', { name: 'Delete now' }).click();
  await p.locator('.status-line').waitFor();
  await expect.poll(() => status(p), { timeout: 30_000 }).toBe('Scheduled');
}

embeddedOnly('grace period in the console (D7)', () => {
  it('D7: adminA sets a 7-day grace period; a value outside 0–30 is refused naming the field, nothing changed', async () => {
    await signIn(page, target.url, 'adminA');
    await page.getByRole('link', { name: 'My organization' }).click();
    await expect.poll(() => page.locator('[role="status"]').allInnerTexts()).toContain('Deletions take effect at once.');
    await page.getByLabel('Days (0–30)').fill('31');
    await page.getByRole('button', { name: 'Save grace period' }).click();
    // said at the field, in words (the API names the field it refused)
    await expect.poll(() => page.locator('#grace-days-error').innerText()).toBe('Enter a whole number of days from 0 to 30.');
    expect((await target.call('GET', '/organizations/A/settings', { as: 'adminA' })).body.deletionGraceDays).toBe(0);

    await page.getByLabel('Days (0–30)').fill('7');
    await page.getByRole('button', { name: 'Save grace period' }).click();
    await expect
      .poll(() => page.locator('[role="status"]').allInnerTexts())
      .toContain('Deletions wait 7 days before anything is removed for good.');
    expect((await target.call('GET', '/organizations/A/settings', { as: 'adminA' })).body.deletionGraceDays).toBe(7);
  });

  it('D7: deleting a2 suspends it and shows the scheduled deletion with its purge date and countdown; undo makes a2 active again', async () => {
    const before = await target.export();
    await deleteAsukaFromConsole(page);
    const text = await page.locator('main').innerText();
    expect(text).toMatch(/Nothing is removed before .+; until then the deletion can be undone \(D7\)\./);
    // a 7-day period counts down from "7 days" (rounded up), not "6 days" at once
    expect(text).toContain('Removed for good in 7 days.');
    // waiting is not running: no "Updates live while it runs"
    expect(text).not.toContain('Updates live while it runs.');
    expect(await a2Status()).toBe('suspended');
    await screenshot(page, 'scheduled-deletion');
    expect(await seriousViolations(page)).toEqual([]);
    // the deletions list shows it scheduled, with its purge date
    await page.getByRole('link', { name: 'Requests and approvals' }).click();
    const listed = page.locator('section[aria-labelledby="deletions-title"] li.op');
    await expect.poll(() => listed.count()).toBe(1);
    expect(await listed.innerText()).toMatch(
      /Asuka Aoki[\s\S]*Scheduled[\s\S]*Nothing is removed before .+; until then the deletion can be undone \(D7\)\./,
    );
    await listed.getByRole('link').first().click();
    await expect.poll(() => status(page)).toBe('Scheduled');

    await page.getByRole('button', { name: 'Undo deletion' }).click();
    await expect.poll(() => status(page), { timeout: 30_000 }).toBe('Cancelled');
    expect(await a2Status()).toBe('active');
    // after Undo the title is the user's name, not "(suspended)"; the audit trail words each event, by name
    expect(await page.locator('h1').innerText()).toBe('Deletion of Asuka Aoki');
    await expect.poll(() => page.locator('.timeline').innerText()).toContain('Deletion undone');
    const audit = await page.locator('.timeline').innerText();
    expect(audit).toContain('User suspended for the grace period');
    expect(audit).toContain('by Ayumi Admin');
    expect(audit).not.toContain('adminA');
    for (const event of await page.locator('.timeline .event').allInnerTexts()) expect(event).not.toMatch(/^[a-z-]+$/); // never a raw event name
    // everything as before, but the organization's setting changed in the first test is kept and audit is not exported
    expect(JSON.stringify(await target.export())).toBe(JSON.stringify(before));
  });

  it('D7: deleted again, the clock moved past the purge date: the purge runs and the progress reaches succeeded', async () => {
    await deleteAsukaFromConsole(page);
    expect(await page.getByRole('button', { name: 'Undo deletion' }).count()).toBe(1);
    await target.clock({ advanceMs: 7 * 86_400_000 + 60_000 });
    await expect.poll(() => status(page), { timeout: 30_000 }).toBe('Succeeded');
    expect(await page.locator('.phase.phase-done').count()).toBe(await page.locator('.phase').count());
    expect(await page.getByRole('button', { name: 'Undo deletion' }).count()).toBe(0);
    expect(await a2Status()).toBe('deleted');
  });
});
