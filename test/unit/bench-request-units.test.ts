import { describe, expect, it } from 'vitest';
import { marshalledItemBytes, requestUnits, transactionalPutUnits, writtenKeys } from '../../bench/request-units.js';

const S = (s: string) => ({ S: s });
const item = (pk: string, sk: string, extra: Record<string, any> = {}) => ({ PK: S(pk), SK: S(sk), ...extra });

describe('bench request-unit calculator (bench/request-units.ts)', () => {
  it('non-transactional requests bill what DynamoDB answered (ConsumedCapacity, GSIs included)', () => {
    const out = { ConsumedCapacity: { TableName: 't', CapacityUnits: 6, Table: { CapacityUnits: 3 }, GlobalSecondaryIndexes: { GSI1: { CapacityUnits: 3 } } } };
    expect(requestUnits('PutItem', { Item: item('a', 'b') }, out)).toEqual({ wru: 6, rru: 0, estimated: 0 });
    expect(requestUnits('BatchWriteItem', { RequestItems: { t: [{}, {}] } }, { ConsumedCapacity: [{ CapacityUnits: 4 }] })).toEqual({ wru: 4, rru: 0, estimated: 0 });
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
    const request = { TransactItems: [{ Put: { Item: small } }, { Update: { Key: item('ORG#A', 'ORG') } }, { ConditionCheck: { Key: item('LOCK#USER#u', 'LOCK') } }] };
    expect(requestUnits('TransactWriteItems', request, { ConsumedCapacity: [{ CapacityUnits: 32 }] })).toEqual({ wru: 6, rru: 0, estimated: 6 });
  });

  it('item sizes count names and values as DynamoDB does (numbers by digits, lists and maps 3 bytes + 1 per element)', () => {
    expect(marshalledItemBytes({ ab: S('xyz') })).toBe(5);
    expect(marshalledItemBytes({ n: { N: '12345' } })).toBe(1 + 4);
    expect(marshalledItemBytes({ l: { L: [S('a'), S('bc')] } })).toBe(1 + 3 + 2 + 3);
    expect(marshalledItemBytes({ m: { M: { k: { BOOL: true } } } })).toBe(1 + 3 + 1 + 1);
  });

  it('writtenKeys: the keys every kind of write names, PartiQL updates by their PK/SK parameters; a ConditionCheck writes nothing', () => {
    expect(writtenKeys('BatchWriteItem', { RequestItems: { t: [{ PutRequest: { Item: item('A', '1') } }, { DeleteRequest: { Key: item('B', '2') } }] } })).toEqual(['A\u00001', 'B\u00002']);
    expect(writtenKeys('TransactWriteItems', { TransactItems: [{ Update: { Key: item('C', '3') } }, { ConditionCheck: { Key: item('D', '4') } }] })).toEqual(['C\u00003']);
    const statement = { Statement: 'UPDATE "t" SET "role" = ? WHERE "PK" = ? AND "SK" = ? AND "v" = ?', Parameters: [S('admin'), S('CHAT#g'), S('MEMBER#u'), S('x')] };
    expect(writtenKeys('BatchExecuteStatement', { Statements: [statement, { Statement: 'SELECT * FROM "t" WHERE "PK" = ?', Parameters: [S('x')] }] })).toEqual(['CHAT#g\u0000MEMBER#u']);
    expect(requestUnits('BatchExecuteStatement', { Statements: [statement, statement] }, {})).toEqual({ wru: 2, rru: 0, estimated: 2 });
  });
});
