import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordRequests, takeRequestRecords } from '../../local/request-counts.js';
import { byId, demoWorld, eventually, openTarget, planned, previewReady, settle, type Target } from './harness.js';

/**
 * CONTRACT.md `planning`: a plan too large to compute within its API request is computed by the planning state
 * machine. On the embedded stack the request's budget is set to nothing (PLAN_INLINE_MAX_CHATS=0), so the demo world's
 * operations take the background path; each must end exactly as the same operation planned within the request.
 */
const onDeployedStack = process.env.OFFBOARD_TARGET === 'stack';

let target: Target;
beforeAll(async () => {
  if (!onDeployedStack) target = await openTarget();
});
afterAll(async () => target?.close());
const inlineMs = process.env.PLAN_INLINE_MS;
afterEach(() => {
  delete process.env.PLAN_INLINE_MAX_CHATS;
  delete process.env.PLAN_INLINE_MAX_FILES;
  recordRequests(false);
  process.env.PLAN_INLINE_MS = inlineMs;
});
const inBackground = () => (process.env.PLAN_INLINE_MAX_CHATS = '0');
const inRequest = () => delete process.env.PLAN_INLINE_MAX_CHATS;
/** What two impacts of the same plan share (a preview adds its id and expiry). */
const plan = (impact: any) => ({ effectCount: impact.effectCount, summary: impact.summary, effects: impact.effects });

describe.skipIf(onDeployedStack)('CONTRACT.md planning: plans computed in the background', () => {
  it('X1: POST /previews answers 202 planning with id and expiresAt; GET /previews/{id} answers 202, then the same Impact a request-time plan gives', async () => {
    await target.load(demoWorld());
    const inline = await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a1' } });
    expect(inline.status).toBe(200);
    const before = await target.export();
    inBackground();
    const deferred = await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a1' } });
    expect(deferred.status, JSON.stringify(deferred.body)).toBe(202);
    expect(deferred.body).toEqual({ id: expect.stringMatching(/^pv-/), status: 'planning', expiresAt: expect.any(String) });
    const ready = await previewReady(target, deferred, 'adminA');
    expect(plan(ready)).toEqual(plan(inline.body));
    expect(ready.id).toBe(deferred.body.id);
    expect(ready.expiresAt).toBe(deferred.body.expiresAt); // kept 24 h from the request, as any preview
    // its pages and its audit route are a preview's like any other
    expect((await target.call('GET', `/previews/${ready.id}/effects`, { as: 'adminA' })).status).toBe(200);
    expect((await target.call('GET', `/previews/${ready.id}`, { as: 'adminB' })).status).toBe(403);
    expect(await target.export()).toEqual(before); // a preview changes nothing in the world
  });

  it('T3: a transfer is created planning (impact null, the user locked), then awaits approval with the impact a request-time plan gives, then runs', async () => {
    await target.load(demoWorld());
    const inline = await target.call('POST', '/previews', {
      as: 'adminA',
      body: { operation: 'transfer', userId: 'a1', destinationOrganizationId: 'C' },
    });
    const before = await target.export();
    inBackground();
    const requested = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } });
    expect(requested.status, JSON.stringify(requested.body)).toBe(201);
    expect(requested.body).toMatchObject({
      status: 'planning',
      impact: null,
      userId: 'a1',
      sourceOrganizationId: 'A',
      destinationOrganizationId: 'C',
    });
    // one operation per user at a time, from the moment it is requested (T3)
    inRequest();
    const second = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } });
    expect(second.status).toBe(409);
    const ready = await planned(target, `/transfers/${requested.body.id}`, requested.body, 'adminA');
    expect(ready.status).toBe('awaiting-approval');
    expect(plan(ready.impact)).toEqual(plan(inline.body));
    expect(await target.export()).toEqual(before); // nothing changes before approval (T3)
    const approved = await target.call('POST', `/transfers/${ready.id}/approval`, { as: 'adminC' });
    expect(approved.status).toBe(202);
    expect((await settle(target, `/transfers/${ready.id}`, 'adminA')).status).toBe('succeeded');
    expect(byId((await target.export()).users, 'a1').organizationId).toBe('C');
    const audit = await target.call('GET', `/operations/${ready.id}/audit`, { as: 'adminA' });
    expect(audit.body.entries.map((e: any) => e.event)).toEqual(expect.arrayContaining(['requested', 'planned', 'approved']));
    expect(await target.check()).toEqual([]);
  });

  it('D1: a deletion is created planning, then runs to succeeded with exactly the effects of the same deletion planned in the request', async () => {
    await target.load(demoWorld());
    inRequest();
    const inlineRun = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    expect(inlineRun.status).toBe(202);
    await settle(target, `/deletions/${inlineRun.body.id}`, 'adminA');
    const expected = await target.export();
    await target.load(demoWorld());
    inBackground();
    const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    expect(requested.body).toMatchObject({ status: 'planning', impact: null });
    const done = await settle(target, `/deletions/${requested.body.id}`, 'adminA');
    expect(done.status).toBe('succeeded');
    expect(plan(done.impact)).toEqual(plan(inlineRun.body.impact));
    const after = await target.export();
    const withoutInstant = (w: any) => ({ ...w, users: w.users.map(({ deletedAt, ...u }: any) => u) });
    expect(withoutInstant(after)).toEqual(withoutInstant(expected));
    expect(await target.check()).toEqual([]);
  });

  it('D7: under a grace period a deletion planned in the background is scheduled (the user suspended, purgeAt set); an undo restores it', async () => {
    const w = demoWorld();
    byId(w.organizations, 'A').deletionGraceDays = 7;
    await target.load(w);
    const before = await target.export();
    inBackground();
    const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    expect(requested.body.status).toBe('planning');
    const scheduled = await planned(target, `/deletions/${requested.body.id}`, requested.body, 'adminA');
    expect(scheduled.status).toBe('scheduled');
    expect(scheduled.purgeAt).toEqual(expect.any(String));
    expect(scheduled.impact.effectCount).toBeGreaterThan(0);
    expect(byId((await target.export()).users, 'a2').status).toBe('suspended');
    const undone = await target.call('POST', `/deletions/${scheduled.id}/undo`, { as: 'adminA' });
    expect(undone.status).toBe(200);
    expect(await target.export()).toEqual(before);
  });

  it('X1: requested with a saved preview the data no longer matches, the background plan fails the operation with impact-changed and changes nothing', async () => {
    await target.load(demoWorld());
    const preview = await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } });
    expect(preview.status).toBe(200);
    // the data changes under the preview: b1 (in a2's direct chat, group and contacts) is deleted first
    const other = await target.call('POST', '/deletions', { as: 'adminB', body: { userId: 'b1' } });
    expect((await settle(target, `/deletions/${other.body.id}`, 'adminB')).status).toBe('succeeded');
    const before = await target.export();
    inBackground();
    const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', previewId: preview.body.id } });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    expect(requested.body.status).toBe('planning');
    const failed = await settle(target, `/deletions/${requested.body.id}`, 'adminA');
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'impact-changed', rule: 'X1' });
    expect(await target.export()).toEqual(before);
    // the lock is released: the user can be deleted again, planned from the current data
    inRequest();
    const again = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    expect(again.status).toBe(202);
    expect((await settle(target, `/deletions/${again.body.id}`, 'adminA')).status).toBe('succeeded');
  });

  it('a user past the request budget is answered 202 planning after reading no more of its index than the budget (F1 files of 2,000 uploads); the planning workflow reads it whole', async () => {
    const FILES = 2000;
    const MAX_FILES = 10;
    const w = demoWorld();
    // a2's uploads in g-design, which a3 (A) stays in: F1 hands each of them over to A
    for (let i = 0; i < FILES; i++)
      w.files.push({ id: `f-many-${String(i).padStart(4, '0')}`, chatId: 'g-design', uploaderId: 'a2', name: `doc-${i}.txt`, size: 64 });
    await target.load(w);
    const before = await target.export();
    process.env.PLAN_INLINE_MAX_FILES = String(MAX_FILES);
    recordRequests(true);
    /** Items the requests of one API function read by Query (the embedded stack runs the handlers in this process). */
    const itemsReadBy = (entry: string) =>
      takeRequestRecords()
        .filter((r) => r.invocation?.fn.entry === entry && r.op === 'Query')
        .reduce((n, r) => n + (r.itemsRead ?? 0), 0);
    const deferred = await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } });
    expect(deferred.status, JSON.stringify(deferred.body)).toBe(202);
    expect(deferred.body.status).toBe('planning');
    // the request stopped one item past its budget of uploads: a small part of the 2,000 (the demo world's own reads aside)
    const read = itemsReadBy('functions/handlers/api/previews.ts');
    expect(read).toBeGreaterThan(MAX_FILES);
    expect(read).toBeLessThan(200);
    const ready = await previewReady(target, deferred, 'adminA');
    const handedOver = (impact: any) => impact.summary.find((r: any) => r.kind === 'file-handed-over' && r.rule === 'F1')?.count ?? 0;
    expect(handedOver(ready)).toBeGreaterThanOrEqual(FILES); // the workflow's plan has every upload
    expect(await target.export()).toEqual(before);
    // D1 the same way: the deletion is created planning after a bounded read, then runs every upload's F1 (named, the
    // preview would be taken as the request's plan: rules-and-safety.test.ts "a saved preview that still holds")
    takeRequestRecords();
    const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    expect(requested.body.status).toBe('planning');
    expect(itemsReadBy('functions/handlers/api/deletions.ts')).toBeLessThan(200);
    recordRequests(false);
    const done = await settle(target, `/deletions/${requested.body.id}`, 'adminA');
    expect(done.status).toBe('succeeded');
    expect(plan(done.impact)).toEqual(plan(ready));
    const after = await target.export();
    const many = after.files.filter((f: any) => f.id.startsWith('f-many-'));
    expect(many).toHaveLength(FILES);
    expect(many.every((f: any) => f.ownerOrganizationId === 'A')).toBe(true);
    expect(await target.check()).toEqual([]);
  });

  it('X1: a saved preview too large for the request (9 pages of 1,000 effects) that still holds is copied by the planning workflow, not planned again', async () => {
    const FILES = 8600; // F1 hand-overs of a2's uploads in g-design (a3 of A stays): past 8 pages with a2's other effects
    const w = demoWorld();
    for (let i = 0; i < FILES; i++)
      w.files.push({ id: `f-big-${String(i).padStart(5, '0')}`, chatId: 'g-design', uploaderId: 'a2', name: `d-${i}.txt`, size: 8 });
    await target.load(w);
    const preview = await previewReady(
      target,
      await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } }),
      'adminA',
    );
    expect(preview.effectCount).toBeGreaterThan(8000);
    recordRequests(true);
    const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', previewId: preview.id } });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    expect(requested.body.status).toBe('planning');
    const done = await settle(target, `/deletions/${requested.body.id}`, 'adminA');
    // neither the request nor the planning step read the user's index (GSI1): the plan is the preview's, copied
    const planning = ['functions/handlers/api/deletions.ts', 'functions/handlers/steps/plan.ts'];
    const indexQueries = takeRequestRecords().filter((r) => planning.includes(r.invocation?.fn.entry ?? '') && r.op === 'Query' && r.index);
    recordRequests(false);
    expect(indexQueries).toEqual([]);
    expect(done.status).toBe('succeeded');
    expect(plan(done.impact)).toEqual(plan(preview));
    const handedOver = (await target.export()).files.filter((f: any) => f.id.startsWith('f-big-'));
    expect(handedOver.every((f: any) => f.ownerOrganizationId === 'A')).toBe(true);
    expect(handedOver).toHaveLength(FILES);
    expect(await target.check()).toEqual([]);
  }, 180_000);

  it("a plan not done within the request's time (PLAN_INLINE_MS) is left to the planning workflow, whatever its size", async () => {
    await target.load(demoWorld());
    process.env.PLAN_INLINE_MS = '0';
    const deferred = await target.call('POST', '/previews', {
      as: 'adminA',
      body: { operation: 'transfer', userId: 'a1', destinationOrganizationId: 'C' },
    });
    expect(deferred.status, JSON.stringify(deferred.body)).toBe(202);
    expect((await previewReady(target, deferred, 'adminA')).effectCount).toBeGreaterThan(0);
  });

  it('X1: a request naming a preview still being planned is refused with 409, changing nothing', async () => {
    await target.load(demoWorld());
    inBackground();
    const deferred = await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } });
    expect(deferred.status).toBe(202);
    const early = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', previewId: deferred.body.id } });
    // the background may have finished already on a fast machine: then the request is accepted like any other
    if (early.status === 409) expect(early.body.error.message).toMatch(/still being planned/);
    else expect([202]).toContain(early.status);
    await eventually(async () =>
      (await target.call('GET', `/previews/${deferred.body.id}`, { as: 'adminA' })).status === 200 ? true : undefined,
    );
  });
});
