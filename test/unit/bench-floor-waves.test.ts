import { describe, expect, it } from 'vitest';
import { floorRequests, floorWaves, safeFloor, type World } from '../../bench/floor.js';

const org = (id: string) => ({ id, name: `Org ${id}`, plan: 'enterprise' });
const user = (id: string, organizationId: string, extra: object = {}) => ({
  id,
  name: `User ${id}`,
  organizationId,
  apiToken: `tok-${id}`,
  ...extra,
});

describe('floor waves and safe floor (bench/floor.ts)', () => {
  // u in chat g with p (of B); u and q are contacts: the replay must read partitions, then users, then organizations, then write.
  const before: World = {
    organizations: [org('A'), org('B')],
    users: [user('u', 'A'), user('adm', 'A', { orgAdmin: true }), user('p', 'B'), user('q', 'B')],
    contacts: [['u', 'q']],
    chats: [
      {
        id: 'g',
        type: 'group',
        members: [
          { userId: 'u', role: 'admin' },
          { userId: 'p', role: 'member' },
        ],
      },
    ],
  };
  const after: World = {
    ...before,
    users: [user('u', 'A', { status: 'deleted', apiToken: null }), user('adm', 'A', { orgAdmin: true }), user('p', 'B'), user('q', 'B')],
    contacts: [],
    chats: [{ id: 'g', type: 'group', members: [{ userId: 'p', role: 'admin' }] }],
  };

  it('partitions (Queries) before the chats they name, then users (R6), then organizations (R7), then the writes', () => {
    const plan = floorRequests(before, after, { kind: 'deletion', userId: 'u' }).plan;
    const waves = floorWaves(plan).map((w) => [...new Set(w.map((r) => r.term))].sort());
    expect(waves).toEqual([['R1', 'R2', 'R3', 'R4'], ['R5'], ['R6'], ['R7'], ['W1', 'W2']]);
    // every request is in exactly one wave, none lost
    expect(floorWaves(plan).flat()).toHaveLength(plan.length);
  });

  it('a cancellation reads its members (R0) first; empty waves are left out', () => {
    const plan = floorRequests(before, before, { kind: 'cancellation', organizationId: 'B' }).plan;
    const terms = floorWaves(plan).map((w) => w[0]!.term);
    expect(terms[0]).toBe('R0');
    expect(terms).not.toContain('W1');
    // a plan listed writes-first still comes out reads-first
    const shuffled = [...floorRequests(before, after, { kind: 'deletion', userId: 'u' }).plan].reverse();
    expect(floorWaves(shuffled)[0]!.every((r) => r.op === 'Query')).toBe(true);
    expect(
      floorWaves(shuffled)
        .at(-1)!
        .every((r) => r.op === 'BatchWrite' || r.op === 'TransactWrite'),
    ).toBe(true);
  });

  it('safe floor: the operation record + lock at the request and the final status + audit at the end (T3, X1, X2), and a read and a write per consent', () => {
    expect(safeFloor(12, 0)).toEqual({ dynamodb: 14, records: { start: 1, consentReads: 0, consentWrites: 0, end: 1 } });
    expect(safeFloor(12, 1).dynamodb).toBe(16); // a transfer's approval (T3)
    expect(() => safeFloor(12, -1)).toThrow(/consents must be a whole number/);
  });
});
