import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { faultWorld } from '../../fixtures/fault-world.js';
import { billingEvent, openTarget, type Target } from './harness.js';

/** POST /transfers|deletions|billing-runs/{id}/resumption (issue 10): who may, from which status, what it records. */
let target: Target;
beforeAll(async () => {
  target = await openTarget();
}, 120_000);
afterAll(async () => target?.close());
beforeEach(async () => target.load(faultWorld()));

const idle = async () => expect((await target.call('POST', '/_local/idle')).status).toBe(200);

/** A transfer of u0 to C that failed at its first step (a missing permission), before anything changed. */
async function failedTransfer(): Promise<string> {
  await target.fault('apply', { times: 1, when: 'before', error: 'AccessDeniedException' });
  const requested = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'u0', destinationOrganizationId: 'C' } });
  expect(requested.status).toBe(201);
  expect((await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminC' })).status).toBe(202);
  await idle();
  await target.fault('apply');
  const failed = await target.call('GET', `/transfers/${requested.body.id}`, { as: 'adminA' });
  expect(failed.body).toMatchObject({ status: 'failed', error: { code: 'AccessDeniedException' } });
  return requested.body.id;
}

describe('resuming a failed operation', () => {
  it('a deletion that timed out part way is resumed by an administrator of its organization: it ends succeeded, and its trail records who resumed and what was left', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    // part way: D2's transaction landed; the write carrying the phases' gathered deletes (files, contacts, members) fails
    await target.fault('apply', { times: 1, when: 'mid', error: 'Sandbox.Timedout', atWrite: '"SK":"MEMBER#' });
    const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'u0' } });
    await idle();
    await target.fault('apply');
    const failed = await target.call('GET', `/deletions/${requested.body.id}`, { as: 'adminA' });
    expect(failed.body).toMatchObject({ status: 'failed', error: { code: 'Sandbox.Timedout' } });

    const resumed = await target.call('POST', `/deletions/${requested.body.id}/resumption`, { as: 'adminA2' });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(202);
    expect(resumed.body.status).toBe('running');
    expect(resumed.body.impact).toEqual(failed.body.impact); // X1: the stored plan, not a new one
    await idle();
    const done = await target.call('GET', `/deletions/${requested.body.id}`, { as: 'adminA' });
    expect(done.body.status).toBe('succeeded');
    expect(done.body.impact).toEqual(requested.body.impact);
    expect(await target.check()).toEqual([]);

    const trail = (await target.call('GET', `/operations/${requested.body.id}/audit`, { as: 'adminA' })).body.entries;
    const entry = trail.find((e: any) => e.event === 'resumed');
    expect(entry).toMatchObject({ by: 'adminA2', run: 2, keptPlan: true });
    // what the failed run confirmed: the user (D2's own transaction); what its failed write held remained (X2)
    expect(Object.keys(entry.left).sort()).toEqual(expect.arrayContaining(['chat-deleted (D4)', 'chat-left (D4)', 'contact-removed (D4)']));
    expect(entry.left['user-deleted (D2)']).toBeUndefined();
    expect(trail.map((e: any) => e.event).slice(-1)).toEqual(['succeeded']);
  });

  it('409 naming the status when the operation is not failed; nothing changes', async () => {
    const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'u0' } });
    await idle();
    const before = await target.export();
    const again = await target.call('POST', `/deletions/${requested.body.id}/resumption`, { as: 'adminA' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('is succeeded') });
    expect(await target.export()).toEqual(before);
  });

  it('403 for an administrator of another organization and for a member; 404 for an unknown id', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const id = await failedTransfer();
    expect((await target.call('POST', `/transfers/${id}/resumption`, { as: 'adminB' })).status).toBe(403);
    expect((await target.call('POST', `/transfers/${id}/resumption`, { as: 'p00' })).status).toBe(403);
    expect((await target.call('POST', `/deletions/${id}/resumption`, { as: 'adminA' })).status).toBe(404); // a transfer, not a deletion
    expect((await target.call('POST', '/transfers/tr-nope/resumption', { as: 'adminA' })).body.error.code).toBe('not-found');
  });

  it('T1 checked again: a failed transfer whose destination plan T1 now forbids is refused 422 with its rule, and nothing changes', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const id = await failedTransfer();
    await target.billing(billingEvent('Plan Changed', { organizationId: 'C', plan: 'free' }));
    await idle();
    const before = await target.export();
    const refused = await target.call('POST', `/transfers/${id}/resumption`, { as: 'adminA' }); // O2: the source resumes
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'ineligible', rule: 'T1' });
    expect(await target.export()).toEqual(before);
    expect((await target.call('GET', `/transfers/${id}`, { as: 'adminA' })).body.status).toBe('failed');
  });

  it("a resumption takes the user's lock again: another operation on the user meanwhile makes it 409", async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const id = await failedTransfer();
    const other = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'u0', destinationOrganizationId: 'B' } });
    expect(other.status).toBe(201);
    const refused = await target.call('POST', `/transfers/${id}/resumption`, { as: 'adminA' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(other.body.id);
    expect((await target.call('POST', `/transfers/${other.body.id}/cancellation`, { as: 'adminA' })).status).toBe(200);
    const resumed = await target.call('POST', `/transfers/${id}/resumption`, { as: 'adminA' });
    expect(resumed.status).toBe(202);
    await idle();
    expect((await target.call('GET', `/transfers/${id}`, { as: 'adminC' })).body.status).toBe('succeeded');
    expect(await target.check()).toEqual([]);
  });
});

describe('resuming a failed bulk run (B1)', () => {
  it('an operator resumes a run whose batch failed: its failed members are deleted, and a second resumption is 409', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const operator = await target.operator.token();
    await target.fault('delete-batch', { times: 1, when: 'before', error: 'AccessDeniedException' });
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'A' }));
    await idle();
    await target.fault('delete-batch');
    const route = `/billing-runs/b1-${eventId}`;
    const failed = (await target.call('GET', route, { token: operator })).body;
    expect(failed).toMatchObject({ status: 'failed', done: 0, failed: failed.total });
    expect((await target.call('POST', `${route}/resumption`, { as: 'p01' })).status).toBe(403);

    const resumed = await target.call('POST', `${route}/resumption`, { token: operator });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(202);
    await idle();
    expect((await target.call('GET', route, { token: operator })).body).toMatchObject({
      status: 'succeeded',
      done: failed.total,
      failed: 0,
      remaining: 0,
    });
    const w = await target.export();
    expect(w.users.filter((u: any) => u.organizationId === 'A' && u.status !== 'deleted')).toEqual([]);
    expect(await target.check()).toEqual([]);
    const trail = (await target.call('GET', `/operations/b1-${eventId}/audit`, { token: operator })).body.entries;
    expect(trail.find((e: any) => e.event === 'resumed')).toMatchObject({
      attempt: 1,
      left: { 'members-failed (B1)': failed.total, 'members-unfinished (B1)': 0 },
    });
    const twice = await target.call('POST', `${route}/resumption`, { token: operator });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toContain('is succeeded');
  });
});
