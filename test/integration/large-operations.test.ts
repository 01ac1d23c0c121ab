import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { largeUserWorld } from '../../fixtures/large-user.js';
import { openTarget, planned, previewReady, settle, type Target } from './harness.js';

/**
 * X1 at size: a user past every page boundary (more than 1,000 effects of several kinds, several plan pages, more
 * than one invocation's budget of effects in one phase), previewed, paged through, requested with the saved preview,
 * and run to the end; every effect of the paged impact is checked in the export, and nothing else changed.
 */
const SIZE = { chats: 1_500, files: 11_000, contacts: 1_100 };

let target: Target;
let world: any;
beforeAll(async () => {
  target = await openTarget();
  world = largeUserWorld(SIZE);
}, 300_000);
afterAll(async () => target?.close());

/** Every effect of an impact, page by page through the /effects route. */
async function allEffects(first: any, route: string, as: string): Promise<any[]> {
  const effects = [...first.effects];
  let cursor = first.nextCursor;
  let pages = 1;
  while (cursor !== undefined) {
    if (pages > first.effectCount / 1000 + 1) throw new Error(`the cursor does not advance: ${cursor}`);
    const page = await target.call('GET', `${route}/effects?cursor=${encodeURIComponent(cursor)}`, { as });
    expect(page.status).toBe(200);
    expect(page.body.effects.length).toBeLessThanOrEqual(1000);
    effects.push(...page.body.effects);
    cursor = page.body.nextCursor;
    pages++;
  }
  expect(pages).toBe(Math.ceil(first.effectCount / 1000));
  return effects;
}

/** CONTRACT.md's order: kind, then the ids (chat before users, as the effect names them). */
const key = (e: any) =>
  [e.kind, e.chatId, ...(e.userIds ?? []), e.userId, e.fileId, e.taskId].filter((x) => x !== undefined).join('\u0000');
const byId = (list: any[]) => new Map(list.map((x) => [x.id, x]));

/** The impact is well formed: counts add up, sorted by kind then ids, each effect once. */
function checkImpact(impact: any, effects: any[]) {
  expect(effects.length).toBe(impact.effectCount);
  expect(impact.summary.reduce((n: number, r: any) => n + r.count, 0)).toBe(impact.effectCount);
  for (const row of impact.summary)
    expect(effects.filter((e) => e.kind === row.kind && e.rule === row.rule).length, `${row.kind} ${row.rule}`).toBe(row.count);
  const keys = effects.map(key);
  expect(new Set(keys).size).toBe(keys.length);
  expect([...keys].sort()).toEqual(keys);
}

/** Every effect is visible in the export (X1: applied, all of them). */
function checkApplied(w: any, effects: any[]) {
  const users = byId(w.users);
  const chats = byId(w.chats);
  const files = byId(w.files);
  const tasks = byId(w.tasks);
  const contacts = new Set(w.contacts.map((p: string[]) => p.join('|')));
  for (const e of effects) {
    const what = JSON.stringify(e);
    switch (e.kind) {
      case 'contact-removed':
        expect(contacts.has(e.userIds.join('|')), what).toBe(false);
        break;
      case 'chat-left':
        expect(chats.get(e.chatId)?.members.some((m: any) => m.userId === e.userId) ?? false, what).toBe(false);
        break;
      case 'chat-deleted':
        expect(chats.has(e.chatId), what).toBe(false);
        break;
      case 'chat-frozen':
        expect(chats.get(e.chatId)?.frozen, what).toBe(true);
        break;
      case 'admin-granted':
        for (const u of e.userIds) expect(chats.get(e.chatId)?.members.find((m: any) => m.userId === u)?.role, what).toBe('admin');
        break;
      case 'file-deleted':
        expect(files.has(e.fileId), what).toBe(false);
        break;
      case 'file-handed-over':
        expect(files.get(e.fileId), what).toMatchObject({ ownerOrganizationId: e.organizationId, stored: true });
        break;
      case 'task-deleted':
        expect(tasks.has(e.taskId), what).toBe(false);
        break;
      case 'user-deleted':
        expect(users.get(e.userId)?.status, what).toBe('deleted');
        break;
      case 'api-token-revoked':
        expect(users.get(e.userId)?.apiToken, what).toBe(null);
        break;
      case 'membership-changed':
        expect(users.get(e.userId)?.organizationId, what).toBe(e.toOrganizationId);
        break;
      case 'security-changed':
        expect(users.get(e.userId), what).toMatchObject({
          allowOutsideCommunication: e.allowOutsideCommunication,
          allowFileSharing: e.allowFileSharing,
        });
        break;
      default:
        throw new Error(`unknown effect ${what}`);
    }
  }
}

/** Nothing but the plan changed: files, tasks, chats and contacts that no effect names are as before. */
function checkNothingElse(before: any, after: any, effects: any[]) {
  const named = new Set(effects.flatMap((e) => [e.fileId, e.taskId, e.chatId].filter(Boolean)));
  const deletedChats = new Set(effects.filter((e) => e.kind === 'chat-deleted').map((e) => e.chatId));
  const untouched = (list: any[]) => list.filter((x) => !named.has(x.id) && !deletedChats.has(x.chatId)).map((x) => x.id);
  expect(untouched(after.files)).toEqual(untouched(before.files));
  expect(untouched(after.tasks)).toEqual(untouched(before.tasks));
  const brokenPairs = new Set(effects.filter((e) => e.kind === 'contact-removed').map((e) => e.userIds.join('|')));
  expect(after.contacts.length).toBe(before.contacts.length - brokenPairs.size);
  expect(after.files.every((f: any) => f.stored)).toBe(true); // F4: no record outlives its bytes
}

const countOf = (impact: any, kind: string) =>
  impact.summary.filter((r: any) => r.kind === kind).reduce((n: number, r: any) => n + r.count, 0);

describe(`a user with ${SIZE.chats} group chats, ${SIZE.files} files and ${SIZE.contacts} contacts (X1 at size)`, () => {
  it('D2–D6, F1–F2: previewed, paged, requested with the saved preview, and every effect applied', async () => {
    await target.load(world);
    const before = await target.export();
    const answer = await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'u0' } });
    // CONTRACT.md planning: past one pass of chats the plan is computed in the background (202, then the Impact)
    expect(answer.status).toBe(202);
    const preview = { status: 200, body: await previewReady(target, answer, 'adminA') };
    expect(preview.body.effects.length).toBe(1000); // the first page only
    expect(countOf(preview.body, 'chat-left')).toBeGreaterThan(1000);
    expect(countOf(preview.body, 'contact-removed')).toBeGreaterThan(1000);
    expect(countOf(preview.body, 'file-deleted') + countOf(preview.body, 'file-handed-over')).toBeGreaterThan(10_000); // more than one invocation's budget
    const effects = await allEffects(preview.body, `/previews/${preview.body.id}`, 'adminA');
    checkImpact(preview.body, effects);

    const started = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'u0', previewId: preview.body.id } });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'planning', impact: null });
    const final = await settle(target, `/deletions/${started.body.id}`, 'adminA');
    expect(final.status).toBe('succeeded');
    expect(final.impact.effectCount).toBe(preview.body.effectCount);
    expect(await allEffects(final.impact, `/deletions/${final.id}`, 'adminA')).toEqual(effects);

    const after = await target.export();
    checkApplied(after, effects);
    checkNothingElse(before, after, effects);
    expect(after.chats.some((c: any) => c.members.some((m: any) => m.userId === 'u0'))).toBe(false); // D5: in no chat
    expect(after.contacts.some((p: string[]) => p.includes('u0'))).toBe(false); // D4: no contact
  }, 600_000);

  it('T6–T9, G2, F1: the same user moves to C; every effect of the paged impact applied', async () => {
    await target.load(world);
    const before = await target.export();
    const requested = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'u0', destinationOrganizationId: 'C' } });
    expect(requested.status).toBe(201);
    expect(requested.body).toMatchObject({ status: 'planning', impact: null });
    const ready = await planned(target, `/transfers/${requested.body.id}`, requested.body, 'adminA');
    expect(ready.status).toBe('awaiting-approval');
    expect(ready.impact.effectCount).toBeGreaterThan(1000);
    expect(countOf(ready.impact, 'chat-left')).toBeGreaterThan(1000);
    const approved = await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminC' });
    expect(approved.status).toBe(202);
    const final = await settle(target, `/transfers/${requested.body.id}`, 'adminA');
    expect(final.status).toBe('succeeded');
    const effects = await allEffects(final.impact, `/transfers/${final.id}`, 'adminA');
    checkImpact(final.impact, effects);
    const after = await target.export();
    checkApplied(after, effects);
    checkNothingElse(before, after, effects);
  }, 600_000);

  it('bad cursors answer 400 naming cursor, and change nothing', async () => {
    const preview = await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'p0000' } });
    expect(preview.status).toBe(200);
    for (const cursor of ['x', '-1', '99999', '1.5', 'A'.repeat(300)]) {
      const a = await target.call('GET', `/previews/${preview.body.id}/effects?cursor=${cursor}`, { as: 'adminA' });
      expect(a.status, cursor).toBe(400);
      expect(a.body.error.path).toBe('cursor');
    }
    expect((await target.call('GET', `/previews/${preview.body.id}/effects?cursor=0`, { as: 'adminA' })).body.effects).toEqual(
      preview.body.effects,
    );
  });
});
