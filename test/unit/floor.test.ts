import { describe, expect, it } from 'vitest';
import { floorRequests, itemBytes, QUERY_PAGE_BYTES, worldItems, type World } from '../../bench/floor.js';

const org = (id: string, extra: object = {}) => ({ id, name: `Org ${id}`, plan: 'enterprise', ...extra });
const user = (id: string, organizationId: string, extra: object = {}) => ({
  id,
  name: `User ${id}`,
  organizationId,
  apiToken: `tok-${id}`,
  ...extra,
});
const deleted = (u: any) => ({
  ...u,
  status: 'deleted',
  deletedAt: '2026-10-10T00:00:00Z',
  apiToken: null,
  displayName: `${u.name} (cancelled)`,
});
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const ops = (plan: { op: string; term: string }[], term: string) => plan.filter((r) => r.term === term);

describe('floorRequests', () => {
  it('deletion removing 60 contacts: 120 items in 5 BatchWriteItem, the user and its organization in one transaction, the four user partitions read once each', () => {
    const ps = Array.from({ length: 60 }, (_, i) => user(`p${i}`, 'A'));
    const before: World = {
      organizations: [org('A')],
      users: [user('u', 'A'), user('adm', 'A', { orgAdmin: true }), ...ps],
      contacts: ps.map((p) => ['u', p.id]),
    };
    const after: World = { ...clone(before), users: [deleted(user('u', 'A')), user('adm', 'A', { orgAdmin: true }), ...ps], contacts: [] };
    const f = floorRequests(before, after, { kind: 'deletion', userId: 'u' });
    expect(f.terms).toEqual({ R1: 1, R2: 1, R3: 1, R4: 1, R6: 1, R7: 1, W1: 5, W2: 1 });
    expect(f.items).toEqual({ deleted: 120, put: 0, atomic: 2 });
    expect(f.dynamodb).toBe(12);
    expect(f.s3).toBe(0);
    const w2 = f.plan.find((r) => r.op === 'TransactWrite') as any;
    expect(w2.puts.map((i: any) => [i.PK, i.status])).toEqual([['USER#u', 'deleted']]);
    expect(w2.counters).toEqual([{ organizationId: 'A', members: -1, admins: 0 }]);
    expect((ops(f.plan, 'R6')[0] as any).keys).toHaveLength(60);
  });

  it('F4: 1,001 deleted files are 2 DeleteObjects; a file whose bytes were already gone is not counted; D3 chat and its items in batches of 25', () => {
    const files = Array.from({ length: 1001 }, (_, i) => ({ id: `f${i}`, chatId: 'g1', uploaderId: 'u', name: 'x', size: 1 }));
    const before: World = {
      organizations: [org('A')],
      users: [user('u', 'A'), user('adm', 'A', { orgAdmin: true })],
      chats: [{ id: 'g1', type: 'group', members: [{ userId: 'u', role: 'admin' }] }],
      files: [...files, { id: 'gone', chatId: 'g1', uploaderId: 'u', name: 'y', size: 1, stored: false }],
    };
    const after: World = {
      organizations: [org('A')],
      users: [deleted(user('u', 'A')), user('adm', 'A', { orgAdmin: true })],
      chats: [],
      files: [],
    };
    const f = floorRequests(before, after, { kind: 'deletion', userId: 'u' });
    expect(f.terms.S1).toBe(2);
    expect(f.s3).toBe(2);
    expect(ops(f.plan, 'S1').map((r: any) => r.keys.length)).toEqual([1000, 1]);
    expect((ops(f.plan, 'S1')[0] as any).keys[0]).toMatch(/^chats\/g1\/files\/f/);
    // chat + member + 1,002 file records = 1,004 deletes
    expect(f.items.deleted).toBe(1004);
    expect(f.terms.W1).toBe(Math.ceil(1004 / 25));
    expect(f.terms.R5).toBe(1);
    expect(f.terms.R6).toBeUndefined(); // nobody else referenced
  });

  it('transfer: user and both organizations in one transaction; a left group and an admin grant are item writes; display names are not writes', () => {
    const before: World = {
      organizations: [org('A'), org('B', { restrictOutsideCommunication: true }), org('C')],
      outsideAllowances: [['A', 'B']],
      users: [user('u', 'A'), user('a2', 'A'), user('b1', 'B'), user('b2', 'B')],
      contacts: [
        ['u', 'b1'],
        ['u', 'b2'],
        ['u', 'a2'],
      ],
      chats: [
        {
          id: 'g',
          type: 'group',
          members: [
            { userId: 'a2', role: 'member' },
            { userId: 'b1', role: 'member' },
            { userId: 'u', role: 'admin' },
          ],
        },
      ],
      messages: [{ id: 'm1', chatId: 'g', senderId: 'u', postedAt: '2026-10-01T00:00:00Z', speakerName: 'User u' }],
    };
    const after = clone(before);
    after.users[0] = {
      ...user('u', 'C'),
      allowOutsideCommunication: false,
      allowFileSharing: false,
      apiToken: null,
      displayName: 'shown differently',
    };
    after.contacts = [['u', 'a2']];
    after.chats = [
      {
        id: 'g',
        type: 'group',
        members: [
          { userId: 'a2', role: 'admin' },
          { userId: 'b1', role: 'admin' },
        ],
      },
    ];
    after.messages![0].speakerName = 'User u (moved)';
    const f = floorRequests(before, after, { kind: 'transfer', userId: 'u', from: 'A', to: 'C' });
    // 4 contact items + member u deleted; a2 and b1 made admins
    expect(f.items).toEqual({ deleted: 5, put: 2, atomic: 3 });
    expect(f.terms).toEqual({ R1: 1, R2: 1, R3: 1, R4: 1, R5: 1, R6: 1, R7: 1, W1: 1, W2: 1 });
    const w2 = f.plan.find((r) => r.op === 'TransactWrite') as any;
    expect(w2.puts[0]).toMatchObject({ PK: 'USER#u', organizationId: 'C', GSI1PK: 'ORG#C#MEMBERS' });
    expect(w2.counters).toEqual([
      { organizationId: 'A', members: -1, admins: 0 },
      { organizationId: 'C', members: 1, admins: 0 },
    ]);
    // R7 reads the organizations of u, of the users referenced, and the destination
    expect((ops(f.plan, 'R7')[0] as any).keys.map((k: any) => k.PK)).toEqual(['ORG#A', 'ORG#B', 'ORG#C']);
  });

  it('an operation that changed nothing costs its reads only', () => {
    const before: World = { organizations: [org('A')], users: [user('u', 'A'), user('adm', 'A', { orgAdmin: true })] };
    const f = floorRequests(before, clone(before), { kind: 'deletion', userId: 'u' });
    expect(f.terms).toEqual({ R1: 1, R2: 1, R3: 1, R4: 1, R7: 1 });
    expect(f.s3).toBe(0);
  });

  it('cancellation: the members index, four partitions per member, each chat once, the referenced outsiders, the counter once', () => {
    const xs = ['x1', 'x2', 'x3'].map((id, i) => user(id, 'X', { orgAdmin: i === 0 }));
    const before: World = {
      organizations: [org('X'), org('Y')],
      users: [...xs, user('y', 'Y')],
      contacts: xs.map((x) => [x.id, 'y']),
      chats: [{ id: 'g', type: 'group', members: [...xs.map((x) => ({ userId: x.id, role: 'member' })), { userId: 'y', role: 'admin' }] }],
    };
    const after: World = {
      organizations: before.organizations,
      users: [...xs.map(deleted), user('y', 'Y')],
      contacts: [],
      chats: [{ id: 'g', type: 'group', members: [{ userId: 'y', role: 'admin' }] }],
    };
    const f = floorRequests(before, after, { kind: 'cancellation', organizationId: 'X' });
    expect(f.terms).toEqual({ R0: 1, R1: 3, R2: 3, R3: 3, R4: 3, R5: 1, R6: 1, R7: 1, W1: 1, W2: 1 });
    // 3 users modified, 6 contact items and 3 member items deleted
    expect(f.items).toEqual({ deleted: 9, put: 3, atomic: 1 });
    expect((f.plan.find((r) => r.op === 'TransactWrite') as any).counters).toEqual([{ organizationId: 'X', members: -3, admins: -1 }]);
  });

  it('Query pages: one request per started megabyte of the partition; the members index at about 150 bytes a member', () => {
    const messages = Array.from({ length: 8000 }, (_, i) => ({
      id: `m${i}`,
      chatId: 'g',
      senderId: 'p',
      postedAt: '2026-10-01T00:00:00Z',
      body: 'x'.repeat(200),
    }));
    const before: World = {
      organizations: [org('A')],
      users: [user('u', 'A'), user('p', 'A')],
      chats: [
        {
          id: 'g',
          type: 'group',
          members: [
            { userId: 'u', role: 'member' },
            { userId: 'p', role: 'admin' },
          ],
        },
      ],
      messages,
    };
    const bytes = worldItems(before)
      .filter((i) => i.PK === 'CHAT#g')
      .reduce((n, i) => n + itemBytes(i), 0);
    expect(bytes).toBeGreaterThan(2 * QUERY_PAGE_BYTES);
    const f = floorRequests(before, clone(before), { kind: 'deletion', userId: 'u' });
    expect(f.terms.R5).toBe(Math.ceil(bytes / QUERY_PAGE_BYTES));

    const xs = Array.from({ length: 10_000 }, (_, i) => user(`x${i}`, 'X'));
    const big: World = { organizations: [org('X')], users: xs };
    const c = floorRequests(big, clone(big), { kind: 'cancellation', organizationId: 'X' });
    expect(c.terms.R0).toBe(Math.ceil((10_000 * 150) / QUERY_PAGE_BYTES));
    expect(c.terms.R1).toBe(10_000);
  });
});
