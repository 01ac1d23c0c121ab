/// <reference lib="dom" />
// Callbacks given to page.evaluate run in the browser.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { byId, demoWorld, previewReady, settle, type Target } from '../integration/harness.js';
import { chooseMember, consoleSession, screenshot, seriousViolations, signIn } from './browser.js';

/**
 * CONTRACT.md `planning` in the console: every plan is computed in the background (PLAN_INLINE_MAX_CHATS=0, read by
 * the embedded stack's in-process handlers at each request), and the planning step is held a few seconds (a throttled
 * first attempt, then its retry) so the console is seen while the plan is being computed. One stack and one browser
 * for the file; each test continues from the world the one before left.
 */
const embeddedOnly = process.env.OFFBOARD_TARGET === 'stack' ? describe.skip : describe;
const HOLD_MS = 3_000;

let target: Target;
let page: Page;
/** The deletion of a2 as planned before the budget is set to nothing (within the request, or past 1.2 s not). */
let inline: any;
consoleSession((s) => ({ target, page } = s), {
  // a9: a member of A in no chat, whose deletion changes nothing a2's deletion would
  world: () => {
    const w = demoWorld();
    w.users.push({ id: 'a9', name: 'Aki Nakano', organizationId: 'A', orgAdmin: false, apiToken: 'tok-a9' });
    return w;
  },
  ready: async (t) => {
    inline = await previewReady(
      t,
      await t.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } }),
      'adminA',
    );
    process.env.PLAN_INLINE_MAX_CHATS = '0';
  },
  done: () => delete process.env.PLAN_INLINE_MAX_CHATS,
});

/** The next planning step waits `ms`, then fails as throttled and is retried (the planning state machine's Retry). */
const holdPlanning = (ms = HOLD_MS) => target.fault('plan', { times: 1, when: 'before', error: 'ThrottlingException', holdMs: ms });
const status = (p: Page) => p.locator('.status-line .status').innerText();
const effects = (p: Page) => p.locator('li.effect');
const memberStatus = async (userId: string) =>
  (await target.call('GET', `/organizations/A/members?q=${userId}`, { as: 'adminA' })).body.members.find((m: any) => m.userId === userId)
    ?.status;

embeddedOnly('CONTRACT.md planning: a plan computed in the background, in the console', () => {
  it('X1: a deletion preview answered 202 planning says it is being computed (live), then shows its impact', async () => {
    expect(inline.effectCount).toBeGreaterThan(0);
    await holdPlanning();
    await signIn(page, target.url, 'adminA');
    await chooseMember(page, 'Asuka Aoki');
    await page.getByRole('button', { name: 'Preview deletion' }).click();
    const planning = page.locator('p.planning');
    await expect.poll(() => planning.innerText()).toContain('Working out what this would change');
    expect(await planning.innerText()).toContain('Nothing has changed yet');
    expect(await planning.getAttribute('role')).toBe('status');
    expect(await planning.getAttribute('aria-live')).toBe('polite');
    // the title says what is being previewed; no impact, no request button until it is there
    expect(await page.locator('h1').innerText()).toBe('Deletion of Asuka Aoki');
    expect(await page.getByRole('button', { name: 'Delete this user' }).count()).toBe(0);
    expect(await effects(page).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'preview-planning');

    await expect.poll(() => effects(page).count(), { timeout: 60_000 }).toBe(inline.effectCount);
    expect(await planning.count()).toBe(0);
    expect(await page.locator('.count-line').innerText()).toBe(`${inline.effectCount} changes`);
    expect((await page.locator('.effects').allInnerTexts()).join('\n')).toContain('Asuka Aoki is deleted and can no longer sign in');
  });

  it('D1: requested, the deletion is shown planning (no impact yet, nothing changed), then runs to succeeded with its impact', async () => {
    // X1: a request naming a preview that still holds takes its plan and plans nothing; a9 deleted (a run in the
    // journal of A, whose users the preview read, that changes nothing of a2's) makes the request plan again
    const other = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a9' } });
    expect(other.status, JSON.stringify(other.body)).toBe(202);
    expect((await settle(target, `/deletions/${other.body.id}`, 'adminA')).status).toBe('succeeded');
    await holdPlanning(2 * HOLD_MS);
    await page.getByRole('button', { name: 'Delete this user' }).click();
    await page.getByRole('button', { name: 'Delete now' }).click();
    await page.locator('.status-line').waitFor();
    expect(await status(page)).toBe('Preparing the plan');
    // nothing has changed yet (read through the API: the world's export waits for the planning to end)
    expect(await memberStatus('a2')).toBe('active');
    expect(await page.locator('h1').innerText()).toBe('Deletion of Asuka Aoki');
    expect(await page.locator('.panel.planning').innerText()).toBe(
      'The plan is being computed; nothing has changed yet. What it changes is shown here once it is ready.',
    );
    expect(await page.locator('#impact-title').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'operation-planning');

    await expect.poll(() => status(page), { timeout: 60_000 }).toBe('Succeeded');
    expect(await page.locator('.panel.planning').count()).toBe(0);
    expect(await page.locator('#impact-title').innerText()).toBe('What it changes');
    await expect.poll(() => effects(page).count()).toBe(inline.effectCount);
    const events = await page.locator('.timeline li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-event')));
    expect(events).toEqual(expect.arrayContaining(['requested', 'planned', 'succeeded']));
    expect(await page.locator('.timeline li[data-event="planned"] .event').innerText()).toBe(
      'Planned: the impact was computed in the background (X1)',
    );
    expect(byId((await target.export()).users, 'a2').status).toBe('deleted');
  });

  it('D1: a refusal found while the preview is planned is shown as a refusal at the request is, and nothing changes', async () => {
    // a3's deletion is previewed; while its plan waits, a3 is deleted by another request (planned within it)
    await holdPlanning(10_000);
    await chooseMember(page, 'Arata Ando');
    await page.getByRole('button', { name: 'Preview deletion' }).click();
    await expect.poll(() => page.locator('p.planning').count()).toBe(1);
    delete process.env.PLAN_INLINE_MAX_CHATS;
    const other = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3' } });
    process.env.PLAN_INLINE_MAX_CHATS = '0';
    expect(other.status, JSON.stringify(other.body)).toBe(202);
    expect((await settle(target, `/deletions/${other.body.id}`, 'adminA')).status).toBe('succeeded');
    const atRequest = await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a3' } });
    expect(atRequest.status).toBe(422);
    const before = await target.export();

    const refusal = page.locator('section.refusal');
    await expect.poll(() => refusal.count(), { timeout: 60_000 }).toBe(1);
    expect(await refusal.getAttribute('role')).toBe('alert');
    expect(await refusal.locator('h2').innerText()).toBe('This cannot be done');
    expect(await refusal.locator('.rule-id').allInnerTexts()).toEqual(atRequest.body.error.reasons.map((r: any) => r.rule));
    expect(await refusal.locator('.server-message').allTextContents()).toEqual(atRequest.body.error.reasons.map((r: any) => r.message));
    expect(await page.locator('p.planning').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Back' }).count()).toBe(1);
    expect(await target.export()).toEqual(before);
  });
});
