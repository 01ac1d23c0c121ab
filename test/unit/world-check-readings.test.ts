import { describe, expect, it } from 'vitest';
import { keys } from '../../functions/store/keys.js';
import { chatItem, memberItem, orgItem, userItem, type Item } from '../../functions/store/records.js';
import { problemsOf } from '../../local/world/check.js';
import { member, org, user } from './world-builder.js';

/** The world checker (local/world/check.ts) reads the rules as the planner does: RULES.md's readings of T8 and D3, and O4's keys. */
const B = org('B', { restrictOutsideCommunication: true });
const C = org('C');
const orgs = [orgItem(B, 1, 0), orgItem(C, 1, 0)];
const group = (id: string, userIds: string[]): Item[] => [
  chatItem({ id, type: 'group', name: id, frozen: false }),
  ...userIds.map((u, i) => memberItem(id, member(u, i === 0 ? 'admin' : 'member'))),
];
const invariants = (items: Item[], ...only: string[]) => problemsOf({ items, objectKeys: [] }).filter((p) => only.includes(p.invariant));

describe('world check: the readings', () => {
  it('T8 reading: a member suspended under a grace period still counts, so a suspended and an active member who may not communicate are a forbidden membership', () => {
    const c1 = userItem(user('c1', 'C'));
    const suspended = userItem(user('b1', 'B', { status: 'suspended' }));
    expect(invariants([...orgs, c1, suspended, ...group('g', ['c1', 'b1'])], 'forbidden-membership')).toEqual([
      expect.objectContaining({ invariant: 'forbidden-membership', ids: ['g', 'b1', 'c1'] }),
    ]);
    // a deleted member no longer counts for T8 (its membership is a problem of its own, D3–D5)
    const deleted = userItem(user('b1', 'B', { status: 'deleted', deletedAt: '2026-01-01T00:00:00Z', apiToken: null }));
    expect(
      invariants([...orgs, c1, deleted, ...group('g', ['c1', 'b1'])], 'forbidden-membership', 'deleted-user-member').map(
        (p) => p.invariant,
      ),
    ).toEqual(['deleted-user-member']);
  });
  it('D3 reading: a group whose members are all deleted is no chat at rest (each deleted member is reported), as D3 deletes it', () => {
    const gone = (id: string) => userItem(user(id, 'C', { status: 'deleted', deletedAt: '2026-01-01T00:00:00Z', apiToken: null }));
    expect(invariants([...orgs, gone('d1'), gone('d2'), ...group('g', ['d1', 'd2'])], 'deleted-user-member').map((p) => p.ids)).toEqual([
      ['g', 'd1'],
      ['g', 'd2'],
    ]);
  });
  it('O4: a plan is named by the id its header holds, not by its (encoded) key', () => {
    const id = 'tr-gh/ost#1.1';
    const plan = { ...keys.plan(id), type: 'plan', header: JSON.stringify({ id, operation: 'transfer', userId: 'c1' }) };
    const page = { ...keys.planPage('del-gh/ost#2.1', 0), type: 'plan-page', planId: 'del-gh/ost#2.1' };
    expect(invariants([...orgs, plan, page], 'plan-without-owner')).toEqual([
      expect.objectContaining({ ids: ['del-gh/ost#2.1'], message: expect.stringContaining('plan del-gh/ost#2.1 has pages but no header') }),
      expect.objectContaining({ ids: [id], message: expect.stringContaining(`belongs to operation tr-gh/ost#1, which does not exist`) }),
    ]);
  });
});
