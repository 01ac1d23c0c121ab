/// <reference lib="dom" />
// Callbacks given to page.evaluate run in the browser.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { billingEvent, type Target } from '../integration/harness.js';
import { chooseMember, consoleSession, incomingRequests, screenshot, signIn } from './browser.js';

/**
 * The admin console's main flows in a real Chromium against the embedded stack, on the demo world, in order:
 * each test continues from the world the one before left (one stack and one browser for the file).
 */
const embeddedOnly = process.env.OFFBOARD_TARGET === 'stack' ? describe.skip : describe;

let target: Target;
let page: Page;
consoleSession((s) => ({ target, page } = s));

const status = (p: Page) => p.locator('.status-line .status').innerText();
const effects = (p: Page) => p.locator('li.effect');

embeddedOnly('admin console flows (demo world)', () => {
  it('X1, T10: adminA previews a1 → Company C and reads its 13 effects in words, each with its rule id and meaning', async () => {
    await signIn(page, target.url, 'adminA');
    await chooseMember(page, 'Akira Abe');
    await page.getByLabel('Destination organization').selectOption('C');
    await page.getByRole('button', { name: 'Preview transfer' }).click();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Transfer of Akira Abe to Company C');
    await expect.poll(() => effects(page).count()).toBe(13);

    const rows = await effects(page).evaluateAll((lis) =>
      lis.map((li) => ({
        text: (li as HTMLElement).innerText,
        rule: li.getAttribute('data-rule'),
        shown: li.querySelector('.rule-id')?.textContent,
      })),
    );
    expect(rows.map((r) => r.rule).sort()).toEqual(['F1', 'F1', 'F2', 'F2', 'G2', 'T6', 'T7', 'T7', 'T7', 'T8', 'T8', 'T9', 'T9']);
    for (const r of rows) expect(r.shown, r.text).toBe(r.rule);
    const text = rows.map((r) => r.text).join('\n');
    // names come from the API (the /effects route), the rule's meaning from the console's dictionary
    expect(text).toContain('Akira Abe leaves Launch A+B');
    // each line says why behind "Why?" (closed), in words that fit it, not the rule's whole text on every line
    expect(text).toMatch(/Akira Abe leaves Launch A\+B Why\? T8/);
    expect(text).toMatch(/Akira Abe and Beni Baba \(Company B\) are no longer contacts/);
    expect(text).toContain('File draft.pdf, uploaded by Akira Abe, is deleted');
    expect(text).toContain('File plan.xlsx, uploaded by Akira Abe, now belongs to Company A');
    expect(text).toContain('Akira Abe moves from Company A to Company C');
    // counts by kind and rule, and the picture of what breaks around the user
    expect(await page.locator('table.summary tbody tr').count()).toBe(11);
    expect(await page.locator('.picture svg').getAttribute('aria-label')).toBe(
      '1 contacts break and 3 chats are left or deleted around the user.',
    );
    await screenshot(page, 'preview');
  });

  it('T3: adminA requests the transfer from the preview, adminC approves it, and its progress reaches succeeded live', async () => {
    await page.getByRole('button', { name: 'Request this transfer' }).click();
    await page.getByRole('button', { name: 'Send the request' }).click();
    await page.locator('.status-line').waitFor();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Transfer of Akira Abe');
    expect(await status(page)).toBe('Awaiting approval');

    const incoming = await incomingRequests(page, target.url, 'adminC');
    expect(await incoming.innerText()).toContain('Akira Abe: Company A → Company C');
    expect(await incoming.innerText()).toContain('13');
    await screenshot(page, 'requests');

    await incoming.getByRole('link', { name: 'Review and approve' }).click();
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByRole('button', { name: 'Approve now' }).click();
    await page.locator('.status-line').waitFor();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Transfer of Akira Abe');
    // the status and counts are announced as they change
    expect(await page.locator('.status-line').getAttribute('aria-live')).toBe('polite');
    await expect.poll(() => status(page), { timeout: 30_000 }).toBe('Succeeded');
    const phases = await page.locator('.phase').evaluateAll((lis) => lis.map((li) => li.className));
    expect(phases.length).toBeGreaterThan(0);
    for (const c of phases) expect(c).toContain('phase-done');
    expect(await page.locator('.status-line').innerText()).toContain('13 of 13 changes applied');
    expect(await page.locator('.timeline li').count()).toBeGreaterThanOrEqual(3);
    await screenshot(page, 'progress');
    const after = await target.export();
    expect(after.users.find((u: any) => u.id === 'a1').organizationId).toBe('C');
  });

  it('D2–D6: adminA previews the deletion of a2, deletes it and follows it to succeeded', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, target.url, 'adminA');
    await chooseMember(page, 'Asuka Aoki');
    await page.getByRole('button', { name: 'Preview deletion' }).click();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Deletion of Asuka Aoki');
    await expect.poll(() => effects(page).count()).toBeGreaterThan(0);
    const text = await page.locator('.effects').allInnerTexts();
    expect(text.join('\n')).toContain('Asuka Aoki is deleted and can no longer sign in');
    expect(await page.locator('li.effect[data-rule="D2"]').count()).toBeGreaterThan(0);

    await page.getByRole('button', { name: 'Delete this user' }).click();
    await page.getByRole('button', { name: 'Delete now' }).click();
    await page.locator('.status-line').waitFor();
    await expect.poll(() => page.locator('h1').innerText()).toContain('Deletion of Asuka Aoki');
    await expect.poll(() => status(page), { timeout: 30_000 }).toBe('Succeeded');
    expect(await page.locator('.phase.phase-done').count()).toBe(await page.locator('.phase').count());
    await screenshot(page, 'deletion');
    const a2 = (await target.export()).users.find((u: any) => u.id === 'a2');
    expect(a2.status).toBe('deleted');
  });

  it('T5, T1: refusals are shown with their rules and meanings, and nothing changes', async () => {
    const before = await target.export();
    await chooseMember(page, 'Ayumi Admin');
    await page.getByLabel('Destination organization').selectOption('C');
    await page.getByRole('button', { name: 'Preview transfer' }).click();
    const refusal = page.getByRole('alert');
    await expect.poll(() => refusal.innerText()).toContain('This cannot be done');
    expect(await refusal.locator('.rule-id').allInnerTexts()).toContain('T5');
    // worded by the condition that refused, not by the whole rule
    expect(await refusal.innerText()).toContain('The user is an administrator of the organization; hand over administrator rights first.');
    await screenshot(page, 'refusal');

    await chooseMember(page, 'Arata Ando');
    // T1: a free plan cannot be chosen as the destination; the API refuses it if asked all the same
    expect(await page.locator('select#destination option[value="F"]').isDisabled()).toBe(true);
    const t1 = await target.call('POST', '/previews', {
      as: 'adminA',
      body: { operation: 'transfer', userId: 'a3', destinationOrganizationId: 'F' },
    });
    expect(t1.body.error.reasons.map((r: any) => r.rule)).toContain('T1');
    expect(await target.export()).toEqual(before);
  });

  it('X1: a saved preview whose data changed is refused as impact-changed, explained, and previewed again', async () => {
    await chooseMember(page, 'Arata Ando');
    await page.getByRole('button', { name: 'Preview deletion' }).click();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Deletion of Arata Ando');
    // meanwhile b2 (in Design review with a3) is deleted by adminB: a3's deletion would now do something else
    const b2 = await target.call('POST', '/deletions', { as: 'adminB', body: { userId: 'b2' } });
    expect(b2.status).toBe(202);
    await expect
      .poll(async () => (await target.call('GET', `/deletions/${b2.body.id}`, { as: 'adminB' })).body.status, { timeout: 30_000 })
      .toBe('succeeded');

    await page.getByRole('button', { name: 'Delete this user' }).click();
    await page.getByRole('button', { name: 'Delete now' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.innerText()).toContain('The data changed since this preview');
    expect(await alert.innerText()).toContain('(X1)');
    await page.getByRole('button', { name: 'Preview again' }).click();
    await expect.poll(() => page.getByRole('alert').count()).toBe(0);
    expect(await page.locator('h1').innerText()).toBe('Deletion of Arata Ando');
    expect((await target.export()).users.find((u: any) => u.id === 'a3').status).toBe('active');
  });

  it('B1: the platform operator follows a contract cancellation: members done, failed, remaining', async () => {
    const put = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'D' }));
    const runId = `b1-${put.eventId}`;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, target.url, 'platform-operator');
    expect(await page.locator('h1').innerText()).toBe('Billing runs');
    const row = page.locator(`tr[data-run="${runId}"]`);
    await expect.poll(() => row.locator('.status').innerText(), { timeout: 30_000 }).toBe('Succeeded');
    const cells = await row.locator('td.num').allInnerTexts();
    expect(cells).toEqual(['3', '3', '0', '0']); // members, done, failed, remaining
    expect(await row.innerText()).toContain('Company D');
    await screenshot(page, 'billing-runs');
  });
});
