import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { billingEvent, byId, demoWorld, eventually, openTarget, settle, type Target } from './harness.js';

/**
 * B4 (the brake on mass deletion), O2 and O3 for bulk runs, on a stack whose confirmation threshold is 2 members
 * (`offboard:confirmationThreshold`): in the demo world B and D (3 members each) wait for an operator, F (2) does not.
 */
const THRESHOLD = 2;
let target: Target;
let operator: string;
beforeAll(async () => {
  target = await openTarget({ confirmationThreshold: THRESHOLD });
  operator = await target.operator.token();
});
afterAll(async () => target?.close());
beforeEach(async () => target.load(demoWorld()));

const run = async (id: string) => (await target.call('GET', `/billing-runs/${id}`, { token: operator })).body;
/** Polls the run until `until` holds (by default: it has ended). */
const runUntil = (id: string, until: (r: any) => boolean = (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status)) =>
  eventually(async () => {
    const a = await target.call('GET', `/billing-runs/${id}`, { token: operator });
    return a.status === 200 && until(a.body) ? a.body : undefined;
  }, 120_000);
const activeOf = (w: any, org: string) =>
  w.users
    .filter((u: any) => u.organizationId === org && u.status === 'active')
    .map((u: any) => u.id)
    .sort();

describe('B4 — the brake on mass deletion', () => {
  it('B4: a contract cancellation of more members than the threshold waits in awaiting-confirmation and changes nothing', async () => {
    const before = await target.export();
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'B' }));
    const waiting = await runUntil(`b1-${eventId}`, () => true);
    expect(waiting).toMatchObject({ status: 'awaiting-confirmation', total: 3, done: 0, failed: 0, skipped: 0 });
    expect(await target.export()).toEqual(before);
    expect((await run(`b1-${eventId}`)).status).toBe('awaiting-confirmation');
  });

  it('B4: an operator confirms (202 running); only an operator may, and only while it waits', async () => {
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'B' }));
    const id = `b1-${eventId}`;
    await runUntil(id, (r) => r.status === 'awaiting-confirmation');
    expect((await target.call('POST', `/billing-runs/${id}/confirmation`, { as: 'adminB' })).status).toBe(403); // no operator scope
    const confirmed = await target.call('POST', `/billing-runs/${id}/confirmation`, { token: operator });
    expect(confirmed.status).toBe(202);
    expect(confirmed.body.status).toBe('running');
    expect(await runUntil(id)).toMatchObject({ status: 'succeeded', total: 3, done: 3, failed: 0, skipped: 0, remaining: 0 });
    expect(activeOf(await target.export(), 'B')).toEqual([]);
    expect((await target.call('POST', `/billing-runs/${id}/confirmation`, { token: operator })).status).toBe(409);
    expect(await target.check()).toEqual([]);
  });

  it('B4: an operator cancels a running run before its next batch: 200 cancelled, the members not yet deleted stay', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const before = await target.export();
    // F (2 members) runs at once; its first batch is slow to start, then throttled (retried) while the operator cancels
    await target.fault('delete-batch', { times: 1, when: 'before', error: 'ThrottlingException', holdMs: 3000 });
    const invoked = (await target.invocations())['delete-batch'] ?? 0;
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'F' }));
    const id = `b1-${eventId}`;
    await eventually(async () => (((await target.invocations())['delete-batch'] ?? 0) > invoked ? true : undefined));
    expect((await run(id)).status).toBe('running');
    const cancelled = await target.call('POST', `/billing-runs/${id}/cancellation`, { token: operator });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', error: { rule: 'B4' } });
    await target.export(); // waits until the execution has ended
    await target.fault('delete-batch');
    expect(await run(id)).toMatchObject({ status: 'cancelled', done: 0 });
    const after = await target.export();
    expect(activeOf(after, 'F')).toEqual(activeOf(before, 'F'));
    expect(after).toEqual(before);
    expect((await target.call('POST', `/billing-runs/${id}/cancellation`, { token: operator })).status).toBe(409); // it has finished
  });

  it('B4: Contract Reinstated cancels the run that has not started deleting; it can no longer be confirmed', async () => {
    const before = await target.export();
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'D' }));
    const id = `b1-${eventId}`;
    await runUntil(id, (r) => r.status === 'awaiting-confirmation');
    const out = await target.billing(billingEvent('Contract Reinstated', { organizationId: 'D' }));
    expect(out.deliveries?.[0]?.result).toMatchObject({ cancelled: [id] });
    expect(await run(id)).toMatchObject({ status: 'cancelled', error: { code: 'contract-reinstated', rule: 'B4' } });
    expect((await target.call('POST', `/billing-runs/${id}/confirmation`, { token: operator })).status).toBe(409);
    expect(await target.export()).toEqual(before);
  });

  it('B4: a Contract Reinstated with a bad detail is dead-lettered with the reason', async () => {
    const out = await target.billing(billingEvent('Contract Reinstated', { organizationId: 'NOPE' }));
    const letter = await eventually(async () => (await target.deadLetters()).find((m) => m.requestPayload?.id === out.eventId));
    expect(letter.responsePayload.errorMessage).toMatch(/no organization NOPE/);
  });

  it('B4: a Seats Changed dated 2099 is dead-lettered with its reason, changes nothing, and a later real Seats Changed applies', async () => {
    const before = await target.export();
    const forged = await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 9 }, '2099-01-01T00:00:00Z'));
    const letter = await eventually(async () => (await target.deadLetters()).find((m) => m.requestPayload?.id === forged.eventId));
    expect(letter.responsePayload.errorType).toBe('InvalidBillingEvent');
    expect(letter.responsePayload.errorMessage).toMatch(
      /^time: 2099-01-01T00:00:00(\.000)?Z is more than 5 minutes ahead of the stack's clock/,
    );
    expect(await target.export()).toEqual(before);
    const real = await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 5 }));
    expect(real.deliveries?.[0]?.result).toMatchObject({ updated: true });
    expect(byId((await target.export()).organizations, 'D').seats).toBe(5);
  });
});

describe('O2, O3 — resuming a bulk run', () => {
  /** B's run (confirmed by the operator), its only batch stopped after its plan was stored and before it deleted anyone. */
  async function failedRunOfB(): Promise<string> {
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'B' }));
    const id = `b1-${eventId}`;
    await runUntil(id, (r) => r.status === 'awaiting-confirmation');
    // DeleteBatch's writes: the run's deleting mark, the plan, the journal entry and B's run counter, the batch; then
    // the deletions
    await target.fault('delete-batch', { times: 1, when: 'mid', afterWrites: 5, error: 'AccessDeniedException' });
    expect((await target.call('POST', `/billing-runs/${id}/confirmation`, { token: operator })).status).toBe(202);
    const failed = await runUntil(id);
    await target.fault('delete-batch');
    expect(failed).toMatchObject({ status: 'failed', failed: 3 });
    expect(activeOf(await target.export(), 'B')).toEqual(['adminB', 'b1', 'b2']); // the plan was stored, nobody deleted
    return id;
  }

  it("O3: a resumed run skips b2, who moved to A after the run was planned, and reports it; A's counters stay right", async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const id = await failedRunOfB();
    const t = await target.call('POST', '/transfers', { as: 'adminB', body: { userId: 'b2', destinationOrganizationId: 'A' } });
    expect(t.status, JSON.stringify(t.body)).toBe(201);
    expect((await target.call('POST', `/transfers/${t.body.id}/approval`, { as: 'adminA' })).status).toBe(202);
    expect((await settle(target, `/transfers/${t.body.id}`, 'adminA')).status).toBe('succeeded');

    const resumed = await target.call('POST', `/billing-runs/${id}/resumption`, { token: operator });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(202);
    expect(await runUntil(id)).toMatchObject({ status: 'succeeded', total: 3, done: 2, failed: 0, skipped: 1, remaining: 0 });
    const w = await target.export();
    expect(byId(w.users, 'b2')).toMatchObject({ status: 'active', organizationId: 'A' });
    expect(byId(w.users, 'b1').status).toBe('deleted');
    expect(byId(w.users, 'adminB').status).toBe('deleted');
    expect(await target.check()).toEqual([]); // the counters of A and B match their members
    const members = await target.call('GET', '/organizations/A/members?limit=200', { as: 'adminA' });
    expect(members.body.members.map((m: any) => m.userId)).toContain('b2');
    const trail = (await target.call('GET', `/operations/${id}/audit`, { token: operator })).body.entries;
    expect(trail.find((e: any) => e.event === 'batch-finished')).toMatchObject({
      replanned: true,
      skipped: [{ userId: 'b2', rule: 'O3', reason: expect.stringContaining('now in A') }],
    });
  });

  it('O2: only an operator resumes a failed run, within 7 days of its failure; after that it can only be cancelled', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    const id = await failedRunOfB();
    expect((await target.call('POST', `/billing-runs/${id}/resumption`, { as: 'adminB' })).status).toBe(403);
    await target.clock({ advanceMs: 7 * 24 * 3600_000 + 60_000 });
    const late = await target.call('POST', `/billing-runs/${id}/resumption`, { token: operator });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/O2/);
    const cancelled = await target.call('POST', `/billing-runs/${id}/cancellation`, { token: operator });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(activeOf(await target.export(), 'B')).toEqual(['adminB', 'b1', 'b2']); // members not yet deleted stay
  });

  it('B1, O2: a failed transfer into an organization whose contract is cancelled is cancelled and cannot be resumed into it', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip();
    await target.fault('apply', { times: 1, when: 'before', error: 'AccessDeniedException' });
    const toC = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } });
    expect(toC.status, JSON.stringify(toC.body)).toBe(201);
    await target.call('POST', `/transfers/${toC.body.id}/approval`, { as: 'adminC' });
    expect((await settle(target, `/transfers/${toC.body.id}`, 'adminA')).status).toBe('failed');
    await target.fault('apply');
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'C' })); // 2 members: runs at once
    expect(await runUntil(`b1-${eventId}`)).toMatchObject({ status: 'succeeded' });
    expect((await target.call('GET', `/transfers/${toC.body.id}`, { as: 'adminA' })).body).toMatchObject({
      status: 'cancelled',
      error: { rule: 'B1' },
    });
    expect((await target.call('POST', `/transfers/${toC.body.id}/resumption`, { as: 'adminA' })).status).toBe(409);
    expect(byId((await target.export()).users, 'a1')).toMatchObject({ status: 'active', organizationId: 'A' });
  });
});
