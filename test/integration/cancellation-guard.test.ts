import { expect, it } from 'vitest';
import { billingEvent, demoWorld, type Target, useTarget } from './harness.js';

/**
 * O3, B1: while an organization's contract-cancellation run deletes its members, none of them moves out: the
 * organization carries the run, and a transfer's membership change is conditional on its absence. Without it, a
 * member transferred out between a batch's reads and its writes kept its user record (conditional) but lost its
 * files, chats and contacts to the batch.
 */
let target: Target;
useTarget((t) => (target = t), { eachWorld: demoWorld });

it('O3, B1: a transfer out of an organization whose cancellation run is deleting its members fails with rule B1, changing nothing; the member is deleted with the others', async (ctx) => {
  if (!target.canInjectFaults) ctx.skip();
  // the run's first batch starts 3 s late (then runs): the run is under way, nothing deleted yet
  await target.fault('delete-batch', { times: 1, when: 'before', error: 'ThrottlingException', holdMs: 3000 });
  const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'B' }));
  const requested = await target.call('POST', '/transfers', { as: 'adminB', body: { userId: 'b1', destinationOrganizationId: 'A' } });
  expect(requested.status, JSON.stringify(requested.body)).toBe(201);
  expect((await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminA' })).status).toBe(202);
  await target.call('POST', '/_local/idle');
  await target.fault('delete-batch');

  const transfer = (await target.call('GET', `/transfers/${requested.body.id}`, { as: 'adminA' })).body;
  expect(transfer).toMatchObject({ status: 'failed', error: { rule: 'B1' } });
  const world = await target.export();
  expect(world.users.find((u: any) => u.id === 'b1')).toMatchObject({ organizationId: 'B', status: 'deleted' });
  expect(world.users.filter((u: any) => u.organizationId === 'B' && u.status !== 'deleted')).toEqual([]);
  const run = (await target.call('GET', `/billing-runs/b1-${eventId}`, { token: await target.operator.token() })).body;
  expect(run).toMatchObject({ status: 'succeeded' });
  // once the run ended, the organization's members may move again (nothing is left to move here)
  expect(await target.check()).toEqual([]);
});

it('B1, O2: a member whose own deletion failed after user-deleted landed is deleted whole by the contract-cancellation run; its failed deletion is cancelled, naming the run', async (ctx) => {
  if (!target.canInjectFaults) ctx.skip();
  // the deletion fails part way, at its first chat-member write (user-deleted has landed; chats and tasks are left)
  await target.fault('apply', { times: 1, when: 'mid', error: 'Boom', atWrite: '"SK":"MEMBER#' });
  const requested = await target.call('POST', '/deletions', { as: 'adminB', body: { userId: 'b1' } });
  expect(requested.status, JSON.stringify(requested.body)).toBe(202);
  await target.call('POST', '/_local/idle');
  await target.fault('apply');
  expect((await target.call('GET', `/deletions/${requested.body.id}`, { as: 'adminB' })).body).toMatchObject({ status: 'failed' });
  const before = await target.export();
  expect(before.users.find((u: any) => u.id === 'b1')).toMatchObject({ status: 'deleted' });
  expect(before.chats.some((c: any) => c.members.some((m: any) => m.userId === 'b1'))).toBe(true);

  const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'B' }));
  await target.call('POST', '/_local/idle');
  const run = (await target.call('GET', `/billing-runs/b1-${eventId}`, { token: await target.operator.token() })).body;
  expect(run).toMatchObject({ status: 'succeeded', failed: 0 });
  const world = await target.export();
  // D3–D6: nothing of b1 is left in any chat or task
  expect(world.chats.filter((c: any) => c.members.some((m: any) => m.userId === 'b1')).map((c: any) => c.id)).toEqual([]);
  expect(world.tasks.filter((t: any) => t.assigneeId === 'b1').map((t: any) => t.id)).toEqual([]);
  // O2: its failed deletion is cancelled by the run (nobody could resume it now): one Deletion Cancelled, by the system
  const { events } = (await (await fetch(`${target.url}/_local/events`)).json()) as { events: { event: any }[] };
  const cancelledEvents = events.filter(
    (e) => e.event['detail-type'] === 'Deletion Cancelled' && e.event.detail.operationId === requested.body.id,
  );
  expect(cancelledEvents.map((e) => e.event.detail.by)).toEqual(['system']);
  expect(await target.check()).toEqual([]);
});
