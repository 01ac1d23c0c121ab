import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWorld, openTarget, settle, type Target } from './harness.js';

/**
 * X1, G2, D4, D5 (store/operations.ts quietSince, stillQuiet): a plan's journals are read once; the check that read
 * them recorded the run counters of the organizations it read, and a later check (the approval, the run's end)
 * reads those counters alone. A run begun since in any of them moves its counter; the operation's own runs are
 * told apart by its runCount.
 */
const onDeployedStack = process.env.OFFBOARD_TARGET === 'stack';

let target: Target;
beforeAll(async () => {
  if (!onDeployedStack) target = await openTarget();
});
afterAll(async () => target?.close());

/** The demo world's T10 transfer (a1 → C), previewed by adminA and requested naming that preview. */
async function transferRequestedWithPreview() {
  await target.load(demoWorld());
  const body = { userId: 'a1', destinationOrganizationId: 'C' };
  const preview = (await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'transfer', ...body } })).body;
  return target.call('POST', '/transfers', { as: 'adminA', body: { ...body, previewId: preview.id } });
}

describe.skipIf(onDeployedStack)('run counters (the journals read once per plan)', () => {
  it('X1: a transfer requested with a saved preview is refused at its approval (409 impact-changed) when a run began since in an organization the preview read; nothing changes', async () => {
    const requested = await transferRequestedWithPreview();
    const { getOperation } = await import('../../functions/store/operations.js');
    expect(requested.status, JSON.stringify(requested.body)).toBe(201);
    const op = await getOperation(requested.body.id);
    // the request took the preview's plan and recorded the counters it read before the journals
    expect(op?.planQuiet).toMatchObject({ planId: op?.planId, runCount: 0 });
    expect(Object.keys(op!.planQuiet!.counters).sort()).toEqual(['A', 'B', 'C']);
    // b1 (organization B, which the preview read: a1's contact and direct chat with b1) is deleted meanwhile
    const other = await target.call('POST', '/deletions', { as: 'adminB', body: { userId: 'b1' } });
    expect((await settle(target, `/deletions/${other.body.id}`, 'adminB')).status).toBe('succeeded');
    const before = await target.export();
    const refused = await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminC' });
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'impact-changed', rule: 'X1' });
    expect(await target.export()).toEqual(before);
    expect((await getOperation(requested.body.id))?.status).toBe('awaiting-approval');
  }, 60_000);

  it('X1: approved with no run begun since its request, the transfer keeps its preview’s plan (the counters alone read at approval) and succeeds', async () => {
    const requested = await transferRequestedWithPreview();
    const { getOperation } = await import('../../functions/store/operations.js');
    const approved = await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminC' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(202);
    const done = await settle(target, `/transfers/${requested.body.id}`, 'adminA');
    expect(done.status).toBe('succeeded');
    const op = await getOperation(requested.body.id);
    expect(op?.plans).toBe(1); // never planned again
    expect(op?.planQuiet?.planId).toBe(op?.planId);
    const trail = (await target.call('GET', `/operations/${op!.id}/audit`, { as: 'adminA' })).body.entries;
    expect(trail).toContainEqual(expect.objectContaining({ event: 'approved', replanned: false }));
  }, 60_000);

  it('G2, X1: the counters tell a run begun in a plan organization since they were read from the operation’s own runs, and a run still open from a quiet journal', async () => {
    await target.load(demoWorld());
    const { journalBegin, journalEnd, now, othersRanBeside, quietSince, stillQuiet } = await import('../../functions/store/operations.js');
    const since = now();
    const counters = await quietSince('tr-own', ['A', 'B', 'C'], since);
    expect(counters).toBeDefined();
    const op = {
      id: 'tr-own',
      operation: 'transfer',
      userId: 'a1',
      sourceOrganizationId: 'A',
      destinationOrganizationId: 'C',
      status: 'running',
      createdAt: since,
      updatedAt: since,
      runCount: 0,
      planId: 'tr-own.1',
    } as any;
    const quiet = { planId: 'tr-own.1', counters: counters!, runCount: 0 };
    const plan = { id: 'tr-own.1', organizations: ['A', 'B', 'C'], readAt: since };
    expect(await stillQuiet(op, quiet, plan.organizations)).toBe(true);
    // its own run begins (A and C, its organizations): counted by its runCount, not as another's
    const ownAt = now();
    await journalBegin('tr-own', ['A', 'C'], ownAt);
    const running = { ...op, runCount: 1, planQuiet: quiet };
    expect(await stillQuiet(running, quiet, plan.organizations)).toBe(true);
    expect(await othersRanBeside(running, plan)).toBe(false);
    // a bulk batch begins in B, read by the plan only: another run
    const batchAt = now();
    await journalBegin('b1-batch', ['B'], batchAt);
    expect(await stillQuiet(running, quiet, plan.organizations)).toBe(false);
    expect(await othersRanBeside(running, plan)).toBe(true);
    // a plan whose journals show a run still going on records no counters at all
    expect(await quietSince('tr-later', ['B'], now())).toBeUndefined();
    await journalEnd('b1-batch', ['B'], batchAt);
    await journalEnd('tr-own', ['A', 'C'], ownAt);
    expect(await quietSince('tr-later', ['A', 'B', 'C'], new Date(Date.now() + 1000).toISOString())).toBeDefined();
  }, 60_000);

  it('X1: a plan older than the journal keeps its entries (7 days) is never taken as still current from the journals; its recorded counters still tell', async () => {
    await target.load(demoWorld());
    const { otherRunsOverlapped, quietSince, stillQuiet } = await import('../../functions/store/operations.js');
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600_000).toISOString();
    // an empty journal: the entries of runs eight days ago may have expired, so a run is assumed
    expect(await otherRunsOverlapped('tr-old', ['A', 'C'], eightDaysAgo)).toBe(true);
    expect(await otherRunsOverlapped('tr-old', ['A', 'C'], new Date(Date.now() - 3600_000).toISOString())).toBe(false);
    const counters = await quietSince('tr-old', ['A', 'C'], new Date(Date.now() - 3600_000).toISOString());
    const op = { id: 'tr-old', operation: 'transfer', sourceOrganizationId: 'A', destinationOrganizationId: 'C', runCount: 0 } as any;
    expect(await stillQuiet(op, { planId: 'tr-old.1', counters: counters!, runCount: 0 }, ['A', 'C'])).toBe(true);
  }, 60_000);

  it('X1: a plan that read more organizations than an operation records counters for is checked against its journals each time', async () => {
    await target.load(demoWorld());
    const { quietSince, QUIET_ORGANIZATIONS } = await import('../../functions/store/operations.js');
    const many = Array.from({ length: QUIET_ORGANIZATIONS + 1 }, (_, i) => `O${i}`);
    expect(await quietSince('tr-wide', many, new Date().toISOString())).toBeUndefined();
    expect(await quietSince('tr-wide', many.slice(0, QUIET_ORGANIZATIONS), new Date().toISOString())).toBeDefined();
  }, 60_000);
});
