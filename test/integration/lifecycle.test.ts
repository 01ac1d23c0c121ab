import { describe, expect, it } from 'vitest';
import { billingEvent, demoWorld, type Target, useTarget } from './harness.js';

/**
 * O1, O2 (RULES.md "operations over time"): an operation that failed, waited or was resumed long after it was
 * planned changes nothing unless its premises still hold; a failed operation can be cancelled, and resumed only by
 * who could request it, only within 7 days. Each case went wrong before the lifecycle had one home.
 */
let target: Target;
useTarget((t) => (target = t), { eachWorld: demoWorld });

const idle = async () => expect((await target.call('POST', '/_local/idle')).status).toBe(200);
const user = async (id: string) => (await target.export()).users.find((u: any) => u.id === id);

/** A deletion of `userId` that failed at its first step (a missing permission), before anything changed. */
async function failedDeletion(userId: string): Promise<string> {
  await target.fault('apply', { times: 1, when: 'before', error: 'AccessDeniedException' });
  const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId } });
  expect(requested.status, JSON.stringify(requested.body)).toBe(202);
  await idle();
  await target.fault('apply');
  expect((await target.call('GET', `/deletions/${requested.body.id}`, { as: 'adminA' })).body).toMatchObject({ status: 'failed' });
  return requested.body.id;
}

/** A transfer of `userId` from A to `to`, approved, that failed at its first step. */
async function failedTransfer(userId: string, to: string, approver: string, previewId?: string): Promise<string> {
  await target.fault('apply', { times: 1, when: 'before', error: 'AccessDeniedException' });
  const requested = await target.call('POST', '/transfers', {
    as: 'adminA',
    body: { userId, destinationOrganizationId: to, ...(previewId ? { previewId } : {}) },
  });
  expect(requested.status, JSON.stringify(requested.body)).toBe(201);
  expect((await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: approver })).status).toBe(202);
  await idle();
  await target.fault('apply');
  expect((await target.call('GET', `/transfers/${requested.body.id}`, { as: 'adminA' })).body).toMatchObject({ status: 'failed' });
  return requested.body.id;
}

describe('O1, O2: resuming a failed operation', () => {
  it('O1: a failed deletion of a2 is not resumed once a2 moved to C: 422 with rule O1, and a2 stays an active member of C', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const deletion = await failedDeletion('a2');
    const transfer = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a2', destinationOrganizationId: 'C' } });
    expect(transfer.status, JSON.stringify(transfer.body)).toBe(201);
    expect((await target.call('POST', `/transfers/${transfer.body.id}/approval`, { as: 'adminC' })).status).toBe(202);
    await idle();
    expect(await user('a2')).toMatchObject({ organizationId: 'C', status: 'active' });
    const before = await target.export();

    const refused = await target.call('POST', `/deletions/${deletion}/resumption`, { as: 'adminA' });
    expect(refused.status, JSON.stringify(refused.body)).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'ineligible', rule: 'O1' });
    await idle();
    expect(await target.export()).toEqual(before);
    expect((await target.call('GET', `/deletions/${deletion}`, { as: 'adminA' })).body.status).toBe('failed');
    expect(await target.check()).toEqual([]);
  });

  it('O1, X1: a transfer that found no seat is not marked as applying its plan: resumed after the data changed, it fails impact-changed again and applies nothing', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 4 }));
    const preview = await target.call('POST', '/previews', {
      as: 'adminA',
      body: { operation: 'transfer', userId: 'a1', destinationOrganizationId: 'D' },
    });
    expect(preview.status).toBe(200);
    const id = await failedTransfer('a1', 'D', 'adminD', preview.body.id);
    // D is full again: the resumed run's ApplyMembership finds no seat (T4) and the transfer waits
    await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 3 }));
    expect((await target.call('POST', `/transfers/${id}/resumption`, { as: 'adminA' })).status).toBe(202);
    await idle();
    expect((await target.call('GET', `/transfers/${id}`, { as: 'adminA' })).body.status).toBe('awaiting-seat');
    // the data the saved preview was made from changes: b1, whose contact with a1 the plan breaks (T7), is deleted
    const b1 = await target.call('POST', '/deletions', { as: 'adminB', body: { userId: 'b1' } });
    expect(b1.status).toBe(202);
    await idle();
    // a seat frees: B2 starts the transfer again, which plans again and finds the preview stale (X1)
    await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 4 }));
    await idle();
    expect((await target.call('GET', `/transfers/${id}`, { as: 'adminA' })).body).toMatchObject({
      status: 'failed',
      error: { code: 'impact-changed' },
    });
    const before = await target.export();

    // resumed, it must not apply the plan it stored before the data changed
    expect((await target.call('POST', `/transfers/${id}/resumption`, { as: 'adminA' })).status).toBe(202);
    await idle();
    expect((await target.call('GET', `/transfers/${id}`, { as: 'adminA' })).body).toMatchObject({
      status: 'failed',
      error: { code: 'impact-changed' },
    });
    expect(await user('a1')).toMatchObject({ organizationId: 'A', status: 'active' });
    expect(await target.export()).toEqual(before);
    expect(await target.check()).toEqual([]);
  });

  it('O2, T3: a failed transfer is resumed by an administrator of its source; the destination alone is refused (403)', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const id = await failedTransfer('a1', 'C', 'adminC');
    const before = await target.export();
    const refused = await target.call('POST', `/transfers/${id}/resumption`, { as: 'adminC' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('only an administrator of A');
    expect(await target.export()).toEqual(before);
    expect((await target.call('POST', `/transfers/${id}/resumption`, { as: 'adminA' })).status).toBe(202);
    await idle();
    expect((await target.call('GET', `/transfers/${id}`, { as: 'adminC' })).body.status).toBe('succeeded');
    expect(await target.check()).toEqual([]);
  });

  it('O2: 7 days after its failure a deletion is no longer resumed (409); it can still be cancelled, and then it is never resumed', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const id = await failedDeletion('a3');
    await target.clock({ advanceMs: 7 * 24 * 3600 * 1000 + 60_000 });
    const before = await target.export();
    const late = await target.call('POST', `/deletions/${id}/resumption`, { as: 'adminA' });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('more than 7 days ago') });
    expect(await target.export()).toEqual(before);

    const cancelled = await target.call('POST', `/deletions/${id}/cancellation`, { as: 'adminA' });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await target.call('POST', `/deletions/${id}/resumption`, { as: 'adminA' })).status).toBe(409);
    expect((await target.call('POST', `/deletions/${id}/cancellation`, { as: 'adminA' })).status).toBe(409);
    expect(await target.export()).toEqual(before);
    expect(await target.check()).toEqual([]);
  });

  it('O2: a failed transfer and a failed deletion are cancelled by their administrators (200, nothing changes, the user free for a new operation); others get 403', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const transfer = await failedTransfer('a1', 'C', 'adminC');
    const deletion = await failedDeletion('a3');
    const before = await target.export();
    expect((await target.call('POST', `/deletions/${deletion}/cancellation`, { as: 'adminB' })).status).toBe(403);
    expect((await target.call('POST', `/deletions/${deletion}/cancellation`, { as: 'a2' })).status).toBe(403);
    expect((await target.call('POST', `/transfers/${transfer}/cancellation`, { as: 'adminB' })).status).toBe(403);
    expect((await target.call('POST', `/transfers/${transfer}/cancellation`, { as: 'adminC' })).body.status).toBe('cancelled');
    expect((await target.call('POST', `/deletions/${deletion}/cancellation`, { as: 'adminA' })).body.status).toBe('cancelled');
    expect(await target.export()).toEqual(before);
    const trail = (await target.call('GET', `/operations/${deletion}/audit`, { as: 'adminA' })).body.entries;
    expect(trail.at(-1)).toMatchObject({ event: 'cancelled', by: 'adminA', rule: 'O2' });
    // cancelled, not failed: a new operation on the same user is taken
    expect((await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3' } })).status).toBe(202);
    await idle();
    expect(await target.check()).toEqual([]);
  });

  it('B2 reading: the seat goes to the transfer that has waited longest since its approval found none, not to the one requested first', async () => {
    // D is full (3 seats, 3 members): both transfers wait; a1's was requested first, a2's approved first
    const first = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'D' } });
    const second = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a2', destinationOrganizationId: 'D' } });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect((await target.call('POST', `/transfers/${second.body.id}/approval`, { as: 'adminD' })).body.status).toBe('awaiting-seat');
    await target.clock({ advanceMs: 60_000 });
    expect((await target.call('POST', `/transfers/${first.body.id}/approval`, { as: 'adminD' })).body.status).toBe('awaiting-seat');
    await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 4 }));
    await idle();
    expect((await target.call('GET', `/transfers/${second.body.id}`, { as: 'adminD' })).body.status).toBe('succeeded');
    expect((await target.call('GET', `/transfers/${first.body.id}`, { as: 'adminD' })).body.status).toBe('awaiting-seat');
    expect(await target.check()).toEqual([]);
  });

  it('O2: a running or succeeded operation is not cancelled through the failed route (409)', async () => {
    const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3' } });
    await idle();
    const refused = await target.call('POST', `/deletions/${requested.body.id}/cancellation`, { as: 'adminA' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('is succeeded');
  });
});
