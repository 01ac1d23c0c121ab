import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingEvent, eventually, openTarget, settle, type Target } from './harness.js';

/**
 * F1, F3 (functions/store/keys.ts `handedOver`, GSI3): no index holds a file's owner, so a hand-over changes the
 * file's item alone; the uploader's record of it (USER#u / HANDED#o) is what tells a later plan for that user which of
 * its uploads are owned, and what F3 finds an organization's files from when its contract is cancelled.
 */
const onDeployedStack = process.env.OFFBOARD_TARGET === 'stack';

let target: Target;
beforeAll(async () => {
  if (!onDeployedStack) target = await openTarget();
});
afterAll(async () => target?.close());

/**
 * a1 (A) moves to C. B restricts outside communication and has an allowance with A only, so a1 is removed from
 * g-hand, where b1 sits (T8); a2 (A) stays there, so a1's files in it are handed over to A (F1). a1 keeps g-keep
 * (a2 may still talk to a1 in C) and its file there stays a1's.
 */
function world() {
  return {
    organizations: [
      { id: 'A', name: 'Company A', plan: 'business' },
      { id: 'B', name: 'Company B', plan: 'business', restrictOutsideCommunication: true },
      { id: 'C', name: 'Company C', plan: 'business' },
    ],
    outsideAllowances: [['A', 'B']],
    users: [
      { id: 'adminA', name: 'Ann Admin', organizationId: 'A', orgAdmin: true, apiToken: 'tok-adminA' },
      { id: 'a1', name: 'Arata Ando', organizationId: 'A', apiToken: 'tok-a1' },
      { id: 'a2', name: 'Aiko Abe', organizationId: 'A', apiToken: 'tok-a2' },
      { id: 'b1', name: 'Botan Baba', organizationId: 'B', apiToken: 'tok-b1' },
      { id: 'adminB', name: 'Ben Admin', organizationId: 'B', orgAdmin: true, apiToken: 'tok-adminB' },
      { id: 'adminC', name: 'Chie Admin', organizationId: 'C', orgAdmin: true, apiToken: 'tok-adminC' },
      { id: 'platform-operator', name: 'Pia Platform', organizationId: null, apiToken: null }, // reads billing runs
    ],
    chats: [
      {
        id: 'g-hand',
        type: 'group',
        name: 'with B',
        members: [
          { userId: 'a1', role: 'admin' },
          { userId: 'a2', role: 'admin' },
          { userId: 'b1', role: 'member' },
        ],
      },
      {
        id: 'g-keep',
        type: 'group',
        name: 'A only',
        members: [
          { userId: 'a1', role: 'admin' },
          { userId: 'a2', role: 'member' },
        ],
      },
    ],
    files: [
      { id: 'f-hand-1', chatId: 'g-hand', uploaderId: 'a1', name: 'one.md', size: 3, content: 'one' },
      { id: 'f-hand-2', chatId: 'g-hand', uploaderId: 'a1', name: 'two.md', size: 3, content: 'two' },
      { id: 'f-keep', chatId: 'g-keep', uploaderId: 'a1', name: 'keep.md', size: 4, content: 'keep' },
    ],
  };
}

const byId = (xs: any[], id: string) => xs.find((x) => x.id === id);

async function cancelContract(organizationId: string) {
  const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId }));
  const token = await target.operator.token();
  return eventually(async () => {
    const a = await target.call('GET', `/billing-runs/b1-${eventId}`, { token });
    return a.status === 200 && a.body.status !== 'running' ? a.body : undefined;
  });
}

describe.skipIf(onDeployedStack)('hand-over records (F1, F3)', () => {
  it("F1, F3: files a1 handed over to A when it moved to C stay A's when C's contract is cancelled, and go when A's is; a1's own file goes with C", async () => {
    await target.load(world());
    const body = { userId: 'a1', destinationOrganizationId: 'C' };
    const requested = await target.call('POST', '/transfers', { as: 'adminA', body });
    expect(requested.status, JSON.stringify(requested.body)).toBe(201);
    expect((await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminC' })).status).toBe(202);
    expect((await settle(target, `/transfers/${requested.body.id}`, 'adminA')).status).toBe('succeeded');
    const moved = await target.export();
    expect(byId(moved.files, 'f-hand-1')).toMatchObject({ ownerOrganizationId: 'A', stored: true });
    expect(byId(moved.files, 'f-hand-2')).toMatchObject({ ownerOrganizationId: 'A', stored: true });
    expect(byId(moved.files, 'f-keep').ownerOrganizationId ?? null).toBeNull();
    // the transfer wrote a1's record of the hand-over (the files' items changed alone)
    const { getItem } = await import('../../functions/store/table.js');
    const { keys } = await import('../../functions/store/keys.js');
    expect(await getItem(keys.handedOver('a1', 'A'))).toMatchObject({ userId: 'a1', organizationId: 'A' });

    // C's contract: a1 (now C's) is deleted with its own upload (F3); what it handed over to A is A's and stays
    expect(await cancelContract('C')).toMatchObject({ status: 'succeeded', failed: 0 });
    const afterC = await target.export();
    expect(byId(afterC.users, 'a1')).toMatchObject({ status: 'deleted' });
    expect(byId(afterC.files, 'f-keep')).toBeUndefined();
    expect(byId(afterC.files, 'f-hand-1')).toMatchObject({ ownerOrganizationId: 'A', stored: true });
    expect(byId(afterC.files, 'f-hand-2')).toMatchObject({ ownerOrganizationId: 'A', stored: true });
    expect(await target.objectKeys()).toEqual(expect.arrayContaining(['chats/g-hand/files/f-hand-1', 'chats/g-hand/files/f-hand-2']));

    // A's contract: its files go, those a former member handed over to it included (found from a1's record)
    expect(await cancelContract('A')).toMatchObject({ status: 'succeeded', failed: 0 });
    const afterA = await target.export();
    expect(byId(afterA.files, 'f-hand-1')).toBeUndefined();
    expect(byId(afterA.files, 'f-hand-2')).toBeUndefined();
    const objects = await target.objectKeys();
    expect(objects).not.toContain('chats/g-hand/files/f-hand-1');
    expect(objects).not.toContain('chats/g-hand/files/f-hand-2');
    // the record stays (a stale one costs a later plan reads, never data); nothing A owned is left
    expect(await getItem(keys.handedOver('a1', 'A'))).toMatchObject({ userId: 'a1', organizationId: 'A' });
  }, 120_000);

  it('F3: DeleteOwnedFiles reads an organization’s files a page at a time, across users and chats and within a chat, each once; other owners’ and unowned files are never in a page', async () => {
    const w = world();
    w.users.push({
      id: 'x9',
      name: 'Gone Away',
      organizationId: 'A',
      status: 'deleted',
      deletedAt: '2026-01-05T00:00:00Z',
      apiToken: null,
    } as any);
    const owned: string[] = [];
    for (const [uploader, chatId, n] of [
      ['a1', 'g-hand', 3],
      ['a1', 'g-keep', 2],
      ['x9', 'g-hand', 4],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const id = `f-${uploader}-${chatId}-${i}`;
        w.files.push({ id, chatId, uploaderId: uploader, name: `${id}.md`, size: 1, content: 'x', ownerOrganizationId: 'A' } as any);
        owned.push(id);
      }
    }
    w.files.push({ id: 'f-b1', chatId: 'g-hand', uploaderId: 'a1', name: 'b.md', size: 1, content: 'b', ownerOrganizationId: 'B' } as any);
    await target.load(w);
    const { readOwnedFilesPage } = await import('../../functions/store/slice.js');
    const { batchWrite, del } = await import('../../functions/store/batch.js');
    const { tableName } = await import('../../functions/store/table.js');
    const { keys } = await import('../../functions/store/keys.js');
    const seen: string[] = [];
    let cursor: unknown;
    for (let pages = 0; pages < 20; pages++) {
      const page = await readOwnedFilesPage('A', 2, cursor);
      expect(page.files.length).toBeLessThanOrEqual(2);
      seen.push(...page.files.map((f) => f.id));
      // as DeleteOwnedFiles does before it reads on: a chat the page stopped in is read again from its start
      await batchWrite(
        tableName(),
        page.files.map((f) => del(keys.file(f.chatId, f.id))),
      );
      if (!page.next) break;
      cursor = page.next;
    }
    expect(seen.sort()).toEqual(owned.sort());
    // a cursor of another shape (an F3 run begun before this layout) starts again from the first user
    expect((await readOwnedFilesPage('A', 2, { GSI1PK: 'ORG#A#FILES', GSI1SK: 'x', PK: 'CHAT#g', SK: 'FILE#f' })).files).toEqual([]);
  }, 60_000);
});

describe.skipIf(onDeployedStack)('a table from before GSI3', () => {
  it('F1, F3: world migrate writes each owned file’s record of its hand-over and takes the files out of GSI1; the world check is clean again and nothing else changes', async () => {
    const w = world();
    w.files.push({
      id: 'f-old',
      chatId: 'g-hand',
      uploaderId: 'a1',
      name: 'old.md',
      size: 3,
      content: 'old',
      ownerOrganizationId: 'A',
    } as any);
    await target.load(w);
    const { keys } = await import('../../functions/store/keys.js');
    const { batchWrite, del } = await import('../../functions/store/batch.js');
    const { getItem, tableName } = await import('../../functions/store/table.js');
    const { ddb } = await import('../../functions/store/clients.js');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    // as such a table holds them: the owned file in GSI1 under its organization, the others under their uploader
    await batchWrite(tableName(), [del(keys.handedOver('a1', 'A'))]);
    for (const [id, pk] of [
      ['f-old', 'ORG#A#FILES'],
      ['f-keep', 'USER#a1#FILES'],
    ] as const) {
      const chatId = id === 'f-old' ? 'g-hand' : 'g-keep';
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.file(chatId, id),
          UpdateExpression: 'SET GSI1PK = :pk, GSI1SK = :sk REMOVE GSI3PK, GSI3SK',
          ExpressionAttributeValues: { ':pk': pk, ':sk': `CHAT#${chatId}#FILE#${id}` },
        }),
      );
    }
    const before = await target.export();
    expect((await target.check()).map((p: any) => p.invariant)).toEqual(['owner-without-record']);
    const { migrateHandOvers } = await import('../../local/world/world-store.js');
    expect(await migrateHandOvers()).toEqual({ files: 2, records: 1 });
    expect(await getItem(keys.handedOver('a1', 'A'))).toMatchObject({ userId: 'a1', organizationId: 'A' });
    expect((await getItem(keys.file('g-hand', 'f-old')))?.GSI1PK).toBeUndefined();
    expect((await getItem(keys.file('g-keep', 'f-keep')))?.GSI1PK).toBeUndefined();
    expect(await getItem(keys.file('g-keep', 'f-keep'))).toMatchObject({
      GSI3PK: keys.userFiles('a1'),
      GSI3SK: keys.filePosition('g-keep', 'f-keep'),
    });
    expect(await getItem(keys.handOverRecordsMark)).toMatchObject({ handOverRecords: true });
    expect(await target.check()).toEqual([]);
    expect(await target.export()).toEqual(before);
    expect(await migrateHandOvers()).toEqual({ files: 0, records: 1 }); // again: nothing left but the same record
  }, 60_000);
});
