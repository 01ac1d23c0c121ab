import { describe, expect, it } from 'vitest';
import { IN_GSI1, marshalledItemBytes, requestUnits, transactionalPutUnits, writtenKeys } from '../../bench/request-units.js';
import * as records from '../../functions/store/records.js';

const S = (s: string) => ({ S: s });
const item = (pk: string, sk: string, extra: Record<string, any> = {}) => ({ PK: S(pk), SK: S(sk), ...extra });

describe('bench request-unit calculator (bench/request-units.ts)', () => {
  it('non-transactional requests bill what DynamoDB answered (ConsumedCapacity, GSIs included)', () => {
    const out = {
      ConsumedCapacity: {
        TableName: 't',
        CapacityUnits: 6,
        Table: { CapacityUnits: 3 },
        GlobalSecondaryIndexes: { GSI1: { CapacityUnits: 3 } },
      },
    };
    expect(requestUnits('PutItem', { Item: item('a', 'b') }, out)).toEqual({ wru: 6, rru: 0, estimated: 0 });
    expect(requestUnits('BatchWriteItem', { RequestItems: { t: [{}, {}] } }, { ConsumedCapacity: [{ CapacityUnits: 4 }] })).toEqual({
      wru: 4,
      rru: 0,
      estimated: 0,
    });
    expect(requestUnits('Query', {}, { ConsumedCapacity: { CapacityUnits: 1.5 } })).toEqual({ wru: 0, rru: 1.5, estimated: 0 });
  });

  it('an empty Query page still bills one read unit: 0.5 eventually consistent, 1 strongly consistent', () => {
    expect(requestUnits('Query', {}, { ConsumedCapacity: { CapacityUnits: 0 } }).rru).toBe(0.5);
    expect(requestUnits('Query', { ConsistentRead: true }, { ConsumedCapacity: { CapacityUnits: 0 } }).rru).toBe(1);
  });

  it('BatchGetItem bills per item: a key not found adds half a unit, an unprocessed key nothing', () => {
    const request = { RequestItems: { t: { Keys: [{}, {}, {}, {}] } } };
    const output = { Responses: { t: [{}, {}] }, UnprocessedKeys: { t: { Keys: [{}] } }, ConsumedCapacity: [{ CapacityUnits: 1 }] };
    expect(requestUnits('BatchGetItem', request, output)).toEqual({ wru: 0, rru: 1.5, estimated: 0.5 });
  });

  it('TransactWriteItems is computed, not taken from DynamoDB Local: 2 WRU per KB put, again for GSI1, 2 per update/delete/check', () => {
    const small = item('OP#1', 'OP');
    const indexed = item('USER#u', 'USER', { GSI1PK: S('ORG#A#MEMBERS') });
    const big = item('PLAN#1', 'META', { blob: S('x'.repeat(2100)) });
    expect(transactionalPutUnits(small)).toBe(2);
    expect(transactionalPutUnits(indexed)).toBe(4);
    expect(transactionalPutUnits(big)).toBe(6); // 3 KB
    // the organization's item is in GSI1 (ORGS): its counter update writes the index too
    const request = {
      TransactItems: [
        { Put: { Item: small } },
        { Update: { Key: item('ORG#A', 'ORG'), UpdateExpression: 'ADD #m :m' } },
        { ConditionCheck: { Key: item('LOCK#USER#u', 'LOCK') } },
      ],
    };
    expect(requestUnits('TransactWriteItems', request, { ConsumedCapacity: [{ CapacityUnits: 32 }] })).toEqual({
      wru: 2 + 4 + 2,
      rru: 0,
      estimated: 8,
    });
    // a transfer's membership change moves the user in GSI1 (ORG#A#MEMBERS → ORG#C#MEMBERS): old entry deleted, new written
    const move = {
      Update: {
        Key: item('USER#u', 'USER'),
        UpdateExpression: 'SET #o = :o, #g = :g REMOVE #t',
        ExpressionAttributeNames: { '#o': 'organizationId', '#g': 'GSI1PK', '#t': 'apiToken' },
      },
    };
    expect(requestUnits('TransactWriteItems', { TransactItems: [move, { Delete: { Key: item('LOCK#USER#u', 'LOCK') } }] }, {}).wru).toBe(
      6 + 2,
    );
  });

  it('item sizes count names and values as DynamoDB does (numbers by digits, lists and maps 3 bytes + 1 per element)', () => {
    expect(marshalledItemBytes({ ab: S('xyz') })).toBe(5);
    expect(marshalledItemBytes({ n: { N: '12345' } })).toBe(1 + 4);
    expect(marshalledItemBytes({ l: { L: [S('a'), S('bc')] } })).toBe(1 + 3 + 2 + 3);
    expect(marshalledItemBytes({ m: { M: { k: { BOOL: true } } } })).toBe(1 + 3 + 1 + 1);
  });

  it('writtenKeys: the keys every kind of write names, PartiQL updates by their PK/SK parameters; a ConditionCheck writes nothing', () => {
    expect(
      writtenKeys('BatchWriteItem', {
        RequestItems: { t: [{ PutRequest: { Item: item('A', '1') } }, { DeleteRequest: { Key: item('B', '2') } }] },
      }),
    ).toEqual(['A\u00001', 'B\u00002']);
    expect(
      writtenKeys('TransactWriteItems', {
        TransactItems: [{ Update: { Key: item('C', '3') } }, { ConditionCheck: { Key: item('D', '4') } }],
      }),
    ).toEqual(['C\u00003']);
    const statement = {
      Statement: 'UPDATE "t" SET "role" = ? WHERE "PK" = ? AND "SK" = ? AND "v" = ?',
      Parameters: [S('admin'), S('CHAT#g'), S('MEMBER#u'), S('x')],
    };
    expect(
      writtenKeys('BatchExecuteStatement', {
        Statements: [statement, { Statement: 'SELECT * FROM "t" WHERE "PK" = ?', Parameters: [S('x')] }],
      }),
    ).toEqual(['CHAT#g\u0000MEMBER#u']);
  });

  it('PartiQL updates (DynamoDB Local bills none): 1 WRU, +1 for an item in GSI1, +2 when GSI1PK moves; a failed condition 1', () => {
    const role = {
      Statement: 'UPDATE "t" SET "role" = ? WHERE "PK" = ? AND "SK" = ?',
      Parameters: [S('admin'), S('CHAT#g'), S('MEMBER#u')],
    };
    const frozen = {
      Statement: 'UPDATE "t" SET "frozen" = ? WHERE "PK" = ? AND "SK" = ?',
      Parameters: [{ BOOL: true }, S('CHAT#g'), S('CHAT')],
    };
    // F1: a file is in GSI3 only, which projects nothing a hand-over changes: the table alone
    const handOver = {
      Statement: 'UPDATE "t" SET "ownerOrganizationId" = ? WHERE "PK" = ? AND "SK" = ?',
      Parameters: [S('A'), S('CHAT#g'), S('FILE#f')],
    };
    const movesGsi1 = {
      Statement: 'UPDATE "t" SET "status" = ?, "GSI1PK" = ? WHERE "PK" = ? AND "SK" = ?',
      Parameters: [S('x'), S('ORG#A#MEMBERS'), S('USER#u'), S('USER')],
    };
    expect(
      requestUnits('BatchExecuteStatement', { Statements: [role, frozen, handOver, movesGsi1] }, { Responses: [{}, {}, {}, {}] }),
    ).toEqual({
      wru: 2 + 1 + 1 + 3,
      rru: 0,
      estimated: 7,
    });
    expect(
      requestUnits(
        'BatchExecuteStatement',
        { Statements: [role, movesGsi1] },
        { Responses: [{ Error: { Code: 'ConditionalCheckFailed' } }, {}] },
      ).wru,
    ).toBe(1 + 3);
  });

  it('the items the estimate takes for GSI1 are exactly those records.ts puts in it (an item leaving an index is billed right)', () => {
    const items = [
      records.orgItem({ id: 'A', name: 'A', plan: 'business' } as any, 1, 1),
      ...records.allowanceItems('A', 'B'),
      records.userItem({ id: 'u', name: 'U', organizationId: 'A', status: 'active', apiToken: null } as any),
      ...records.contactItems('u', 'v'),
      records.chatItem({ id: 'g', type: 'group', name: 'g', frozen: false } as any),
      records.memberItem('g', { userId: 'u', role: 'admin' }),
      records.messageItem({ id: 'm', chatId: 'g', senderId: 'u', postedAt: '2026-01-01T00:00:00Z' }),
      records.fileItem({ id: 'f', chatId: 'g', uploaderId: 'u', name: 'f', size: 1, ownerOrganizationId: 'A' }),
      records.handedOverItem('u', 'A'),
      records.taskItem({ id: 't', chatId: 'g', assigneeId: 'u', requesterId: 'u', body: 'x', done: false } as any),
    ];
    for (const item of items) expect(IN_GSI1(item.PK, item.SK), `${item.type} ${item.PK} ${item.SK}`).toBe(item.GSI1PK !== undefined);
  });
});
