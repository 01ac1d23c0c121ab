import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_USER } from '../../fixtures/operator.js';
import { billingEvent, openTarget, type Target } from './harness.js';

/**
 * Concurrency (issue 10): at least 50 operations on different users who share chats, contacts and files, started
 * together: deletions of both sides of direct chats, transfers into an organization with fewer seats than requests
 * (T4), and a contract cancellation (B1) of their partners' organization in the middle. Afterwards the world check
 * passes, seats were never over-allocated (sampled during the run and checked at the end), and nothing outside the
 * union of the plans (with what settlement did, G2/D4/D5, and the cancelled organization's own files, F3) is gone.
 */
const pad = (n: number) => String(n).padStart(2, '0');
const A = Array.from({ length: 40 }, (_, i) => `a${pad(i)}`);
const B = Array.from({ length: 10 }, (_, i) => `b${pad(i)}`);
const X = Array.from({ length: 10 }, (_, i) => `x${pad(i)}`);
const SEATS_AT_D = 5; // adminD holds one: 4 free for 10 transfers

function concurrentWorld() {
  const user = (id: string, organizationId: string, orgAdmin = false) => ({
    id,
    name: `User ${id}`,
    organizationId,
    orgAdmin,
    apiToken: `tok-${id}`,
  });
  const world = {
    organizations: [
      { id: 'A', name: 'Company A', plan: 'enterprise' },
      { id: 'B', name: 'Company B', plan: 'enterprise', restrictOutsideCommunication: true },
      { id: 'D', name: 'Company D', plan: 'enterprise', seats: SEATS_AT_D },
      { id: 'X', name: 'Company X', plan: 'enterprise' },
    ],
    outsideAllowances: [
      ['A', 'B'],
      ['A', 'X'],
    ],
    users: [
      OPERATOR_USER,
      user('adminA', 'A', true),
      user('adminA2', 'A', true),
      user('adminB', 'B', true),
      user('adminD', 'D', true),
      user('adminX', 'X', true),
      ...A.map((id) => user(id, 'A')),
      ...B.map((id) => user(id, 'B')),
      ...X.map((id) => user(id, 'X')),
    ],
    contacts: [] as string[][],
    chats: [] as any[],
    messages: [] as any[],
    files: [] as any[],
    tasks: [] as any[],
  };
  for (let i = 0; i < A.length; i++) {
    world.contacts.push([A[i]!, A[(i + 1) % A.length]!], [A[i]!, X[i % X.length]!]);
    if (i < B.length) world.contacts.push([A[i]!, B[i]!]);
  }
  // direct chats between both sides of a deletion (a00–a01, …), with posts: frozen, then deleted once both are gone
  for (let k = 0; k + 1 < 30; k += 2) {
    const chatId = `d-${A[k]}-${A[k + 1]}`;
    world.chats.push({
      id: chatId,
      type: 'direct',
      members: [
        { userId: A[k]!, role: 'admin' },
        { userId: A[k + 1]!, role: 'admin' },
      ],
    });
    world.messages.push({ id: `m-${chatId}`, chatId, senderId: A[k]!, postedAt: '2026-10-02T00:00:00Z', body: 'hi' });
    world.files.push({ id: `f-${chatId}`, chatId, uploaderId: A[k + 1]!, name: 'shared.pdf', size: 16 });
  }
  // direct chats with the cancelled organization's members
  for (let i = 0; i < X.length; i++) {
    const chatId = `d-${A[i * 3]}-${X[i]}`;
    world.chats.push({
      id: chatId,
      type: 'direct',
      members: [
        { userId: A[i * 3]!, role: 'admin' },
        { userId: X[i]!, role: 'admin' },
      ],
    });
    world.messages.push({ id: `m-${chatId}`, chatId, senderId: X[i]!, postedAt: '2026-10-02T00:00:00Z', body: 'hello' });
  }
  // group chats shared by all sides
  for (let g = 0; g < 20; g++) {
    const chatId = `g${pad(g)}`;
    const members = [A[g]!, A[g + 20]!, A[(g * 7) % 40]!, X[g % 10]!, ...(g % 2 === 0 ? [B[g % 10]!] : [])].filter(
      (m, i, all) => all.indexOf(m) === i,
    );
    world.chats.push({
      id: chatId,
      type: 'group',
      name: `Team ${g}`,
      members: members.map((userId, j) => ({ userId, role: j === 0 ? 'admin' : 'member' })),
    });
    members.forEach((m, j) => {
      world.messages.push({ id: `m-${chatId}-${j}`, chatId, senderId: m, postedAt: '2026-10-03T00:00:00Z', body: 'team' });
      world.files.push({ id: `f-${chatId}-${j}`, chatId, uploaderId: m, name: 'notes.md', size: 16 });
    });
    world.tasks.push({ id: `t-${chatId}`, chatId, assigneeId: members[1]!, requesterId: members[0]!, body: 'review' });
  }
  return world;
}

let target: Target;
beforeAll(async () => {
  target = await openTarget();
}, 120_000);
afterAll(async () => target?.close());

/** Every effect of a stored impact, through the /effects pages. */
async function effectsOf(route: string, as: string): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | undefined = '0';
  while (cursor !== undefined) {
    const page: any = await target.call('GET', `${route}/effects?cursor=${cursor}`, { as });
    expect(page.status).toBe(200);
    out.push(...page.body.effects);
    cursor = page.body.nextCursor;
  }
  return out;
}

describe('operations started together on users who share chats, contacts and files', () => {
  it('50 operations and a contract cancellation in the middle: world check passes, seats never over-allocated, nothing outside the plans deleted', async (ctx) => {
    if (!target.canInjectFaults) ctx.skip(); // seats are sampled from the store in this process: the embedded stack only
    const world = concurrentWorld();
    await target.load(world);
    const before = await target.export();
    const { getOrganization } = await import('../../functions/store/table.js');

    let sampling = true;
    const seatSamples: number[] = [];
    const sampler = (async () => {
      while (sampling) {
        const d = await getOrganization('D');
        seatSamples.push(d?.members ?? 0);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const deletions = [...A.slice(0, 30).map((u) => ['adminA', u]), ...B.map((u) => ['adminB', u])] as [string, string][];
    const transfers = A.slice(30);
    const ops: { route: string; as: string }[] = [];
    const deleteOne = async ([admin, userId]: [string, string]) => {
      const a = await target.call('POST', '/deletions', { as: admin, body: { userId } });
      expect(a.status, JSON.stringify(a.body)).toBe(202);
      ops.push({ route: `/deletions/${a.body.id}`, as: admin });
    };
    const transferOne = async (userId: string) => {
      const a = await target.call('POST', '/transfers', { as: 'adminA', body: { userId, destinationOrganizationId: 'D' } });
      expect(a.status, JSON.stringify(a.body)).toBe(201);
      const approved = await target.call('POST', `/transfers/${a.body.id}/approval`, { as: 'adminD' });
      expect(approved.status, JSON.stringify(approved.body)).toBe(202);
      ops.push({ route: `/transfers/${a.body.id}`, as: 'adminD' });
    };
    const firstHalf = Promise.all([...deletions.slice(0, 20).map(deleteOne), ...transfers.slice(0, 5).map(transferOne)]);
    // B1 in the middle: once the first half has started
    const cancellation = firstHalf.then(() => target.billing(billingEvent('Contract Cancelled', { organizationId: 'X' })));
    await Promise.all([firstHalf, cancellation, ...deletions.slice(20).map(deleteOne), ...transfers.slice(5).map(transferOne)]);
    const { eventId } = await cancellation;
    expect((await target.call('POST', '/_local/idle')).status).toBe(200);
    sampling = false;
    await sampler;
    console.log(
      `concurrent operations: ${ops.length + 1} (${deletions.length} deletions, ${transfers.length} transfers, 1 contract cancellation of ${X.length + 1} members)`,
    );
    expect(ops.length + 1).toBeGreaterThanOrEqual(51);

    // outcomes: every deletion succeeded; 4 transfers took D's free seats, the other 6 wait for one (T4)
    const finals = await Promise.all(ops.map(async (o) => ({ ...o, body: (await target.call('GET', o.route, { as: o.as })).body })));
    expect(finals.filter((f) => f.route.startsWith('/deletions')).map((f) => f.body.status)).toEqual(deletions.map(() => 'succeeded'));
    const transferStatuses = finals
      .filter((f) => f.route.startsWith('/transfers'))
      .map((f) => f.body.status)
      .sort();
    expect(transferStatuses).toEqual(
      [...Array(SEATS_AT_D - 1).fill('succeeded'), ...Array(transfers.length - SEATS_AT_D + 1).fill('awaiting-seat')].sort(),
    );
    const operator = await target.operator.token();
    expect((await target.call('GET', `/billing-runs/b1-${eventId}`, { token: operator })).body).toMatchObject({
      status: 'succeeded',
      failed: 0,
    });

    // T4: never over-allocated, during (sampled) and at the end
    expect(seatSamples.length).toBeGreaterThan(10);
    expect(Math.max(...seatSamples)).toBeLessThanOrEqual(SEATS_AT_D);
    const after = await target.export();
    expect(after.users.filter((u: any) => u.organizationId === 'D' && u.status === 'active').length).toBe(SEATS_AT_D);
    expect(await target.check()).toEqual([]);

    // the union of what the plans (and settlement, and F3's owned files) said would go
    const union: any[] = [];
    for (const f of finals.filter((f) => f.body.status === 'succeeded')) {
      union.push(...(await effectsOf(f.route, f.as)));
      const trail = (await target.call('GET', `/operations/${f.body.id}/audit`, { as: f.as })).body.entries;
      for (const e of trail) if (e.event === 'settled') union.push(...e.effects);
    }
    const { batchesOf } = await import('../../functions/store/runs.js');
    const { readPlanHeader, readPlanPages } = await import('../../functions/store/plans.js');
    for (const batch of await batchesOf(`b1-${eventId}`, 0)) {
      const header = (await readPlanHeader(batch.planId!))!;
      union.push(
        ...(
          await readPlanPages(
            batch.planId!,
            header.pages.map((_, i) => i),
          )
        )
          .flat()
          .map((e) => e.effect),
      );
    }
    const runTrail = (await target.call('GET', `/operations/b1-${eventId}/audit`, { token: operator })).body.entries;
    const ownedFiles = new Set(runTrail.flatMap((e: any) => (e.event === 'owned-files-deleted' ? e.files : [])));
    const of = (kind: string, field: string) =>
      new Set(union.filter((e) => e.kind === kind).map((e) => (Array.isArray(e[field]) ? e[field].join('|') : e[field])));
    const chatsDeleted = of('chat-deleted', 'chatId');
    const touched = new Set(union.filter((e) => 'chatId' in e).map((e) => e.chatId));
    const usersDeleted = of('user-deleted', 'userId');
    const afterUsers = new Map(after.users.map((u: any) => [u.id, u]));
    const afterChats = new Map(after.chats.map((c: any) => [c.id, c]));
    // a chat is gone because a plan deleted it, or because settlement found nobody active left in a chat a plan touched (G2, D4)
    const chatGoneOk = (c: any) =>
      chatsDeleted.has(c.id) ||
      (touched.has(c.id) &&
        c.members.every((m: any) => (afterUsers.get(m.userId) as any)?.status === 'deleted' || usersDeleted.has(m.userId)));
    const outside: string[] = [];
    for (const c of before.chats) if (!afterChats.has(c.id) && !chatGoneOk(c)) outside.push(`chat ${c.id}`);
    const gone = (list: any[], id: string) => !list.some((x) => x.id === id);
    for (const m of before.messages) if (gone(after.messages, m.id) && afterChats.has(m.chatId)) outside.push(`message ${m.id}`);
    const filesDeleted = of('file-deleted', 'fileId');
    for (const f of before.files)
      if (gone(after.files, f.id) && afterChats.has(f.chatId) && !filesDeleted.has(f.id) && !ownedFiles.has(f.id))
        outside.push(`file ${f.id}`);
    const tasksDeleted = of('task-deleted', 'taskId');
    for (const t of before.tasks)
      if (gone(after.tasks, t.id) && afterChats.has(t.chatId) && !tasksDeleted.has(t.id)) outside.push(`task ${t.id}`);
    const contactsRemoved = of('contact-removed', 'userIds');
    const afterContacts = new Set(after.contacts.map((p: string[]) => p.join('|')));
    for (const p of before.contacts)
      if (!afterContacts.has(p.join('|')) && !contactsRemoved.has(p.join('|'))) outside.push(`contact ${p.join('–')}`);
    const left = new Set(union.filter((e) => e.kind === 'chat-left').map((e) => `${e.chatId}|${e.userId}`));
    for (const c of before.chats) {
      const now = afterChats.get(c.id) as any;
      if (!now) continue;
      for (const m of c.members)
        if (!now.members.some((x: any) => x.userId === m.userId) && !left.has(`${c.id}|${m.userId}`))
          outside.push(`member ${m.userId} of ${c.id}`);
    }
    for (const u of before.users)
      if ((afterUsers.get(u.id) as any).status === 'deleted' && u.status !== 'deleted' && !usersDeleted.has(u.id))
        outside.push(`user ${u.id}`);
    expect(outside).toEqual([]);
    expect([chatsDeleted.size, contactsRemoved.size, filesDeleted.size, left.size].every((n) => n > 0)).toBe(true); // the check had work to judge
    // and the plans did run: what they listed is gone
    for (const id of usersDeleted) expect((afterUsers.get(id) as any).status).toBe('deleted');
    for (const id of filesDeleted) expect(gone(after.files, id)).toBe(true);
  }, 600_000);
});
