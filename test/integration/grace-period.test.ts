import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byId, demoWorld, eventually, ids, objectKey, openTarget, settle, billingEvent, type Target } from './harness.js';

/**
 * D7 beyond: a per-organization grace period during which a deletion can be undone. Moving time needs the embedded
 * stack's clock (`PUT /_local/clock`), so these run there only.
 */
const onDeployedStack = process.env.OFFBOARD_TARGET === 'stack';
const DAY_MS = 24 * 3600 * 1000;

let target: Target;
beforeAll(async () => {
  if (!onDeployedStack) target = await openTarget();
});
afterAll(async () => target?.close());

/** The demo world with Company A's grace period set (and optional changes). */
function graceWorld(days: number, change: (w: any) => void = () => {}) {
  const w = demoWorld();
  byId(w.organizations, 'A').deletionGraceDays = days;
  change(w);
  return w;
}

async function schedule(userId: string, as = 'adminA', body: Record<string, unknown> = {}) {
  const a = await target.call('POST', '/deletions', { as, body: { userId, ...body } });
  expect(a.status, JSON.stringify(a.body)).toBe(202);
  expect(a.body.status).toBe('scheduled');
  return a.body;
}

const undo = (id: string, as = 'adminA') => target.call('POST', `/deletions/${id}/undo`, { as });
const deletion = async (id: string, as = 'adminA') => (await target.call('GET', `/deletions/${id}`, { as })).body;
/** Past the purge date of a deletion requested under a grace period of `days`. */
const passGracePeriod = (days: number) => target.clock({ advanceMs: days * DAY_MS + 60_000 });

/** What the export shows of a2 while suspended, undone: the world as it was before the deletion. */
function asIfActive(w: any, userId: string) {
  const copy = structuredClone(w);
  const user = byId(copy.users, userId);
  user.status = 'active';
  user.displayName = user.name;
  for (const m of copy.messages) if (m.senderId === userId) m.speakerName = user.name;
  for (const t of copy.tasks) if (t.requesterId === userId) t.requesterName = user.name;
  return copy;
}

/** An export without a user's `deletedAt` (the instant differs between two runs of the same deletion) nor A's grace period. */
function withoutDeletedAt(w: any, userId: string) {
  const copy = structuredClone(w);
  delete byId(copy.users, userId).deletedAt;
  delete byId(copy.organizations, 'A').deletionGraceDays;
  return copy;
}

describe.skipIf(onDeployedStack)('D7 grace period: suspension, undo, purge', () => {
  it('D7: with a grace period, POST /deletions suspends the user at once, answers scheduled with purgeAt, and removes nothing', async () => {
    await target.load(graceWorld(7));
    const before = await target.export();
    const scheduled = await schedule('a2');
    expect(scheduled).toMatchObject({ userId: 'a2', organizationId: 'A', requestedBy: 'adminA' });
    expect(Date.parse(scheduled.purgeAt) - Date.parse(scheduled.createdAt)).toBe(7 * DAY_MS);
    expect(scheduled.impact.effectCount).toBeGreaterThan(0); // what the purge would do, as of now (X1)

    const during = await target.export();
    expect(byId(during.users, 'a2')).toMatchObject({
      status: 'suspended',
      displayName: 'Asuka Aoki (suspended)',
      apiToken: byId(before.users, 'a2').apiToken,
    });
    // others see a2 as suspended on its past messages; nothing of D3–D6 or F happened
    expect(during.messages.filter((m: any) => m.senderId === 'a2').every((m: any) => m.speakerName === 'Asuka Aoki (suspended)')).toBe(
      true,
    );
    expect(asIfActive(during, 'a2')).toEqual(before);
    expect(await target.objectKeys()).toContain(objectKey('g-solo', 'f-a2-solo'));
    expect((await deletion(scheduled.id)).status).toBe('scheduled');
  });

  it('D7, D2: a suspended user cannot sign in: the API refuses its tokens (401)', async () => {
    await target.load(graceWorld(7, (w) => (byId(w.users, 'a3').orgAdmin = true)));
    const scheduled = await schedule('a3');
    const refused = await target.call('POST', '/previews', { as: 'a3', body: { operation: 'deletion', userId: 'a1' } });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthenticated');
    expect((await undo(scheduled.id)).status).toBe(200);
    // active again: the same token works (a3 is an administrator of A again)
    expect((await target.call('GET', `/deletions/${scheduled.id}`, { as: 'a3' })).status).toBe(200);
  });

  it('D7: undo brings the user back exactly as before (export byte-identical), releases the lock, and a second undo answers the same', async () => {
    await target.load(graceWorld(7));
    const before = await target.export();
    const scheduled = await schedule('a2');
    const undone = await undo(scheduled.id);
    expect(undone.status, JSON.stringify(undone.body)).toBe(200);
    expect(undone.body).toMatchObject({ id: scheduled.id, status: 'cancelled', purgeAt: scheduled.purgeAt });
    expect(JSON.stringify(await target.export())).toBe(JSON.stringify(before));
    const again = await undo(scheduled.id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(undone.body);
    // the purge date passes: the stopped execution purges nothing
    await passGracePeriod(7);
    expect(JSON.stringify(await target.export())).toBe(JSON.stringify(before));
    expect((await deletion(scheduled.id)).status).toBe('cancelled');
    const audit = (await target.call('GET', `/operations/${scheduled.id}/audit`, { as: 'adminA' })).body.entries.map((e: any) => e.event);
    expect(audit).toEqual(expect.arrayContaining(['requested', 'suspended', 'undone']));
    expect(audit).not.toContain('purge-started');
    // the lock is released: the user can be deleted again
    expect((await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } })).body.status).toBe('scheduled');
  });

  it('D7: after the purge date the deletion runs as any deletion: the export equals an immediate deletion’s; undo is then refused (409)', async () => {
    await target.load(graceWorld(7));
    const scheduled = await schedule('a2');
    await passGracePeriod(7);
    const final = await settle(target, `/deletions/${scheduled.id}`, 'adminA', (b) => ['succeeded', 'failed'].includes(b.status));
    expect(final.status, JSON.stringify(final.error)).toBe('succeeded');
    expect(final.purgeAt).toBe(scheduled.purgeAt);
    const purged = await target.export();
    expect(Date.parse(byId(purged.users, 'a2').deletedAt)).toBeGreaterThanOrEqual(Date.parse(scheduled.purgeAt));
    const refused = await undo(scheduled.id);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('conflict');
    const audit = (await target.call('GET', `/operations/${scheduled.id}/audit`, { as: 'adminA' })).body.entries.map((e: any) => e.event);
    expect(audit).toEqual(expect.arrayContaining(['suspended', 'purge-started', 'succeeded']));

    await target.load(graceWorld(0));
    const immediate = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    expect(immediate.body.status).toBe('running');
    expect(immediate.body.purgeAt).toBeUndefined();
    expect((await settle(target, `/deletions/${immediate.body.id}`, 'adminA')).status).toBe('succeeded');
    expect(withoutDeletedAt(purged, 'a2')).toEqual(withoutDeletedAt(await target.export(), 'a2'));
    expect(final.impact).toEqual((await deletion(immediate.body.id)).impact);
  });

  it('D7: a purge racing an undo ends in exactly one of the two', async () => {
    const after = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (let i = 0; i < 4; i++) {
      await target.load(graceWorld(7));
      const before = await target.export();
      const scheduled = await schedule('a2');
      // alternately the undo or the purge date first, the other a few milliseconds behind
      const [, undone] = await Promise.all([
        after(i % 2 ? 0 : 10).then(() => passGracePeriod(7)),
        after(i % 2 ? 10 : 0).then(() => undo(scheduled.id)),
      ]);
      const final = await settle(target, `/deletions/${scheduled.id}`, 'adminA', (b) =>
        ['succeeded', 'failed', 'cancelled'].includes(b.status),
      );
      const w = await target.export();
      if (undone.status === 200) {
        expect(final.status).toBe('cancelled');
        expect(JSON.stringify(w)).toBe(JSON.stringify(before));
      } else {
        expect(undone.status).toBe(409);
        expect(final.status).toBe('succeeded');
        expect(byId(w.users, 'a2').status).toBe('deleted');
        expect(ids(w.chats)).not.toContain('my-a2');
      }
    }
  });

  it('D7: the purge step that comes after an undo purges nothing (the conditional transition decides)', async () => {
    await target.load(graceWorld(7));
    const before = await target.export();
    const scheduled = await schedule('a2');
    expect((await undo(scheduled.id)).status).toBe(200);
    // StartPurge as the execution would run it had the undo's StopExecution come too late (same process, same table)
    const { startPurge } = await import('../../functions/services/grace.js');
    expect(await startPurge(scheduled.id)).toEqual({ purge: false });
    expect((await deletion(scheduled.id)).status).toBe('cancelled');
    expect(JSON.stringify(await target.export())).toBe(JSON.stringify(before));
  });

  it('X1, D7: with a saved preview that went stale during the wait, the purge ends failed impact-changed, nothing removed, the user active again', async () => {
    await target.load(graceWorld(7));
    const preview = (await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } })).body;
    const scheduled = await schedule('a2', 'adminA', { previewId: preview.id });
    // b2 leaves g-design meanwhile: a2's leaving would now make a3 alone its administrator (D5), not a3 and b2
    const b2 = await target.call('POST', '/deletions', { as: 'adminB', body: { userId: 'b2' } });
    expect((await settle(target, `/deletions/${b2.body.id}`, 'adminB')).status).toBe('succeeded');
    const before = await target.export();
    await passGracePeriod(7);
    const final = await settle(target, `/deletions/${scheduled.id}`, 'adminA', (b) => ['succeeded', 'failed'].includes(b.status));
    expect(final.status).toBe('failed');
    expect(final.error).toMatchObject({ code: 'impact-changed', rule: 'X1' });
    expect(JSON.stringify(await target.export())).toBe(JSON.stringify(asIfActive(before, 'a2')));
  });

  it('D7: a purge whose first step fails for good ends failed, nothing removed, the user active again; a retried step purges once', async () => {
    await target.load(graceWorld(7));
    const before = await target.export();
    const failing = await schedule('a2');
    await target.fault('start-purge', { times: 1, when: 'before', error: 'StoreUnavailable' }); // not retried: Catch
    await passGracePeriod(7);
    const failed = await settle(target, `/deletions/${failing.id}`, 'adminA', (b) => ['succeeded', 'failed'].includes(b.status));
    expect(failed.status).toBe('failed');
    expect(failed.error.code).toBe('StoreUnavailable');
    expect(JSON.stringify(await target.export())).toBe(JSON.stringify(before));

    const retried = await schedule('a2');
    await target.fault('start-purge', { times: 1, when: 'after', error: 'Lambda.ServiceException' }); // began, then retried
    await passGracePeriod(7);
    expect((await settle(target, `/deletions/${retried.id}`, 'adminA', (b) => ['succeeded', 'failed'].includes(b.status))).status).toBe(
      'succeeded',
    );
    const audit = (await target.call('GET', `/operations/${retried.id}/audit`, { as: 'adminA' })).body.entries.map((e: any) => e.event);
    expect(audit.filter((e: string) => e === 'purge-started')).toHaveLength(1);
    expect(byId((await target.export()).users, 'a2').status).toBe('deleted');
  });
});

describe.skipIf(onDeployedStack)('D7 grace period: rules during the window', () => {
  it('D1: the last active administrator cannot be suspended either (422), and a suspended one does not count', async () => {
    await target.load(graceWorld(7));
    const before = await target.export();
    const alone = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'adminA' } });
    expect(alone.status).toBe(422);
    expect(alone.body.error.reasons.map((r: any) => r.rule)).toContain('D1');
    expect(await target.export()).toEqual(before);

    await target.load(graceWorld(7, (w) => (byId(w.users, 'a3').orgAdmin = true)));
    await schedule('a3'); // a3 suspended: adminA is now the last active administrator
    const last = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'adminA' } });
    expect(last.status).toBe(422);
    expect(last.body.error.reasons.map((r: any) => r.rule)).toContain('D1');
    expect(byId((await target.export()).users, 'adminA').status).toBe('active');
  });

  it('T4, D7: a suspended user still holds its seat; its purge frees it and the transfer waiting for it resumes (B2)', async () => {
    await target.load(graceWorld(0, (w) => (byId(w.organizations, 'D').deletionGraceDays = 7)));
    const scheduled = await schedule('d1', 'adminD'); // D is full: 3 of 3 seats
    const requested = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a3', destinationOrganizationId: 'D' } });
    const approved = await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminD' });
    expect(approved.body.status).toBe('awaiting-seat');
    await passGracePeriod(7);
    expect((await settle(target, `/deletions/${scheduled.id}`, 'adminD', (b) => ['succeeded', 'failed'].includes(b.status))).status).toBe(
      'succeeded',
    );
    expect((await settle(target, `/transfers/${requested.body.id}`, 'adminD', (b) => b.status === 'succeeded')).status).toBe('succeeded');
    expect(byId((await target.export()).users, 'a3').organizationId).toBe('D');
  });

  it('T5: a suspended user cannot be transferred (422: the user must be active)', async () => {
    await target.load(graceWorld(7));
    await schedule('a2');
    const refused = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a2', destinationOrganizationId: 'C' } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.reasons).toEqual(expect.arrayContaining([expect.objectContaining({ rule: 'T5' })]));
    expect(
      (
        await target.call('POST', '/previews', {
          as: 'adminA',
          body: { operation: 'transfer', userId: 'a2', destinationOrganizationId: 'C' },
        })
      ).status,
    ).toBe(422);
  });

  it('D4, D7: others plan around a suspended user as still there: b1’s deletion freezes dm-a2-b1 with a2 instead of deleting it; undo finds it', async () => {
    await target.load(graceWorld(7));
    const scheduled = await schedule('a2');
    const preview = (await target.call('POST', '/previews', { as: 'adminB', body: { operation: 'deletion', userId: 'b1' } })).body;
    expect(preview.effects).toContainEqual({ kind: 'chat-frozen', rule: 'D4', chatId: 'dm-a2-b1' });
    expect(preview.effects).not.toContainEqual(expect.objectContaining({ kind: 'chat-deleted', chatId: 'dm-a2-b1' }));
    const b1 = await target.call('POST', '/deletions', { as: 'adminB', body: { userId: 'b1' } });
    expect((await settle(target, `/deletions/${b1.body.id}`, 'adminB')).status).toBe('succeeded');
    const during = await target.export();
    expect(byId(during.chats, 'dm-a2-b1')).toMatchObject({ frozen: true, members: [expect.objectContaining({ userId: 'a2' })] });
    expect(byId(during.users, 'a2').status).toBe('suspended');
    expect((await undo(scheduled.id)).status).toBe(200);
    const after = await target.export();
    expect(byId(after.users, 'a2')).toMatchObject({ status: 'active', displayName: 'Asuka Aoki' });
    expect(ids(after.chats)).toEqual(expect.arrayContaining(['my-a2', 'g-solo', 'dm-a2-b1', 'dm-a2-c1', 'g-design']));
  });

  it('X1, D7: a deletion preview under a grace period states its purge date and that nothing is removed before it', async () => {
    await target.load(graceWorld(10));
    const preview = (await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } })).body;
    expect(preview.graceDays).toBe(10);
    expect(Math.abs(Date.parse(preview.purgeAt) - (Date.parse(await target.clock({ advanceMs: 0 })) + 10 * DAY_MS))).toBeLessThan(60_000);
    expect(preview.note).toMatch(/nothing is removed before/);
    await target.load(graceWorld(0));
    const immediate = (await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } })).body;
    expect(immediate.graceDays).toBeUndefined();
    expect(immediate.purgeAt).toBeUndefined();
  });

  it('B1: a contract cancellation ignores the grace period: the scheduled deletion is cancelled, the member deleted now, the run says so', async () => {
    await target.load(graceWorld(7));
    const scheduled = await schedule('a2');
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'A' }));
    const token = await target.operator.token();
    const run = await eventually(async () => {
      const a = await target.call('GET', `/billing-runs/b1-${eventId}`, { token });
      return a.status === 200 && a.body.status !== 'running' ? a.body : undefined;
    });
    expect(run.status).toBe('succeeded');
    expect(run.gracePeriodIgnored).toMatchObject({ days: 7, rule: 'B1' });
    const w = await target.export();
    expect(byId(w.users, 'a2').status).toBe('deleted');
    expect(ids(w.chats)).not.toContain('my-a2');
    const audit = (await target.call('GET', `/operations/b1-${eventId}/audit`, { token })).body.entries;
    expect(audit).toContainEqual(
      expect.objectContaining({ event: 'grace-period-ignored', rule: 'B1', operationId: scheduled.id, userId: 'a2' }),
    );
    // the purge date passing changes nothing more
    await passGracePeriod(7);
    expect(await target.export()).toEqual(w);
  });
});

describe.skipIf(onDeployedStack)('D7 settings: GET and PUT /organizations/{id}/settings', () => {
  it('D7: an administrator reads and sets the grace period; the world file keeps it (load/export round trip)', async () => {
    await target.load(demoWorld());
    expect((await target.call('GET', '/organizations/A/settings', { as: 'adminA' })).body).toEqual({
      organizationId: 'A',
      deletionGraceDays: 0,
    });
    const set = await target.call('PUT', '/organizations/A/settings', { as: 'adminA', body: { deletionGraceDays: 14 } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ organizationId: 'A', deletionGraceDays: 14 });
    expect((await target.call('GET', '/organizations/A/settings', { as: 'adminA' })).body.deletionGraceDays).toBe(14);
    const w = await target.export();
    expect(byId(w.organizations, 'A').deletionGraceDays).toBe(14);
    expect(byId(w.organizations, 'B').deletionGraceDays).toBeUndefined();
    // a world with a grace period and a suspended user loads and exports unchanged
    byId(w.users, 'a3').status = 'suspended';
    byId(w.users, 'a3').displayName = `${byId(w.users, 'a3').name} (suspended)`;
    await target.load(w);
    expect(await target.export()).toEqual(w);
    expect((await schedule('a2')).purgeAt).toBeDefined();
  });

  it('D7: anything but a whole number of days from 0 to 30 answers 400 naming deletionGraceDays, and changes nothing', async () => {
    await target.load(graceWorld(3));
    for (const body of [
      { deletionGraceDays: 31 },
      { deletionGraceDays: -1 },
      { deletionGraceDays: 1.5 },
      { deletionGraceDays: '7' },
      { deletionGraceDays: null },
      {},
    ]) {
      const a = await target.call('PUT', '/organizations/A/settings', { as: 'adminA', body });
      expect(a.status, JSON.stringify(body)).toBe(400);
      expect(a.body.error).toMatchObject({ code: 'invalid-request', path: 'deletionGraceDays' });
    }
    const extra = await target.call('PUT', '/organizations/A/settings', { as: 'adminA', body: { deletionGraceDays: 2, plan: 'free' } });
    expect(extra.status).toBe(400);
    expect(extra.body.error.path).toBe('plan');
    expect((await target.call('PUT', '/organizations/A/settings', { as: 'adminA', raw: '{"deletionGraceDays":' })).status).toBe(400);
    expect((await target.call('GET', '/organizations/A/settings', { as: 'adminA' })).body.deletionGraceDays).toBe(3);
  });

  it('D7: only the organization’s administrators may read or change its settings (403); an unknown organization is 404', async () => {
    await target.load(graceWorld(3));
    for (const as of ['a1', 'adminB']) {
      expect((await target.call('GET', '/organizations/A/settings', { as })).status).toBe(403);
      expect((await target.call('PUT', '/organizations/A/settings', { as, body: { deletionGraceDays: 0 } })).status).toBe(403);
    }
    expect((await target.call('PUT', '/organizations/A/settings', { token: null, body: { deletionGraceDays: 0 } })).status).toBe(401);
    expect((await target.call('GET', '/organizations/Z/settings', { as: 'adminA' })).status).toBe(404);
    expect((await target.call('GET', '/organizations/A/settings', { as: 'adminA' })).body.deletionGraceDays).toBe(3);
  });

  it('D7: undo is for an administrator of the organization, while scheduled; an immediate deletion cannot be undone (409)', async () => {
    await target.load(graceWorld(7));
    const scheduled = await schedule('a2');
    expect((await undo(scheduled.id, 'adminB')).status).toBe(403);
    expect((await undo(scheduled.id, 'a1')).status).toBe(403);
    expect((await undo('del-nothing')).status).toBe(404);
    expect((await deletion(scheduled.id)).status).toBe('scheduled');
    await target.load(graceWorld(0));
    const immediate = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    await settle(target, `/deletions/${immediate.body.id}`, 'adminA');
    expect((await undo(immediate.body.id)).status).toBe(409);
  });
});
