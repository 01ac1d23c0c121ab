import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordRequests, takeRequestRecords } from '../../local/request-counts.js';
import { billingEvent, byId, demoWorld, eventually, objectKey, openTarget, settle, type Target } from './harness.js';

let target: Target;
beforeAll(async () => {
  target = await openTarget();
});
afterAll(async () => target?.close());
beforeEach(async () => target.load(demoWorld()));

/** Requests and approves a transfer to D (full: 3 of 3 seats), which then waits for a seat (T4). */
async function waitingTransferToD(userId: string): Promise<string> {
  const requested = await target.call('POST', '/transfers', { as: 'adminA', body: { userId, destinationOrganizationId: 'D' } });
  const approved = await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminD' });
  expect(approved.body.status).toBe('awaiting-seat');
  return requested.body.id;
}
const status = async (id: string) => (await target.call('GET', `/transfers/${id}`, { as: 'adminD' })).body;
const membersOf = (w: any, org: string) => w.users.filter((u: any) => u.organizationId === org && u.status === 'active').length;

async function runOf(eventId: string) {
  const token = await target.operator.token();
  return eventually(async () => {
    const a = await target.call('GET', `/billing-runs/b1-${eventId}`, { token });
    return a.status === 200 && a.body.status !== 'running' ? a.body : undefined;
  }, 600_000);
}

describe('B2 — Seats Changed', () => {
  it('B2: waiting transfers resume oldest first while seats last', async () => {
    const first = await waitingTransferToD('a2');
    const second = await waitingTransferToD('a3');
    await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 4 }));
    expect((await settle(target, `/transfers/${first}`, 'adminD', (b) => b.status === 'succeeded')).status).toBe('succeeded');
    expect((await status(second)).status).toBe('awaiting-seat');
    await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 5 }));
    expect((await settle(target, `/transfers/${second}`, 'adminD', (b) => b.status === 'succeeded')).status).toBe('succeeded');
    const w = await target.export();
    expect(byId(w.organizations, 'D').seats).toBe(5);
    expect(membersOf(w, 'D')).toBe(5);
    expect(byId(w.users, 'a2')).toMatchObject({ organizationId: 'D', allowOutsideCommunication: true, allowFileSharing: true }); // T6
  });

  it('T4, B2: a seat freed by a deletion goes to the transfer waiting longest, not to a newer approval', async () => {
    const older = await waitingTransferToD('a2');
    const freed = await target.call('POST', '/deletions', { as: 'adminD', body: { userId: 'd1' } });
    await settle(target, `/deletions/${freed.body.id}`, 'adminD');
    const newer = await waitingTransferToD('a3'); // D has a free seat now, but a2 waits for it already
    await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 3 }));
    expect((await settle(target, `/transfers/${older}`, 'adminD', (b) => b.status === 'succeeded')).status).toBe('succeeded');
    expect((await status(newer)).status).toBe('awaiting-seat');
  });

  it('B2: two seat events arriving together never over-allocate a seat', async () => {
    const waiting = [await waitingTransferToD('a1'), await waitingTransferToD('a2'), await waitingTransferToD('a3')];
    await Promise.all([
      target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 4 }, '2026-11-21T10:00:00Z')),
      target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 5 }, '2026-11-21T10:00:01Z')),
    ]);
    const finals = await Promise.all(waiting.map((id) => settle(target, `/transfers/${id}`, 'adminD', (b) => b.status !== 'running')));
    const w = await target.export();
    expect(byId(w.organizations, 'D').seats).toBe(5); // the newer event wins, whatever the arrival order
    expect(membersOf(w, 'D')).toBe(5);
    expect(finals.filter((t) => t.status === 'succeeded').length).toBe(2);
    expect(finals.filter((t) => t.status === 'awaiting-seat').length).toBe(1);
  });

  it('B2: the same event delivered twice has the effect of one', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip(); // redelivery of one event id can only be forced on the embedded stack
    const first = await waitingTransferToD('a2');
    const out = await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 4 }), { times: 2 });
    expect(out.deliveries!.map((d) => d.result.duplicate)).toEqual([false, true]);
    expect((await settle(target, `/transfers/${first}`, 'adminD', (b) => b.status === 'succeeded')).status).toBe('succeeded');
  });
});

describe('B3 — Plan Changed', () => {
  it('B3: approved transfers that T1 now forbids are cancelled, their error citing T1; others keep waiting', async () => {
    const toD = await waitingTransferToD('a2');
    await target.billing(billingEvent('Plan Changed', { organizationId: 'D', plan: 'business' })); // business → business: still allowed
    expect((await status(toD)).status).toBe('awaiting-seat');
    await target.billing(billingEvent('Plan Changed', { organizationId: 'A', plan: 'free' })); // free → enterprise: T1 forbids
    const cancelled = await eventually(async () => {
      const t = await status(toD);
      return t.status === 'cancelled' ? t : undefined;
    });
    expect(cancelled.error).toMatchObject({ code: 'plan-changed', rule: 'T1' });
    const w = await target.export();
    expect(byId(w.organizations, 'A').plan).toBe('free');
    expect(byId(w.users, 'a2').organizationId).toBe('A');
    // the lock is released with the cancellation
    expect((await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } })).status).toBe(202);
  });
});

describe('B1, F3 — Contract Cancelled', () => {
  it('B1: every member is deleted and every file its users uploaded is deleted, in chats of any organization', async () => {
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'B' }));
    const run = await runOf(eventId);
    expect(run).toMatchObject({ organizationId: 'B', status: 'succeeded', total: 3, done: 3, failed: 0, remaining: 0 });
    const w = await target.export();
    for (const id of ['adminB', 'b1', 'b2']) expect(byId(w.users, id)).toMatchObject({ status: 'deleted', apiToken: null });
    expect(w.files.filter((f: any) => ['adminB', 'b1', 'b2'].includes(f.uploaderId))).toEqual([]); // F3
    const keys = await target.objectKeys();
    expect(keys).not.toContain(objectKey('dm-a1-b1', 'f-b1-dm-a1')); // in a chat of A and B
    expect(keys).not.toContain(objectKey('g-design', 'f-b2-design')); // in A's group chat
    expect(keys).toContain(objectKey('dm-a1-b1', 'f-a1-dm-b1')); // a1's own file stays
    expect(byId(w.chats, 'dm-a1-b1')).toMatchObject({ frozen: true, members: [{ userId: 'a1', role: 'admin' }] }); // D4
    expect(byId(w.chats, 'g-bteam').members).toEqual([{ userId: 'a1', role: 'admin' }]); // D5, G2
    expect(w.contacts.filter((p: string[]) => p.some((u) => u.startsWith('b') || u === 'adminB'))).toEqual([]);
    expect(byId(w.messages, 'm003').speakerName).toBe('Beni Baba (cancelled)'); // D2
  });

  it("B1, D3, F2, F4, X2: a member's My Chat goes whole, bytes first, read once (by its deletion, not by the batch's plan), and what was in it is in the batch's record", async () => {
    const w = demoWorld();
    // b1's My Chat holds b1's file and task; b2's holds, oddly, a file posted by a1 (the schema allows it): the batch's
    // plan takes each My Chat as its member's alone (it does not read it), and its deletion reads it after the member
    // is deleted and deletes everything in it, so a1's file there goes too (F2)
    w.chats.push(
      { id: 'my-b1', type: 'my', name: 'My Chat', members: [{ userId: 'b1', role: 'admin' }] },
      { id: 'my-b2', type: 'my', name: 'My Chat', members: [{ userId: 'b2', role: 'admin' }] },
    );
    w.messages.push({ id: 'm-my-b1', chatId: 'my-b1', senderId: 'b1', postedAt: '2026-10-01T00:00:00Z', body: 'note' });
    w.files.push(
      { id: 'f-my-b1', chatId: 'my-b1', uploaderId: 'b1', name: 'note.txt', content: 'b1 keeps this' },
      { id: 'f-my-b2-a1', chatId: 'my-b2', uploaderId: 'a1', name: 'odd.txt', content: 'posted by a1' },
    );
    w.tasks.push({ id: 't-my-b1', chatId: 'my-b1', assigneeId: 'b1', requesterId: 'b1', body: 'remember' });
    await target.load(w);
    expect(await target.objectKeys()).toEqual(expect.arrayContaining([objectKey('my-b1', 'f-my-b1'), objectKey('my-b2', 'f-my-b2-a1')]));
    const embedded = process.env.OFFBOARD_TARGET !== 'stack'; // the requests are seen where the functions run in this process
    if (embedded) recordRequests(true);
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'B' }));
    expect(await runOf(eventId)).toMatchObject({ status: 'succeeded', done: 3, failed: 0 });
    if (embedded) {
      // each My Chat read once, by its deletion (its batch's plan read none)
      const reads = takeRequestRecords().filter((r) => r.op === 'Query' && r.partition?.startsWith('CHAT#my-b'));
      recordRequests(false);
      expect(reads.map((r) => r.partition).sort()).toEqual(['CHAT#my-b1', 'CHAT#my-b2']);
    }
    // X2: what the deletion found beyond the plan is in the batch's record of what it deleted
    const trail = (await target.call('GET', `/operations/b1-${eventId}/audit`, { token: await target.operator.token() })).body.entries;
    const deleted = trail.filter((e: any) => e.event === 'batch-deleted').flatMap((e: any) => e.filesDeleted);
    expect(deleted).toEqual(expect.arrayContaining(['f-my-b1', 'f-my-b2-a1']));
    const after = await target.export();
    for (const chatId of ['my-b1', 'my-b2']) {
      expect(byId(after.chats, chatId)).toBeUndefined(); // D3
      for (const key of ['messages', 'files', 'tasks']) expect(after[key].filter((x: any) => x.chatId === chatId)).toEqual([]);
    }
    const keys = await target.objectKeys();
    expect(keys).not.toContain(objectKey('my-b1', 'f-my-b1')); // F4
    expect(keys).not.toContain(objectKey('my-b2', 'f-my-b2-a1'));
    expect(await target.check()).toEqual([]);
  });

  it('B1: the same event delivered twice runs once', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const out = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'B' }), { times: 2 });
    expect(out.deliveries!.map((d) => d.result.duplicate)).toEqual([false, true]);
    const run = await runOf(out.eventId);
    expect(run).toMatchObject({ status: 'succeeded', done: 3, failed: 0 });
  });

  it('B1: a transfer waiting to join the cancelled organization is cancelled', async () => {
    const toD = await waitingTransferToD('a2');
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'D' }));
    await runOf(eventId);
    expect((await target.call('GET', `/transfers/${toD}`, { as: 'adminA' })).body).toMatchObject({
      status: 'cancelled',
      error: { rule: 'B1' },
    });
  });

  it('the run is visible to an operator and to the organization’s administrators, not to others', async () => {
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'F' }));
    await runOf(eventId);
    expect((await target.call('GET', `/billing-runs/b1-${eventId}`, { as: 'adminA' })).status).toBe(403);
    expect((await target.call('GET', `/billing-runs/b1-${eventId}`, { as: 'adminF' })).status).toBe(401); // deleted by the run
    expect((await target.call('GET', '/billing-runs/b1-none', { token: await target.operator.token() })).status).toBe(404);
  });
});

describe('malformed events change nothing and are dead-lettered with the reason', () => {
  const cases: [string, unknown, RegExp][] = [
    ['Seats Changed', { organizationId: 'D', seats: 'many' }, /detail\.seats: must be a number/],
    ['Seats Changed', { organizationId: 'D' }, /detail\.seats/],
    ['Plan Changed', { organizationId: 'D', plan: 'gold' }, /detail\.plan: must be one of/],
    ['Contract Cancelled', { organizationId: 'NOPE' }, /no organization NOPE/],
    ['Contract Cancelled', {}, /detail\.organizationId/],
  ];
  for (const [detailType, detail, reason] of cases) {
    it(`${detailType} ${JSON.stringify(detail)}: rejected with ${reason.source}`, async () => {
      const before = await target.export();
      const out = await target.billing(billingEvent(detailType, detail));
      const letter = await eventually(async () => (await target.deadLetters()).find((m) => m.requestPayload?.id === out.eventId));
      expect(letter.responsePayload.errorType).toBe('InvalidBillingEvent');
      expect(letter.responsePayload.errorMessage).toMatch(reason);
      expect(await target.export()).toEqual(before);
    });
  }
});
