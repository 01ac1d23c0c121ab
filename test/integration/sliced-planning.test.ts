import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordRequests, takeRequestRecords } from '../../local/request-counts.js';
import { byId, demoWorld, openTarget, previewReady, settle, type Target } from './harness.js';

/**
 * CONTRACT.md `planning` at any user size (services/sliced-planning.ts): a user with more chats than a slice is planned
 * by the planning workflow's Map, one child per slice, then Merge. PLAN_SLICE_CHATS makes slices of a few chats, so a
 * user of some thirty chats of every kind is planned in slices; each plan must be, effect for effect and in order,
 * the plan of one pass over the whole user, and the operation must end as the same operation planned in one pass.
 */
const onDeployedStack = process.env.OFFBOARD_TARGET === 'stack';

let target: Target;
beforeAll(async () => {
  if (!onDeployedStack) target = await openTarget();
});
afterAll(async () => target?.close());
afterEach(() => {
  delete process.env.PLAN_INLINE_MAX_CHATS;
  delete process.env.PLAN_SLICE_CHATS;
  recordRequests(false);
});

/**
 * The demo world and, for a2 (organization A), 28 more group chats: alone (D3: deleted, with others' files and tasks,
 * F2), with a3 (A, stays; X3's successor), with b1 (B), with c1 (C; a transfer to C), each with a2's uploads (F1) and a
 * task assigned to a2 (D6, X3); and tasks assigned to a2 in chats a2 is not in (X3: where a3 is, reassigned).
 */
function largeWorld(): any {
  const w = demoWorld();
  const shapes: [string, string[]][] = [
    ['solo', []],
    ['a3', ['a3']],
    ['b1', ['b1']],
    ['c1', ['c1']],
  ];
  for (let i = 0; i < 28; i++) {
    const [shape, others] = shapes[i % shapes.length]!;
    const id = `g-many-${String(i).padStart(2, '0')}-${shape}`;
    const admin = i % 3 === 0 ? 'a2' : (others[0] ?? 'a2');
    w.chats.push({
      id,
      type: 'group',
      name: `Many ${i}`,
      members: ['a2', ...others].map((userId) => ({ userId, role: userId === admin ? 'admin' : 'member' })),
    });
    w.messages.push({ id: `m-many-${i}`, chatId: id, senderId: 'a2', postedAt: '2026-10-02T09:00:00Z', body: `note ${i}` });
    for (let f = 0; f < 3; f++)
      w.files.push({
        id: `f-many-${i}-${f}`,
        chatId: id,
        uploaderId: f === 2 && others[0] ? others[0] : 'a2',
        name: `d${f}.txt`,
        size: 16,
      });
    w.tasks.push({ id: `t-many-${i}`, chatId: id, assigneeId: 'a2', requesterId: others[0] ?? 'a2', body: `task ${i}` });
  }
  // X3: tasks assigned to a2 in chats a2 is not in
  w.tasks.push({ id: 't-elsewhere-partners', chatId: 'g-partners', assigneeId: 'a2', requesterId: 'a1', body: 'with a3' });
  w.tasks.push({ id: 't-elsewhere-bteam', chatId: 'g-bteam', assigneeId: 'a2', requesterId: 'b1', body: 'without a3' });
  return w;
}

/** Every effect of an impact, page after page (CONTRACT.md: the first page, then the `/effects` route's). */
async function allEffects(route: string, impact: any, as: string): Promise<any[]> {
  const effects = [...impact.effects];
  let cursor = impact.nextCursor;
  while (cursor) {
    const page = await target.call('GET', `${route}/effects?cursor=${encodeURIComponent(cursor)}`, { as });
    expect(page.status).toBe(200);
    effects.push(...page.body.effects);
    cursor = page.body.nextCursor;
  }
  return effects;
}

const SLICE_STEP = 'functions/handlers/steps/plan-slice.ts';
const slicesPlanned = () =>
  takeRequestRecords()
    .filter((r) => r.invocation?.fn.entry === SLICE_STEP)
    .map((r) => (r.invocation!.event as { slice: number }).slice);

/** The preview of `body` planned in the planning workflow: in one pass, or (`slice`) in slices of that many chats. */
async function previewIn(body: Record<string, unknown>, slice?: number) {
  process.env.PLAN_INLINE_MAX_CHATS = '0'; // never within the request
  if (slice) process.env.PLAN_SLICE_CHATS = String(slice);
  else delete process.env.PLAN_SLICE_CHATS;
  recordRequests(true);
  takeRequestRecords();
  const ready = await previewReady(target, await target.call('POST', '/previews', { as: 'adminA', body }), 'adminA');
  const children = new Set(slicesPlanned()).size;
  recordRequests(false);
  return { ready, children, effects: await allEffects(`/previews/${ready.id}`, ready, 'adminA') };
}

describe.skipIf(onDeployedStack)('CONTRACT.md planning: a large user planned in slices (a Map, then Merge)', () => {
  it.each([
    ['D3, D5, D6, F1, F2: a deletion', { operation: 'deletion', userId: 'a2' }],
    [
      'X3: a deletion with a successor (tasks reassigned where a3 is, also outside a2’s chats)',
      { operation: 'deletion', userId: 'a2', successorId: 'a3' },
    ],
    ['T4, T6, T7: a transfer to C', { operation: 'transfer', userId: 'a2', destinationOrganizationId: 'C' }],
  ])(
    'X1: %s planned in slices of 4 chats is the plan of one pass, effect for effect',
    async (_, body) => {
      await target.load(largeWorld());
      const before = await target.export();
      const whole = await previewIn(body);
      const sliced = await previewIn(body, 4);
      expect(whole.children).toBe(0);
      expect(sliced.children).toBe(9); // a2's 34 chats in slices of 4
      expect(sliced.effects.length).toBeGreaterThan(25);
      expect(sliced.effects).toEqual(whole.effects);
      expect(sliced.ready.summary).toEqual(whole.ready.summary);
      expect(sliced.ready.effectCount).toBe(whole.ready.effectCount);
      expect(await target.export()).toEqual(before); // previews change nothing
    },
    120_000,
  );

  it('D1, X1: a deletion planned in slices runs to succeeded and leaves the world exactly as the same deletion planned in one pass', async () => {
    const run = async (slice?: string) => {
      await target.load(largeWorld());
      process.env.PLAN_INLINE_MAX_CHATS = '0';
      if (slice) process.env.PLAN_SLICE_CHATS = slice;
      else delete process.env.PLAN_SLICE_CHATS;
      const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', successorId: 'a3' } });
      expect(requested.status, JSON.stringify(requested.body)).toBe(202);
      expect(requested.body.status).toBe('planning');
      const done = await settle(target, `/deletions/${requested.body.id}`, 'adminA');
      expect(done.status).toBe('succeeded');
      expect(await target.check()).toEqual([]);
      const w = await target.export();
      return { impact: done.impact, world: { ...w, users: w.users.map(({ deletedAt, ...u }: any) => u) } };
    };
    const whole = await run();
    const sliced = await run('5');
    expect(sliced.impact.summary).toEqual(whole.impact.summary);
    expect(sliced.world).toEqual(whole.world);
    // what the rules keep is kept: X3, a2's groups it was alone in stay with the successor, a3 their administrator
    const solo = sliced.world.chats.filter((c: any) => /^g-many-.*-solo$/.test(c.id));
    expect(solo).toHaveLength(7);
    for (const c of solo) expect(c.members).toEqual([{ userId: 'a3', role: 'admin' }]);
    expect(sliced.world.files.filter((f: any) => f.id.startsWith('f-many-') && f.chatId.endsWith('-a3'))).toHaveLength(21);
    expect(byId(sliced.world.tasks, 't-elsewhere-partners').assigneeId).toBe('a3'); // X3
    expect(byId(sliced.world.tasks, 't-elsewhere-bteam')).toBeUndefined(); // D6
  }, 180_000);

  it('O1, X3: the successor deleted after the slices were planned, Merge refuses the preview (422 X3 at GET /previews/{id}) and stores no plan', async () => {
    await target.load(largeWorld());
    process.env.PLAN_SLICE_CHATS = '4';
    // the planning workflow's steps run one by one, so the premise can break between the Map and Merge
    const { writePendingPreview, readPlanHeader } = await import('../../functions/store/plans.js');
    const { planInBackground, mergeInBackground } = await import('../../functions/services/background-planning.js');
    const { planSlice } = await import('../../functions/services/sliced-planning.js');
    const { getItem } = await import('../../functions/store/table.js');
    const { keys } = await import('../../functions/store/keys.js');
    const pending = await writePendingPreview(
      { id: 'pv-sliced-o1', operation: 'deletion', userId: 'a2', requestedBy: 'adminA', organizationId: 'A', successorId: 'a3' },
      3600,
    );
    const sliced = await planInBackground({ previewId: pending.id });
    expect(sliced).toEqual({ planId: pending.id, slices: 9 });
    for (let n = 0; n < sliced!.slices; n++) await planSlice(pending.id, n);
    // meanwhile a3, the successor, is deleted (X3: a successor must be an active member)
    const other = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3' } });
    expect((await settle(target, `/deletions/${other.body.id}`, 'adminA')).status).toBe('succeeded');
    await mergeInBackground({ previewId: pending.id }, sliced!.slices);
    expect((await readPlanHeader(pending.id))?.status).toBe('failed');
    const answer = await target.call('GET', `/previews/${pending.id}`, { as: 'adminA' });
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'ineligible', rule: 'X3' });
    expect(await getItem(keys.planPage(pending.id, 0))).toBeUndefined(); // nothing of the refused plan was stored
  }, 120_000);

  it('X1: requested with a saved preview the data no longer matches, a deletion planned in slices fails impact-changed; nothing changes and its plan is not kept', async () => {
    await target.load(largeWorld());
    const preview = await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } });
    expect(preview.status).toBe(200);
    // the data changes under the preview: b1 (in a2's direct chat, groups and contacts) is deleted first
    const other = await target.call('POST', '/deletions', { as: 'adminB', body: { userId: 'b1' } });
    expect((await settle(target, `/deletions/${other.body.id}`, 'adminB')).status).toBe('succeeded');
    const before = await target.export();
    process.env.PLAN_INLINE_MAX_CHATS = '0';
    process.env.PLAN_SLICE_CHATS = '4';
    const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', previewId: preview.body.id } });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    const failed = await settle(target, `/deletions/${requested.body.id}`, 'adminA');
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'impact-changed', rule: 'X1' });
    expect(await target.export()).toEqual(before);
    const { getOperation } = await import('../../functions/store/operations.js');
    const { getItem } = await import('../../functions/store/table.js');
    const { keys } = await import('../../functions/store/keys.js');
    const { planId } = (await getOperation(requested.body.id))!;
    expect(await getItem(keys.plan(planId!))).toBeUndefined();
    expect(await getItem(keys.planPage(planId!, 0))).toBeUndefined();
  }, 120_000);
});
