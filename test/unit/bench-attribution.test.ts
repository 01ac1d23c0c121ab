import { describe, expect, it } from 'vitest';
import {
  allowCancellation,
  allowEffects,
  changesOutsidePlans,
  emptyAllowed,
  hottestKeys,
  isWorldDataKey,
  operationOf,
} from '../../bench/attribution.js';

describe('bench attribution (bench/attribution.ts)', () => {
  it('a request belongs to the operation named by the step input, the API path or the created answer', () => {
    const none = () => 'x';
    expect(operationOf({ name: 'apply-membership', event: { operationId: 'tr-1', cursor: { page: 0 } } }, none)).toBe('tr-1');
    expect(operationOf({ name: 'steps', event: { runId: 'b1-e', organizationId: 'X' } }, none)).toBe('b1-e');
    expect(operationOf({ name: 'transfers', event: { pathParameters: { id: 'tr-2' } } }, none)).toBe('tr-2');
    expect(operationOf({ name: 'deletions', event: { body: '{}' }, result: { statusCode: 202, body: '{"id":"de-3"}' } }, none)).toBe(
      'de-3',
    );
    expect(operationOf({ name: 'contract-cancelled', event: { id: 'e9', 'detail-type': 'Contract Cancelled' } }, none)).toBe('b1-e9');
    expect(operationOf({ name: 'health', event: {} }, () => '7')).toBe('health:7');
  });

  it("the hottest key counts distinct operations, outside the world's own data only", () => {
    expect(isWorldDataKey('USER#u\u0000USER')).toBe(true);
    expect(isWorldDataKey('CHAT#g\u0000MEMBER#u')).toBe(true);
    expect(isWorldDataKey('USER#u\u0000HANDED#A')).toBe(true); // who owns the user's files (F1, F3)
    expect(isWorldDataKey('ORG#A\u0000ORG')).toBe(true);
    expect(isWorldDataKey('ORG#A\u0000RUNS')).toBe(true); // the organization's own run counter
    expect(isWorldDataKey('OPLOG#A\u00002026-12-01T00:00:00.000Z#op')).toBe(false);
    expect(isWorldDataKey('ORG#A\u0000DELETION#t#op')).toBe(false);
    expect(isWorldDataKey('WORLD\u0000VERSION')).toBe(false);
    const writes = [
      ...['a', 'b', 'c'].map((operation) => ({ key: 'WORLD\u0000VERSION', operation })),
      { key: 'WORLD\u0000VERSION', operation: 'a' },
      ...['a', 'b', 'c', 'd'].map((operation) => ({ key: 'ORG#A\u0000ORG', operation })),
      { key: 'OP#a\u0000OP', operation: 'a' },
    ];
    expect(hottestKeys(writes)).toEqual([
      { key: 'WORLD VERSION', operations: 3, writes: 4 },
      { key: 'OP#a OP', operations: 1, writes: 1 },
    ]);
  });

  it('changes outside the union of plans: a removed contact nobody planned is reported; planned ones and display names are not', () => {
    const before = {
      users: [
        { id: 'u', name: 'U' },
        { id: 'v', name: 'V', displayName: 'V' },
      ],
      contacts: [
        ['u', 'v'],
        ['v', 'w'],
      ],
      chats: [{ id: 'g', type: 'group', members: [{ userId: 'u', role: 'admin' }] }],
      messages: [{ id: 'm', chatId: 'g', senderId: 'u' }],
      files: [],
      tasks: [],
    };
    const after = {
      users: [
        { id: 'u', name: 'U', status: 'deleted' },
        { id: 'v', name: 'V', displayName: 'V (shown)' },
      ],
      contacts: [],
      chats: [],
      messages: [],
      files: [],
      tasks: [],
    };
    const allowed = allowEffects(
      emptyAllowed(),
      [
        { kind: 'user-deleted', userId: 'u' },
        { kind: 'contact-removed', userIds: ['u', 'v'] },
        { kind: 'chat-deleted', chatId: 'g' },
      ],
      before,
    );
    expect(changesOutsidePlans(before, after, allowed)).toEqual(['contacts v|w']);
    expect(changesOutsidePlans(before, after, allowCancellation(allowed, 'none', before))).toEqual(['contacts v|w']);
    expect(() => allowEffects(emptyAllowed(), [{ kind: 'user-teleported' }], before)).toThrow(/unknown effect kind/);
  });
});
