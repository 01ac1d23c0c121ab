import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoWorld, eventually, openTarget, settle, type Target } from './harness.js';

/**
 * The admin console's API (docs/http-api.md): GET /me, GET /organizations, an organization's members, transfers
 * and deletions, GET /billing-runs; `progress` on Transfer and Deletion; `names` on the /effects routes.
 */
let target: Target;
let operator: string;
beforeAll(async () => {
  target = await openTarget();
  operator = await target.operator.token();
});
afterAll(async () => target?.close());

/** Every page of a list, following `nextCursor`; checks each page's size. */
async function allPages(route: string, key: string, as: { as?: string; token?: string }, limit: number) {
  const items: any[] = [];
  const pages: number[] = [];
  let cursor: string | undefined;
  do {
    const sep = route.includes('?') ? '&' : '?';
    const a = await target.call('GET', `${route}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, as);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body[key].length).toBeLessThanOrEqual(limit);
    items.push(...a.body[key]);
    pages.push(a.body[key].length);
    cursor = a.body.nextCursor;
    if (pages.length > 1000) throw new Error('the cursor does not advance');
  } while (cursor !== undefined);
  return { items, pages };
}

const request = (userId: string, destinationOrganizationId: string, as = 'adminA') =>
  target.call('POST', '/transfers', { as, body: { userId, destinationOrganizationId } });

/** Who may call a route: no token 401, a member 403, an administrator of another organization 403, the right one 200. */
async function expectAdminOnly(route: string, admin: string, member: string, otherAdmin: string) {
  expect((await target.call('GET', route, { token: null })).status).toBe(401);
  const forbidden = await target.call('GET', route, { as: member });
  expect(forbidden.status).toBe(403);
  expect(forbidden.body.error.code).toBe('forbidden');
  expect((await target.call('GET', route, { as: otherAdmin })).status).toBe(403);
  expect((await target.call('GET', route, { as: admin })).status).toBe(200);
}

describe('GET /me', () => {
  beforeAll(async () => target.load(demoWorld()));

  it('answers the caller: an administrator with the organization it administers', async () => {
    const a = await target.call('GET', '/me', { as: 'adminA' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      userId: 'adminA',
      displayName: 'Ayumi Admin',
      organizationId: 'A',
      status: 'active',
      role: 'admin',
      administers: ['A'],
      operator: false,
    });
  });
  it('answers a member with no organization to administer', async () => {
    expect((await target.call('GET', '/me', { as: 'a1' })).body).toEqual({
      userId: 'a1',
      displayName: 'Akira Abe',
      organizationId: 'A',
      status: 'active',
      role: 'member',
      administers: [],
      operator: false,
    });
  });
  it('operator: answers the platform operator (an active user of the world, no organization) with operator: true', async () => {
    const a = await target.call('GET', '/me', { token: operator });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ userId: 'platform-operator', operator: true, administers: [], organizationId: null });
  });
  it('refuses no token (401), a user not in the world (404) and a deleted user, whose sessions ended (401, D2)', async () => {
    expect((await target.call('GET', '/me', { token: null })).status).toBe(401);
    const unknown = await target.call('GET', '/me', { as: 'nobody' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('nobody');
    expect((await target.call('GET', '/me', { as: 'old1' })).status).toBe(401);
  });
});

describe('GET /organizations', () => {
  beforeAll(async () => target.load(demoWorld()));

  it('lists every organization with its name and plan, to any signed-in user or operator', async () => {
    const a = await target.call('GET', '/organizations', { as: 'a1' });
    expect(a.status).toBe(200);
    expect(a.body.organizations).toEqual(demoWorld().organizations.map((o: any) => ({ id: o.id, name: o.name, plan: o.plan })));
    expect(a.body.nextCursor).toBeUndefined();
    expect((await target.call('GET', '/organizations', { token: operator })).body.organizations).toHaveLength(5);
    expect((await target.call('GET', '/organizations', { token: null })).status).toBe(401);
  });
  it('pages with limit and nextCursor, each organization once', async () => {
    const { items, pages } = await allPages('/organizations', 'organizations', { as: 'adminB' }, 2);
    expect(pages).toEqual([2, 2, 1]);
    expect(items.map((o) => o.id)).toEqual(['A', 'B', 'C', 'D', 'F']);
  });
  it('shows the plan a billing event set (B3): the list reads the organization as it is now', async () => {
    await target.billing({ Source: 'billing', DetailType: 'Plan Changed', Detail: { organizationId: 'D', plan: 'business' } });
    const a = await target.call('GET', '/organizations', { as: 'a1' });
    expect(a.body.organizations.find((o: any) => o.id === 'D').plan).toBe('business');
  });
  it('refuses a bad limit or cursor with 400 naming it, and changes nothing', async () => {
    for (const limit of ['0', '201', 'ten', '-1', '1.5']) {
      const a = await target.call('GET', `/organizations?limit=${limit}`, { as: 'a1' });
      expect(a.status, limit).toBe(400);
      expect(a.body.error).toMatchObject({ code: 'invalid-request', path: 'limit' });
    }
    for (const cursor of ['%%%', 'not a cursor', 'x'.repeat(600), 'QR']) {
      const a = await target.call('GET', `/organizations?cursor=${encodeURIComponent(cursor)}`, { as: 'a1' });
      expect(a.status, cursor).toBe(400);
      expect(a.body.error).toMatchObject({ code: 'invalid-request', path: 'cursor' });
    }
    expect((await target.call('GET', '/organizations?limit=200', { as: 'a1' })).status).toBe(200);
  });
});

describe('GET /organizations/{id}/members', () => {
  beforeAll(async () => target.load(demoWorld()));

  it('lists the members by id with role and status; a user deleted before 2016 shows as "Cancelled user" (D2)', async () => {
    const a = await target.call('GET', '/organizations/A/members', { as: 'adminA' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      members: [
        { userId: 'a1', displayName: 'Akira Abe', name: 'Akira Abe', role: 'member', status: 'active' },
        { userId: 'a2', displayName: 'Asuka Aoki', name: 'Asuka Aoki', role: 'member', status: 'active' },
        { userId: 'a3', displayName: 'Arata Ando', name: 'Arata Ando', role: 'member', status: 'active' },
        { userId: 'adminA', displayName: 'Ayumi Admin', name: 'Ayumi Admin', role: 'admin', status: 'active' },
        // the own name too, so the console words D2's "Cancelled user" in the reader's language
        { userId: 'old1', displayName: 'Cancelled user', name: 'Osamu Oda', role: 'member', status: 'deleted' },
      ],
    });
  });
  it('pages through more than one page', async () => {
    const { items, pages } = await allPages('/organizations/A/members', 'members', { as: 'adminA' }, 2);
    expect(pages).toEqual([2, 2, 1]);
    expect(items.map((m) => m.userId)).toEqual(['a1', 'a2', 'a3', 'adminA', 'old1']);
  });
  it('q matches the id or the shown name, as a substring, ignoring case', async () => {
    const q = async (text: string) =>
      (await target.call('GET', `/organizations/A/members?q=${encodeURIComponent(text)}`, { as: 'adminA' })).body.members.map(
        (m: any) => m.userId,
      );
    expect(await q('AOKI')).toEqual(['a2']);
    expect(await q('admin')).toEqual(['adminA']);
    expect(await q('a3')).toEqual(['a3']);
    expect(await q('cancelled')).toEqual(['old1']);
    expect(await q('zzz')).toEqual([]);
    const paged = await allPages('/organizations/A/members?q=An', 'members', { as: 'adminA' }, 1);
    expect(paged.items.map((m) => m.userId)).toEqual(['a3', 'old1']); // Arata Ando, Cancelled user
    expect(paged.pages).toEqual([1, 1]);
  });
  it('authorization: no token 401, a member 403, an administrator of another organization 403, its administrator and an operator 200', async () => {
    await expectAdminOnly('/organizations/A/members', 'adminA', 'a1', 'adminB');
    expect((await target.call('GET', '/organizations/A/members', { token: operator })).body.members).toHaveLength(5);
    expect((await target.call('GET', '/organizations/Z/members', { token: operator })).status).toBe(404);
    expect((await target.call('GET', `/organizations/${'x'.repeat(257)}/members`, { as: 'adminA' })).body.error.path).toBe('id');
    expect((await target.call('GET', `/organizations/A/members?q=${'x'.repeat(257)}`, { as: 'adminA' })).body.error.path).toBe('q');
  });
});

describe('GET /organizations/{id}/transfers and /deletions, with progress', () => {
  beforeEach(async () => target.load(demoWorld()));

  it('T3: a requested transfer is outgoing at its source and incoming at its destination, newest first, its impact summed up', async () => {
    const ids: string[] = [];
    for (const user of ['a1', 'a2', 'a3']) {
      const r = await request(user, 'C');
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      ids.push(r.body.id);
    }
    const outgoing = await allPages('/organizations/A/transfers?direction=outgoing', 'transfers', { as: 'adminA' }, 2);
    expect(outgoing.pages).toEqual([2, 1]);
    expect(outgoing.items.map((t) => t.id)).toEqual([...ids].reverse());
    const first = outgoing.items.find((t) => t.id === ids[0]);
    expect(first).toMatchObject({
      userId: 'a1',
      sourceOrganizationId: 'A',
      destinationOrganizationId: 'C',
      status: 'awaiting-approval',
      requestedBy: 'adminA',
      approvedBy: null,
    });
    expect(first.impact).toEqual({ operation: 'transfer', userId: 'a1', effectCount: 13, summary: expect.any(Array) });
    expect(first.progress.phases.map((p: any) => p.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    expect(first.progress).toMatchObject({ done: 0, total: 13 });
    const incoming = await target.call('GET', '/organizations/C/transfers?direction=incoming', { as: 'adminC' });
    expect(incoming.body.transfers.map((t: any) => t.id)).toEqual([...ids].reverse());
    // the people the page is about, by name (the console's lists show them): the users and who requested
    const named = (name: string, organizationId: string) => ({ displayName: name, organizationId, name, status: 'active' });
    expect(incoming.body.names.users).toEqual({
      a1: named('Akira Abe', 'A'),
      a2: named('Asuka Aoki', 'A'),
      a3: named('Arata Ando', 'A'),
      adminA: named('Ayumi Admin', 'A'),
    });
    expect((await target.call('GET', '/organizations/A/transfers?direction=incoming', { as: 'adminA' })).body).toEqual({
      transfers: [],
      names: { users: {} },
    });
    expect((await target.call('GET', '/organizations/C/transfers?direction=outgoing', { as: 'adminC' })).body).toEqual({
      transfers: [],
      names: { users: {} },
    });
  });

  it('filters by status (one or several), paging through the filtered list', async () => {
    const [t1, t2, t3] = [(await request('a1', 'C')).body.id, (await request('a2', 'C')).body.id, (await request('a3', 'C')).body.id];
    expect((await target.call('POST', `/transfers/${t2}/cancellation`, { as: 'adminC' })).status).toBe(200);
    await target.call('POST', `/transfers/${t3}/approval`, { as: 'adminC' });
    await settle(target, `/transfers/${t3}`, 'adminC');
    const list = async (status: string, limit = 50) =>
      (await allPages(`/organizations/A/transfers?direction=outgoing&status=${status}`, 'transfers', { as: 'adminA' }, limit)).items.map(
        (t) => t.id,
      );
    expect(await list('awaiting-approval', 1)).toEqual([t1]);
    expect(await list('cancelled', 1)).toEqual([t2]);
    expect(await list('succeeded')).toEqual([t3]);
    expect(await list('running')).toEqual([]);
    expect(await list('awaiting-approval,cancelled', 1)).toEqual([t2, t1]);
    for (const status of ['awaiting-seat', 'failed', 'scheduled']) expect(await list(status)).toEqual([]);
  });

  it('refuses a missing or unknown direction or status with 400 naming it', async () => {
    const bad = async (query: string, path: string) => {
      const a = await target.call('GET', `/organizations/A/transfers${query}`, { as: 'adminA' });
      expect(a.status, query).toBe(400);
      expect(a.body.error).toMatchObject({ code: 'invalid-request', path });
    };
    await bad('', 'direction');
    await bad('?direction=sideways', 'direction');
    await bad('?direction=incoming,outgoing', 'direction');
    await bad('?direction=incoming&status=done', 'status');
    await bad('?direction=incoming&limit=500', 'limit');
    expect((await target.call('GET', '/organizations/A/deletions?status=pending', { as: 'adminA' })).body.error.path).toBe('status');
  });

  it("authorization: transfers and deletions lists are for the organization's administrators only", async () => {
    await expectAdminOnly('/organizations/A/transfers?direction=outgoing', 'adminA', 'a1', 'adminB');
    await expectAdminOnly('/organizations/C/transfers?direction=incoming', 'adminC', 'c1', 'adminA');
    await expectAdminOnly('/organizations/A/deletions', 'adminA', 'a1', 'adminC');
    // an operator is an active user but no administrator of A: 403 as on every administrator's route
    expect((await target.call('GET', '/organizations/A/deletions', { token: operator })).status).toBe(403);
  });

  it("T10: progress goes from pending to done across a real run, phase by phase with the plan's counts", async () => {
    const requested = await request('a1', 'C');
    expect(requested.body.progress).toEqual({
      phases: [
        { name: 'ApplyMembership', status: 'pending', done: 0, total: 3 },
        { name: 'HandleFiles', status: 'pending', done: 0, total: 4 },
        { name: 'PruneContacts', status: 'pending', done: 0, total: 1 },
        { name: 'LeaveChats', status: 'pending', done: 0, total: 3 },
        { name: 'DeleteChats', status: 'pending', done: 0, total: 2 },
      ],
      done: 0,
      total: 13,
    });
    await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminC' });
    const final = await settle(target, `/transfers/${requested.body.id}`, 'adminA');
    expect(final.status).toBe('succeeded');
    expect(final.progress.phases.map((p: any) => [p.name, p.status, p.done, p.total])).toEqual([
      ['ApplyMembership', 'done', 3, 3],
      ['HandleFiles', 'done', 4, 4],
      ['PruneContacts', 'done', 1, 1],
      ['LeaveChats', 'done', 3, 3],
      ['DeleteChats', 'done', 2, 2],
    ]);
    expect(final.progress).toMatchObject({ done: 13, total: 13 });
    const listed = (await target.call('GET', '/organizations/C/transfers?direction=incoming&status=succeeded', { as: 'adminC' })).body
      .transfers[0];
    expect(listed.progress).toEqual(final.progress);
  });

  it('D1: a deletion is listed with its progress; a run that fails part way shows what it applied and where it stopped', async () => {
    if (!target.canInjectFaults) return;
    // not retried: D2's own transaction lands, then the write carrying the phases' gathered deletes (files, contacts,
    // chat members: one BatchWriteItem for a small operation) fails at its first chat-member key
    await target.fault('apply', { times: 1, when: 'mid', atWrite: '"SK":"MEMBER#', error: 'Boom' });
    try {
      const d = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
      expect(d.status).toBe(202);
      const failed = await settle(target, `/deletions/${d.body.id}`, 'adminA');
      expect(failed.status).toBe('failed');
      const byPhase = Object.fromEntries(failed.progress.phases.map((p: any) => [p.name, p]));
      expect(byPhase.DeleteUser).toMatchObject({ status: 'done', done: 2, total: 2 }); // user-deleted, api-token-revoked (D2)
      // X2: what the failed write held is not shown as applied
      for (const name of ['PruneContacts', 'LeaveChats', 'DeleteChats']) {
        expect(byPhase[name], name).toMatchObject({ done: 0 });
        expect(byPhase[name].status, name).not.toBe('done');
        expect(byPhase[name].total, name).toBeGreaterThan(0);
      }
      const listed = await target.call('GET', '/organizations/A/deletions?status=failed', { as: 'adminA' });
      expect(listed.body.deletions.map((x: any) => x.id)).toEqual([d.body.id]);
      expect(listed.body.deletions[0].progress).toEqual(failed.progress);
      expect(listed.body.deletions[0].impact.effects).toBeUndefined();
      expect((await target.call('GET', '/organizations/A/deletions?status=succeeded', { as: 'adminA' })).body.deletions).toEqual([]);
    } finally {
      await target.fault('apply');
    }
  });
});

describe('names on the /effects routes', () => {
  beforeEach(async () => target.load(demoWorld()));

  it("T10: the first page (no cursor) is the preview's effects, with the name of every id on it", async () => {
    const preview = await target.call('POST', '/previews', {
      as: 'adminA',
      body: { operation: 'transfer', userId: 'a1', destinationOrganizationId: 'C' },
    });
    expect(preview.body.names).toBeUndefined(); // POST answers stay as they were
    const page = await target.call('GET', `/previews/${preview.body.id}/effects`, { as: 'adminA' });
    expect(page.status).toBe(200);
    expect(page.body.effects).toEqual(preview.body.effects);
    expect(page.body.nextCursor).toBeUndefined();
    const { names } = page.body;
    expect(Object.keys(names.users).sort()).toEqual(['a1', 'a2', 'b1']);
    expect(names.users.a1).toEqual({ displayName: 'Akira Abe', organizationId: 'A', name: 'Akira Abe', status: 'active' });
    expect(names.users.b1).toEqual({ displayName: 'Beni Baba', organizationId: 'B', name: 'Beni Baba', status: 'active' });
    expect(Object.keys(names.chats).sort()).toEqual(['dm-a1-b1', 'g-bteam', 'g-launch']);
    const world = demoWorld();
    expect(names.chats['g-launch']).toEqual({ name: world.chats.find((c: any) => c.id === 'g-launch').name, type: 'group' });
    // a direct chat has no name: its members, so the console names it by the other person
    expect(names.chats['dm-a1-b1']).toEqual({ name: null, type: 'direct', members: ['a1', 'b1'] });
    expect(names.organizations).toEqual({ A: { name: 'Company A' }, C: { name: 'Company C' } });
    expect(Object.keys(names.files).sort()).toEqual(['f-a1-bteam', 'f-a1-dm-b1', 'f-a1-launch', 'f-b1-dm-a1']);
    for (const [id, n] of Object.entries<any>(names.files)) {
      const file = world.files.find((f: any) => f.id === id);
      // X4: its size and owner, so the console counts what an export would hold
      const size = file.content !== undefined ? Buffer.byteLength(file.content) : file.size;
      expect(n).toEqual({
        name: file.name,
        uploaderId: file.uploaderId,
        size,
        ...(file.ownerOrganizationId ? { ownerOrganizationId: file.ownerOrganizationId } : {}),
      });
    }
    expect(names.tasks).toEqual({ 't-dm-a1-b1': { title: world.tasks.find((t: any) => t.id === 't-dm-a1-b1').body ?? '' } });
  });

  it('D2: after a deletion its effects page names the deleted user "Name (cancelled)"', async () => {
    const d = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    expect((await settle(target, `/deletions/${d.body.id}`, 'adminA')).status).toBe('succeeded');
    const page = await target.call('GET', `/deletions/${d.body.id}/effects`, { as: 'adminA' });
    expect(page.status).toBe(200);
    expect(page.body.effects).toEqual(d.body.impact.effects);
    expect(page.body.names.users.a2).toEqual({
      displayName: 'Asuka Aoki (cancelled)',
      organizationId: 'A',
      name: 'Asuka Aoki',
      status: 'deleted',
    });
    // what the run deleted has no name left to show (docs/http-api.md, "Names"): every name given is of a record that still exists
    const world = await target.export();
    for (const id of Object.keys(page.body.names.chats)) expect(world.chats.map((c: any) => c.id)).toContain(id);
  });

  it('X2: the audit trail names who acted (the console shows "by Ayumi Admin", not the id)', async () => {
    const t = await request('a1', 'C');
    const audit = await target.call('GET', `/operations/${t.body.id}/audit`, { as: 'adminA' });
    expect(audit.body.entries.map((e: any) => e.by)).toContain('adminA');
    expect(audit.body.names.users).toEqual({
      adminA: { displayName: 'Ayumi Admin', organizationId: 'A', name: 'Ayumi Admin', status: 'active' },
    });
  });

  it("a transfer's effects page has names too, and its access stays that of the transfer", async () => {
    const t = await request('a1', 'C');
    const page = await target.call('GET', `/transfers/${t.body.id}/effects`, { as: 'adminC' });
    expect(page.body.names.users.a1.displayName).toBe('Akira Abe');
    expect((await target.call('GET', `/transfers/${t.body.id}/effects`, { as: 'adminB' })).status).toBe(403);
  });
});

describe('GET /billing-runs', () => {
  beforeAll(async () => target.load(demoWorld()));

  it('B1: lists runs newest first to an operator, of one organization when asked; an administrator sees its own', async () => {
    const first = await target.billing({ Source: 'billing', DetailType: 'Contract Cancelled', Detail: { organizationId: 'F' } });
    const second = await target.billing({ Source: 'billing', DetailType: 'Contract Cancelled', Detail: { organizationId: 'D' } });
    const ids = [`b1-${second.eventId}`, `b1-${first.eventId}`];
    for (const id of ids) {
      await eventually(async () =>
        (await target.call('GET', `/billing-runs/${id}`, { token: operator })).body.status === 'succeeded' ? true : undefined,
      );
    }
    const all = await allPages('/billing-runs', 'runs', { token: operator }, 1);
    expect(all.pages).toEqual([1, 1]);
    expect(all.items.map((r) => r.id)).toEqual(ids);
    expect(all.items[1]).toMatchObject({ kind: 'contract-cancellation', organizationId: 'F', total: 2 });
    const ofD = await target.call('GET', '/billing-runs?organizationId=D', { token: operator });
    expect(ofD.body.runs.map((r: any) => r.id)).toEqual([ids[0]]);
    const single = await target.call('GET', `/billing-runs/${ids[0]}`, { token: operator });
    expect(ofD.body.runs[0]).toEqual(single.body);
  });
  it('authorization: no token 401, an administrator without organizationId or of another organization 403', async () => {
    expect((await target.call('GET', '/billing-runs', { token: null })).status).toBe(401);
    expect((await target.call('GET', '/billing-runs', { as: 'adminA' })).status).toBe(403);
    expect((await target.call('GET', '/billing-runs?organizationId=B', { as: 'adminA' })).status).toBe(403);
    expect((await target.call('GET', '/billing-runs?organizationId=A', { as: 'a1' })).status).toBe(403);
    expect((await target.call('GET', '/billing-runs?organizationId=A', { as: 'adminA' })).body).toEqual({ runs: [] });
  });
});
