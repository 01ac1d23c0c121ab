import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { billingEvent, byId, demoWorld, eventually, openTarget, settle, type Target } from './harness.js';
import { INVARIANTS, type Invariant } from '../../local/world/check.js';

let target: Target;
/** The store, loaded once the target has set the table, bucket and endpoints (its clients read them when created). */
let store: {
  batch: typeof import('../../functions/store/batch.js');
  keys: typeof import('../../functions/store/keys.js');
  records: typeof import('../../functions/store/records.js');
  plans: typeof import('../../functions/store/plans.js');
  table: typeof import('../../functions/store/table.js');
  runs: typeof import('../../functions/store/runs.js');
};
beforeAll(async () => {
  target = await openTarget();
  store = {
    batch: await import('../../functions/store/batch.js'),
    keys: await import('../../functions/store/keys.js'),
    records: await import('../../functions/store/records.js'),
    plans: await import('../../functions/store/plans.js'),
    table: await import('../../functions/store/table.js'),
    runs: await import('../../functions/store/runs.js'),
  };
});
afterAll(async () => target?.close());
beforeEach(async () => target.load(demoWorld()));

const write = (...requests: ReturnType<typeof store.batch.put>[]) => store.batch.batchWrite(store.table.tableName(), requests);
const loadSpoiled = (spoil: (w: any) => void) => {
  const w = demoWorld();
  spoil(w);
  return target.load(w);
};
const member = (w: any, chatId: string, userId: string) => byId(w.chats, chatId).members.find((m: any) => m.userId === userId);

/** Each invariant, broken on purpose in the demo world (by loading a spoiled world or writing through the store), and the ids its problem must name. */
const broken: Record<Invariant, { how: string; spoil: () => Promise<unknown>; ids: string[] }> = {
  'group-without-admin': {
    how: 'g-launch loses its only administrator role',
    spoil: () => loadSpoiled((w) => (member(w, 'g-launch', 'a1').role = 'member')),
    ids: ['g-launch'],
  },
  'forbidden-contact': {
    how: 'b1 (B restricts, no exemption) and c1 are contacts though B–C have no allowance',
    spoil: () => loadSpoiled((w) => w.contacts.push(['b1', 'c1'])),
    ids: ['b1', 'c1'],
  },
  'forbidden-membership': {
    how: 'c1 joins g-bteam, where b1 may not talk to C',
    spoil: () => loadSpoiled((w) => byId(w.chats, 'g-bteam').members.push({ userId: 'c1', role: 'member' })),
    ids: ['g-bteam', 'b1', 'c1'],
  },
  'one-sided-contact': {
    how: 'the a1→b1 side of their contact is gone, b1→a1 stays',
    spoil: () => write(store.batch.del(store.keys.keys.contact('a1', 'b1'))),
    ids: ['a1', 'b1'],
  },
  'deleted-user-contact': { how: 'a2 is deleted with its contacts left', spoil: () => loadSpoiled(deleteA2), ids: ['a1', 'a2'] },
  'deleted-user-member': { how: 'a2 is deleted with its chats left', spoil: () => loadSpoiled(deleteA2), ids: ['g-design', 'a2'] },
  'deleted-user-task': { how: 'a2 is deleted with its assigned task left', spoil: () => loadSpoiled(deleteA2), ids: ['t-design-a2', 'a2'] },
  'deleted-user-token': {
    how: 'old1, deleted in 2015, still holds a token',
    spoil: () => loadSpoiled((w) => (byId(w.users, 'old1').apiToken = 'tok-old1')),
    ids: ['old1'],
  },
  'empty-chat': {
    how: 'g-solo loses its only member',
    spoil: () => write(store.batch.del(store.keys.keys.member('g-solo', 'a2'))),
    ids: ['g-solo'],
  },
  'direct-chat-shape': {
    how: 'dm-a3-old1 keeps one member without being frozen',
    spoil: () => loadSpoiled((w) => (byId(w.chats, 'dm-a3-old1').frozen = false)),
    ids: ['dm-a3-old1'],
  },
  'dangling-reference': {
    how: 'a message is written into a chat that does not exist',
    spoil: () =>
      write(
        store.batch.put(store.records.messageItem({ id: 'm-lost', chatId: 'g-gone', senderId: 'a1', postedAt: '2026-11-01T00:00:00Z' })),
      ),
    ids: ['g-gone', 'm-lost'],
  },
  'file-bytes-missing': {
    how: 'the bytes of f-a1-launch are deleted, its record stays',
    spoil: () => store.batch.deleteObjects(store.table.bucketName(), [store.keys.fileObjectKey('g-launch', 'f-a1-launch')]),
    ids: ['f-a1-launch'],
  },
  'bytes-without-record': {
    how: 'the record of f-a2-solo is deleted, its bytes stay',
    spoil: () => write(store.batch.del(store.keys.keys.file('g-solo', 'f-a2-solo'))),
    ids: ['chats/g-solo/files/f-a2-solo'],
  },
  'owner-without-record': {
    how: "f-a2-solo is owned by A, and a2's record of handing files over to A is gone (a table from before GSI3)",
    spoil: async () => {
      await loadSpoiled((w) => (byId(w.files, 'f-a2-solo').ownerOrganizationId = 'A'));
      await write(store.batch.del(store.keys.keys.handedOver('a2', 'A')));
    },
    ids: ['f-a2-solo'],
  },
  'over-seats': {
    how: 'D has 3 active members and 2 seats',
    spoil: () => loadSpoiled((w) => (byId(w.organizations, 'D').seats = 2)),
    ids: ['D'],
  },
  'organization-counters': {
    how: 'C counts 7 members where it has 2',
    spoil: () => write(store.batch.put(store.records.orgItem(byId(demoWorld().organizations, 'C'), 7, 1))),
    ids: ['C'],
  },
  'no-administrator': {
    how: 'F (adminF, f1 active) has no administrator',
    spoil: () => loadSpoiled((w) => (byId(w.users, 'adminF').orgAdmin = false)),
    ids: ['F'],
  },
  'lock-without-operation': {
    how: 'a1 is locked by an operation that does not exist',
    spoil: () =>
      write(
        store.batch.put({
          ...store.keys.keys.lock('a1'),
          type: 'lock',
          userId: 'a1',
          operationId: 'tr-ghost',
          since: '2026-11-01T00:00:00Z',
        }),
      ),
    ids: ['a1', 'tr-ghost'],
  },
  'operation-without-lock': {
    how: "a deletion of a3 is running without holding a3's lock",
    spoil: () =>
      write(
        store.batch.put({
          ...store.keys.keys.operation('dl-ghost'),
          type: 'operation',
          id: 'dl-ghost',
          operation: 'deletion',
          userId: 'a3',
          status: 'running',
          createdAt: '2026-11-01T00:00:00Z',
        }),
      ),
    ids: ['dl-ghost', 'a3'],
  },
  'marker-without-transfer': {
    how: 'D marks a transfer waiting for a seat that does not exist',
    spoil: () =>
      write(
        store.batch.put({
          ...store.keys.keys.waiting('D', '2026-11-01T00:00:00Z', 'tr-ghost'),
          type: 'waiting',
          operationId: 'tr-ghost',
          userId: 'a3',
        }),
      ),
    ids: ['tr-ghost'],
  },
  'plan-without-owner': {
    how: 'a plan is stored for an operation that does not exist',
    spoil: () => store.plans.writePlan({ id: 'tr-ghost.1', operation: 'transfer', userId: 'a1' }, []),
    ids: ['tr-ghost.1'],
  },
  'cancellation-mark-without-run': {
    how: 'B is marked by a contract-cancellation run that does not exist (its mark outlived it)',
    spoil: () => store.runs.markCancellationRunning('B', 'b1-gone'),
    ids: ['B', 'b1-gone'],
  },
};

function deleteA2(w: any) {
  Object.assign(byId(w.users, 'a2'), { status: 'deleted', deletedAt: '2026-11-01T00:00:00Z', apiToken: null });
}

describe('world check (issue 10)', () => {
  it('the demo world as loaded has no problem', async () => {
    expect(await target.check()).toEqual([]);
  });

  it('every invariant the check knows has a broken-world case here', () => {
    expect(Object.keys(broken).sort()).toEqual(Object.keys(INVARIANTS).sort());
  });

  for (const [invariant, { how, spoil, ids }] of Object.entries(broken)) {
    it(`${INVARIANTS[invariant as Invariant].split(':')[0]}: reports ${invariant} when ${how}`, async () => {
      await spoil();
      const problems = await target.check();
      expect(problems.filter((p) => p.invariant === invariant).map((p) => p.ids)).toContainEqual(ids);
      for (const p of problems) expect(p.message).toMatch(/^[A-Z0-9a-z, ()]+: /);
    });
  }

  it("the demo world's operations (transfer, waiting transfer, deletion, billing events, contract cancellation) each leave a world without problems", async () => {
    const transfer = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } });
    await target.call('POST', `/transfers/${transfer.body.id}/approval`, { as: 'adminC' });
    expect((await settle(target, `/transfers/${transfer.body.id}`, 'adminC')).status).toBe('succeeded');
    expect(await target.check()).toEqual([]);

    const waiting = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a3', destinationOrganizationId: 'D' } });
    expect((await target.call('POST', `/transfers/${waiting.body.id}/approval`, { as: 'adminD' })).body.status).toBe('awaiting-seat');
    expect(await target.check()).toEqual([]); // T4: waiting holds the lock and its marks

    const deletion = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    expect((await settle(target, `/deletions/${deletion.body.id}`, 'adminA')).status).toBe('succeeded');
    expect(await target.check()).toEqual([]);

    await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 5 }));
    expect((await settle(target, `/transfers/${waiting.body.id}`, 'adminD', (b) => b.status === 'succeeded')).status).toBe('succeeded');
    await target.billing(billingEvent('Plan Changed', { organizationId: 'D', plan: 'business' }));
    expect(await target.check()).toEqual([]);

    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'B' }));
    const token = await target.operator.token();
    const run = await eventually(async () => {
      const a = await target.call('GET', `/billing-runs/b1-${eventId}`, { token });
      return a.status === 200 && a.body.status !== 'running' ? a.body : undefined;
    });
    expect(run.status).toBe('succeeded');
    expect(await target.check()).toEqual([]);
  });
});
