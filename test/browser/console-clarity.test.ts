/// <reference lib="dom" />
// Callbacks given to page.evaluate run in the browser.
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DICTIONARIES } from '../../console/src/i18n/index.js';
import { rulesEn } from '../../console/src/i18n/rules.js';
import { billingEvent, demoWorld, type Target } from '../integration/harness.js';
import { chooseMember, consoleSession, incomingRequests, mainText, newPage, screenshot, signIn } from './browser.js';

/**
 * Issue 21: an administrator understands and trusts every screen. On the demo world, in order (one stack and one
 * browser for the file; each test continues from the world the one before left). Text is read from the page.
 */
const embeddedOnly = process.env.OFFBOARD_TARGET === 'stack' ? describe.skip : describe;
const en = DICTIONARIES.en;

let target: Target;
let browser: Browser;
let page: Page;
consoleSession((s) => ({ target, browser, page } = s));

const h1 = (p: Page) => p.locator('h1').innerText();
const status = (p: Page) => p.locator('.status-line .status').innerText();

/** Whether `a` comes before `b` in the document. */
const before = (p: Page, a: string, b: string) =>
  p.evaluate(
    ([x, y]) => !!(document.querySelector(x!)!.compareDocumentPosition(document.querySelector(y!)!) & Node.DOCUMENT_POSITION_FOLLOWING),
    [a, b] as const,
  );

embeddedOnly('issue 21: the console in words people trust', () => {
  it('T1, D1: a free-plan destination cannot be chosen (shown as refusing), and a deleted member offers nothing to do', async () => {
    await signIn(page, target.url, 'adminA');
    await chooseMember(page, 'Akira Abe');
    const options = await page
      .locator('select#destination option')
      .evaluateAll((os) =>
        os.map((o) => ({ value: (o as HTMLOptionElement).value, text: o.textContent, disabled: (o as HTMLOptionElement).disabled })),
      );
    expect(options.find((o) => o.value === 'F')).toEqual({
      value: 'F',
      text: 'Free Circle (Free: cannot receive transfers, T1)',
      disabled: true,
    });
    for (const o of options.filter((o) => o.value !== 'F')) expect(o.disabled, o.value).toBe(false);
    // plan names are words, not the API's ids
    expect(options.find((o) => o.value === 'C')?.text).toBe('Company C (Business)');
    expect(await page.locator('select#destination').inputValue()).not.toBe('F');
    // old1 was deleted in 2015: shown as "Cancelled user", with no Choose button
    const old = page.locator('table.members tbody tr', { hasText: 'Cancelled user' });
    expect(await old.innerText()).toContain('Already deleted');
    expect(await old.getByRole('button').count()).toBe(0);
  });

  it('X1, T3: the preview leads with the move and what stays, names every chat, uploader and organization, groups the move first, explains each change behind "Why?", and asks to confirm after the list', async () => {
    await page.getByLabel('Destination organization').selectOption('C');
    await page.getByRole('button', { name: 'Preview transfer' }).click();
    await expect.poll(() => h1(page)).toBe('Transfer of Akira Abe to Company C');
    await expect.poll(() => page.locator('li.effect').count()).toBe(13);
    // the main change first, then that the destination must approve, then what stays
    expect(await page.locator('.main-change strong').innerText()).toBe('Akira Abe moves from Company A to Company C.');
    expect(await page.locator('.approval-note').innerText()).toBe(
      'Nothing changes until an administrator of Company C approves the transfer (T3).',
    );
    const stays = await page.locator('section.stays').innerText();
    expect(stays).toContain('What stays');
    expect(stays).toContain('Akira Abe keeps their account, My Chat, their messages and every chat not listed below.');
    expect(stays).toContain('1 file stays with Company A (handed over).');
    expect(await before(page, '.main-change', 'section.stays')).toBe(true);
    expect(await before(page, 'section.stays', 'li.effect')).toBe(true);

    const text = await mainText(page);
    // every chat named: the direct chat by the other person, never by its id
    expect(text).not.toMatch(/dm-|\(dm/);
    expect(text).toContain('Direct chat with Beni Baba (Company B) is deleted with its messages');
    // every deleted file names its uploader (with their organization when it is someone else)
    expect(text).toContain('File draft.pdf, uploaded by Akira Abe, is deleted');
    expect(text).toContain('File reply.docx, uploaded by Beni Baba (Company B), is deleted');
    expect(text).toContain('File plan.xlsx, uploaded by Akira Abe, now belongs to Company A');
    // the move itself is the first group, not 8th of 11 by kind
    const groups = await page.locator('.effect-group h3').allInnerTexts();
    expect(groups[0]).toMatch(/^Membership changed/);
    expect(await page.locator('table.summary tbody tr').first().innerText()).toMatch(/^Membership changed/);

    // each line: its sentence and a "Why?" (closed): no rule text repeated on every line
    const move = page.locator('li.effect[data-kind="membership-changed"]');
    expect(await move.innerText()).not.toContain(rulesEn.T9);
    await move.getByText('Why?').click();
    expect(await move.locator('.why-text').innerText()).toBe(en['why_membership-changed']);
    // the why fits the line: T9's sentence is about tokens and seats, the move's and the token's whys differ
    const whys = await page
      .locator('li.effect')
      .evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-kind'), li.querySelector('.why-text')?.textContent]));
    const byKind = new Map(whys.map(([k, w]) => [k, w]));
    expect(byKind.get('membership-changed')).not.toBe(byKind.get('api-token-revoked'));
    expect(new Set(whys.map(([, w]) => w)).size).toBeGreaterThanOrEqual(8);
    for (const [kind, why] of whys) expect(why, kind!).not.toBe('');

    // the request comes after the list, with Back; it asks to confirm with the counts before anything is sent
    expect(await before(page, 'li.effect:last-of-type', '.actions.final')).toBe(true);
    expect(await page.locator('.actions.final').getByRole('button', { name: 'Back' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Request this transfer' }).click();
    const confirm = page.getByRole('alertdialog');
    expect(await confirm.locator('#confirm-question').innerText()).toBe(
      'Ask Company C to approve the transfer of Akira Abe? Once approved, 13 changes are applied.',
    );
    const counts = await confirm.locator('.confirm-counts li').allInnerTexts();
    expect(counts[0]).toBe('Membership changed: 1');
    expect(counts).toContain('Contacts removed: 1');
    await confirm.getByRole('button', { name: 'Back' }).click();
    expect(await page.getByRole('alertdialog').count()).toBe(0);
    expect((await target.call('GET', '/organizations/A/transfers?direction=outgoing', { as: 'adminA' })).body.transfers).toEqual([]);

    await page.getByRole('button', { name: 'Request this transfer' }).click();
    await page.getByRole('button', { name: 'Send the request' }).click();
    await expect.poll(() => status(page)).toBe('Awaiting approval');
    // "Updates live" is said only while it runs, not while it waits
    expect(await mainText(page)).not.toContain(en.progressLive);
    // the audit trail: events in words, by the person's name
    const audit = await page.locator('.timeline').innerText();
    expect(audit).toContain('Requested');
    expect(audit).toContain('by Ayumi Admin');
    expect(audit).not.toContain('adminA');
  });

  it('T3: the approver sees who asked, opens the impact first, confirms with the counts; the refusal reads "Decline"', async () => {
    const incoming = await incomingRequests(page, target.url, 'adminC');
    expect(await incoming.innerText()).toContain('Requested by Ayumi Admin');
    // no one-click approval in the list: a link to the impact, and Decline
    expect(await incoming.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await incoming.getByRole('button', { name: 'Cancel request' }).count()).toBe(0);
    expect(await incoming.getByRole('button', { name: 'Decline' }).count()).toBe(1);
    await incoming.getByRole('link', { name: 'Review and approve' }).click();

    await expect.poll(() => h1(page)).toBe('Transfer of Akira Abe');
    expect(await page.locator('.approval-intro').innerText()).toBe(
      'Ayumi Admin asks to move Akira Abe into Company C. Read what it changes, then approve or decline.',
    );
    await expect.poll(() => page.locator('li.effect').count()).toBe(13);
    // the impact is read before the decision
    expect(await before(page, 'li.effect', '.actions.final')).toBe(true);
    expect(await page.locator('.actions.final').getByRole('button', { name: 'Decline' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await screenshot(page, 'approval');
    const confirm = page.getByRole('alertdialog');
    expect(await confirm.locator('#confirm-question').innerText()).toBe(
      'Approve the transfer of Akira Abe to Company C? 13 changes are applied now and cannot be undone.',
    );
    expect(await confirm.locator('.confirm-counts li').count()).toBeGreaterThan(5);
    await confirm.getByRole('button', { name: 'Back' }).click();
    expect((await target.export()).users.find((u: any) => u.id === 'a1').organizationId).toBe('A');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByRole('button', { name: 'Approve now' }).click();
    await expect.poll(() => status(page), { timeout: 30_000 }).toBe('Succeeded');
    expect(await mainText(page)).not.toContain(en.progressLive);
    const audit = await page.locator('.timeline').innerText();
    expect(audit).toContain('by Chika Admin');
    expect(audit).not.toMatch(/\badmin[AC]\b/);
    expect((await target.export()).users.find((u: any) => u.id === 'a1').organizationId).toBe('C');

    // a second request: the approver declines it from the list, the requester's side reads "Cancel request"
    const second = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a3', destinationOrganizationId: 'C' } });
    expect(second.status).toBe(201);
    await page.getByRole('link', { name: 'Requests and approvals' }).click();
    await expect.poll(() => incoming.count()).toBe(1);
    await incoming.getByRole('button', { name: 'Decline' }).click();
    await expect
      .poll(async () => (await target.call('GET', `/transfers/${second.body.id}`, { as: 'adminC' })).body.status)
      .toBe('cancelled');
  });

  it('D2: the deletion preview leads with the deletion and what stays; finished, it reads "Deletion of Asuka Aoki" (not "(cancelled)")', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, target.url, 'adminA');
    await chooseMember(page, 'Asuka Aoki');
    await page.getByRole('button', { name: 'Preview deletion' }).click();
    await expect.poll(() => page.locator('li.effect').count()).toBeGreaterThan(0);
    expect(await page.locator('.main-change strong').innerText()).toBe('Asuka Aoki is deleted and can no longer sign in.');
    expect(await page.locator('section.stays').innerText()).toContain(
      'Messages Asuka Aoki posted stay, shown as “Asuka Aoki (cancelled)”.',
    );
    expect((await page.locator('.effect-group h3').allInnerTexts())[0]).toMatch(/^User deleted/);
    // names every chat: the direct chats with Beni Baba and Chiaki Chiba by the other person
    expect(await mainText(page)).not.toMatch(/dm-/);
    await page.getByRole('button', { name: 'Delete this user' }).click();
    expect(await page.getByRole('alertdialog').locator('#confirm-question').innerText()).toMatch(
      /^Delete Asuka Aoki\? \d+ changes are applied now and cannot be undone\.$/,
    );
    await page.getByRole('button', { name: 'Delete now' }).click();
    await expect.poll(() => status(page), { timeout: 30_000 }).toBe('Succeeded');
    await expect.poll(() => page.locator('li.effect').count()).toBeGreaterThan(0);
    expect(await h1(page)).toBe('Deletion of Asuka Aoki');
    await page.getByRole('link', { name: 'Requests and approvals' }).click();
    const deletion = page.locator('section[aria-labelledby="deletions-title"] li.op');
    await expect.poll(() => deletion.count()).toBe(1);
    expect(await deletion.locator('.op-title').innerText()).toBe('Deletion of Asuka Aoki');
    expect(await deletion.innerText()).not.toContain('(cancelled)');
  });

  it('D1: "already deleted" is refused in words that say so, not D1\'s text about administrators', async () => {
    const { page: p, context } = await newPage(browser);
    await signIn(p, target.url, 'adminA');
    // the deleted a2 has no Choose button any more; a3 is chosen, then deleted elsewhere before the preview
    expect(await p.locator('table.members tbody tr', { hasText: 'Asuka Aoki' }).getByRole('button').count()).toBe(0);
    await p.getByRole('button', { name: 'Choose Arata Ando' }).click();
    const d = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3' } });
    expect(d.status).toBe(202);
    await expect
      .poll(async () => (await target.call('GET', `/deletions/${d.body.id}`, { as: 'adminA' })).body.status, { timeout: 30_000 })
      .toBe('succeeded');
    await p.getByRole('button', { name: 'Preview deletion' }).click();
    const reason = p.getByRole('alert').locator('.reasons li').first();
    await expect.poll(() => reason.locator('.rule-id').innerText()).toBe('D1');
    expect(await reason.locator('.rule-text').innerText()).toBe('This user is already deleted.');
    expect(await p.getByRole('alert').innerText()).not.toContain(rulesEn.D1);
    expect(await p.getByRole('alert').innerText()).not.toContain('administrator');
    await context.close();
  });

  it('D1: the last administrator\'s refusal is worded by what refused; the server\'s sentence stays behind "Technical details"', async () => {
    const { page: p, context } = await newPage(browser);
    await signIn(p, target.url, 'adminA');
    await p.getByRole('button', { name: 'Choose Ayumi Admin' }).click();
    await p.getByRole('button', { name: 'Preview deletion' }).click();
    const alert = p.getByRole('alert');
    await expect.poll(() => alert.innerText()).toContain('This cannot be done');
    const reason = alert.locator('.reasons li').first();
    expect(await reason.locator('.rule-id').innerText()).toBe('D1');
    expect(await reason.locator('.rule-text').innerText()).toBe(en['code_last-administrator']);
    // the server's own sentence (with ids) is kept behind "Technical details", not shown as the message
    expect(await reason.innerText()).not.toContain('user adminA is the last administrator of A');
    await reason.getByText('Technical details').click();
    expect(await reason.innerText()).toContain('user adminA is the last administrator of A');
    await context.close();
  });

  it('D7: a refused grace period is said at the field, in words; the raw "invalid-request: deletionGraceDays" is not shown', async () => {
    await page.getByRole('link', { name: 'My organization' }).click();
    // the settings are read after the page renders: fill the field once it shows them, or the answer overwrites it
    await expect.poll(() => page.getByLabel('Days (0–30)').inputValue()).toMatch(/^\d+$/);
    await page.getByLabel('Days (0–30)').fill('31');
    await page.getByRole('button', { name: 'Save grace period' }).click();
    const field = page.getByLabel('Days (0–30)');
    await expect.poll(() => field.getAttribute('aria-invalid'), { timeout: 15_000 }).toBe('true');
    const describedBy = await field.getAttribute('aria-describedby');
    expect(await page.locator(`#${describedBy}`).innerText()).toBe('Enter a whole number of days from 0 to 30.');
    expect(await mainText(page)).not.toContain('invalid-request');
    expect(await mainText(page)).not.toContain('purge');
    expect((await target.call('GET', '/organizations/A/settings', { as: 'adminA' })).body.deletionGraceDays).toBe(0);
  });

  it('a token the stack no longer accepts (it was restarted) signs out with a sentence saying why', async () => {
    const { page: p, context } = await newPage(browser);
    await signIn(p, target.url, 'adminA');
    await p.evaluate(() => sessionStorage.setItem('offboard.token', 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl'));
    await p.reload();
    await expect.poll(() => h1(p)).toBe('Sign in');
    expect(await p.locator('.session-ended').innerText()).toBe(en.staleSession);
    await context.close();
  });

  it('ja, vi: "(cancelled)", "Cancelled user" and plan names are in the reader\'s language', async () => {
    for (const [locale, lang] of [
      ['ja-JP', 'ja'],
      ['vi-VN', 'vi'],
    ] as const) {
      const t = DICTIONARIES[lang];
      const { page: p, context } = await newPage(browser, locale);
      await signIn(p, target.url, 'adminA');
      await expect.poll(() => p.locator('table.members tbody tr').count()).toBeGreaterThan(0);
      const members = await p.locator('table.members').innerText();
      expect(members).toContain(t.cancelledUser);
      expect(members).toContain(t.deletedUserName('Asuka Aoki'));
      expect(members).not.toContain('Cancelled user');
      expect(members).not.toContain('(cancelled)');
      expect(await mainText(p)).toContain(`${t.plan}: ${t.plan_business}`);
      await p.getByRole('button', { name: t.memberChoose('Ayumi Admin') }).click();
      const options = await p.locator('select#destination option').allInnerTexts();
      expect(options).toContain(t.destinationOption('Company B', t.plan_business));
      expect(options).toContain(t.destinationFreeOption('Free Circle', t.plan_free));
      await context.close();
    }
  });

  it("at 390 px nothing is wider than the screen: the page, the member table, the preview, the operator's header", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US', timezoneId: 'Asia/Tokyo' });
    const p = await context.newPage();
    const overflow = () =>
      p.evaluate(() => {
        const wide = (el: Element) => el.scrollWidth > el.clientWidth + 1;
        const out: string[] = [];
        if (wide(document.documentElement)) out.push(`page ${document.documentElement.scrollWidth}`);
        for (const t of Array.from(document.querySelectorAll('table')))
          if (wide(t) || t.getBoundingClientRect().right > window.innerWidth + 1) out.push(`table.${t.className} ${t.scrollWidth}`);
        return out;
      });
    const headerLines = () =>
      p.evaluate(() => {
        // each control of the header keeps to one line: no button or label broken over two
        const one = (el: Element) => el.getBoundingClientRect().height < 2 * parseFloat(getComputedStyle(el).lineHeight || '20') + 16;
        return Array.from(document.querySelectorAll('header.top button, header.top .lang, header.top .who, header.top .brand'))
          .filter((el) => !one(el))
          .map((el) => el.className || el.tagName);
      });
    await target.load(demoWorld()); // the demo world again: a1 to preview
    await target.billing(billingEvent('Contract Cancelled', { organizationId: 'D' })); // a run for the operator's table
    await signIn(p, target.url, 'adminA');
    await expect.poll(() => p.locator('table.members tbody tr').count()).toBeGreaterThan(0);
    expect(await overflow()).toEqual([]);
    expect(await headerLines()).toEqual([]);
    await p.getByRole('button', { name: 'Choose Ayumi Admin' }).click();
    await p.getByLabel('Destination organization').selectOption('B');
    await p.getByRole('button', { name: 'Preview transfer' }).click(); // refused (T5): the refusal panel fits too
    await p.getByRole('alert').waitFor();
    expect(await overflow()).toEqual([]);
    await p.getByRole('button', { name: 'Choose Akira Abe' }).click();
    await p.getByLabel('Destination organization').selectOption('C');
    await p.getByRole('button', { name: 'Preview transfer' }).click();
    await expect.poll(() => p.locator('li.effect').count()).toBe(13);
    expect(await overflow()).toEqual([]);
    await screenshot(p, 'preview-390', true);
    await signIn(p, target.url, 'platform-operator');
    await expect.poll(() => p.locator('table.runs tbody tr').count()).toBeGreaterThan(0);
    expect(await overflow()).toEqual([]);
    expect(await headerLines()).toEqual([]);
    // the header takes at most three rows at this width (brand; who; language and sign out)
    expect(await p.locator('header.top').evaluate((h) => h.getBoundingClientRect().height)).toBeLessThan(140);
    // the title focused on opening a screen shows no box, which read as a text field
    await p.keyboard.press('Tab');
    await p.locator('h1').focus();
    const ring = await p.locator('h1').evaluate((h) => {
      const s = getComputedStyle(h);
      return { outline: s.outlineStyle, shadow: s.boxShadow, border: s.borderStyle };
    });
    expect(ring).toEqual({ outline: 'none', shadow: 'none', border: 'none' });
    await context.close();
  });
});
