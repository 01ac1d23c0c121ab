import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchExecuteStatementCommand,
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { DeleteObjectsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';

/**
 * The store's batching (functions/store/batch.ts, table.ts) against mocked SDK clients: each retry path and its
 * limit. Backoff timers are faked; the delays asked for are recorded.
 */
process.env.TABLE_NAME ??= 'offboard-unit';
const TABLE = process.env.TABLE_NAME;

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let batch: typeof import('../../functions/store/batch.js');
let table: typeof import('../../functions/store/table.js');
let delays: number[];

beforeAll(async () => {
  batch = await import('../../functions/store/batch.js');
  table = await import('../../functions/store/table.js');
});
beforeEach(() => {
  ddb.reset();
  s3.reset();
  vi.useFakeTimers();
  vi.spyOn(Math, 'random').mockReturnValue(0.999); // full jitter at its ceiling: the backoff's own bound
  const fakeSetTimeout = globalThis.setTimeout;
  delays = [];
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(
    ((fn: () => void, ms?: number) => (delays.push(Math.round(ms ?? 0)), fakeSetTimeout(fn, ms))) as any,
  );
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Runs `work` to its end, firing backoff timers as they come. */
async function settled<T>(work: Promise<T>): Promise<T> {
  const outcome = work.then(
    (value) => ({ value }),
    (error) => ({ error }),
  );
  await vi.runAllTimersAsync();
  const result: any = await outcome;
  if ('error' in result) throw result.error;
  return result.value;
}

const puts = (n: number) => Array.from({ length: n }, (_, i) => batch.put({ PK: `P#${i}`, SK: 'S' }));
const throttled = () => new ProvisionedThroughputExceededException({ $metadata: { httpStatusCode: 400 }, message: 'slow down' });

describe('batchWrite: UnprocessedItems', () => {
  it('sends again only what came back unprocessed, with growing backoff, until nothing is left', async () => {
    const items = puts(5);
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { [TABLE]: items.slice(2) as any } })
      .resolvesOnce({ UnprocessedItems: { [TABLE]: items.slice(4) as any } })
      .resolvesOnce({});
    await settled(batch.batchWrite(TABLE, items));
    const sent = ddb.commandCalls(BatchWriteCommand).map((c) => (c.args[0].input.RequestItems![TABLE] as any[]).length);
    expect(sent).toEqual([5, 3, 1]);
    expect(delays).toHaveLength(2);
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
  });

  it('gives up after 8 attempts with IncompleteBatch naming what is left', async () => {
    const items = puts(3);
    ddb.on(BatchWriteCommand).resolves({ UnprocessedItems: { [TABLE]: items.slice(1) as any } });
    await expect(settled(batch.batchWrite(TABLE, items))).rejects.toMatchObject({
      name: 'IncompleteBatch',
      message: expect.stringContaining('2 writes'),
    });
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(batch.MAX_ATTEMPTS);
  });

  it('writes 25 per request', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    await settled(batch.batchWrite(TABLE, puts(60)));
    expect(
      ddb
        .commandCalls(BatchWriteCommand)
        .map((c) => (c.args[0].input.RequestItems![TABLE] as any[]).length)
        .sort(),
    ).toEqual([10, 25, 25]);
  });
});

describe("throttling that outlasts the SDK's attempts", () => {
  it('is retried with exponential backoff and the batch completes', async () => {
    ddb.on(BatchWriteCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});
    await settled(batch.batchWrite(TABLE, puts(2)));
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(4);
    expect(delays).toHaveLength(3);
    expect(delays[0]! < delays[1]! && delays[1]! < delays[2]!).toBe(true);
  });

  it("surfaces the throttling error once the attempts are used up (the step's Retry takes over)", async () => {
    ddb.on(BatchWriteCommand).rejects(throttled());
    await expect(settled(batch.batchWrite(TABLE, puts(2)))).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(batch.MAX_ATTEMPTS);
  });

  it('is not confused with other errors, which fail at once', async () => {
    ddb.on(BatchWriteCommand).rejects(Object.assign(new Error('bad key'), { name: 'ValidationException' }));
    await expect(settled(batch.batchWrite(TABLE, puts(2)))).rejects.toMatchObject({ name: 'ValidationException' });
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(1);
  });
});

describe('batchGet: UnprocessedKeys', () => {
  const keys = Array.from({ length: 4 }, (_, i) => ({ PK: `P#${i}`, SK: 'S' }));

  it('asks again for the unprocessed keys and returns every item once', async () => {
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { [TABLE]: [keys[0]!, keys[1]!] }, UnprocessedKeys: { [TABLE]: { Keys: [keys[2]!, keys[3]!] } } })
      .resolvesOnce({ Responses: { [TABLE]: [keys[2]!] }, UnprocessedKeys: { [TABLE]: { Keys: [keys[3]!] } } })
      .resolvesOnce({ Responses: { [TABLE]: [keys[3]!] } });
    const items = await settled(table.batchGet(keys));
    expect(items.map((i) => i.PK).sort()).toEqual(['P#0', 'P#1', 'P#2', 'P#3']);
    expect(ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems![TABLE]!.Keys!.length)).toEqual([4, 2, 1]);
  });

  it('gives up after 8 attempts with IncompleteBatch', async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [] }, UnprocessedKeys: { [TABLE]: { Keys: [keys[0]!] } } });
    await expect(settled(table.batchGet(keys))).rejects.toMatchObject({
      name: 'IncompleteBatch',
      message: expect.stringContaining('1 keys'),
    });
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(batch.MAX_ATTEMPTS);
  });
});

describe('batchUpdate: BatchExecuteStatement per-statement errors', () => {
  const statements = Array.from({ length: 3 }, (_, i) => ({
    Statement: `UPDATE "${TABLE}" SET "v" = ? WHERE "PK" = ? AND "SK" = ?`,
    Parameters: [i, `P#${i}`, 'S'],
  }));

  it('retries only the throttled statements, and counts a failed condition as done (the item is gone)', async () => {
    ddb
      .on(BatchExecuteStatementCommand)
      .resolvesOnce({
        Responses: [{}, { Error: { Code: 'ProvisionedThroughputExceeded' } }, { Error: { Code: 'ConditionalCheckFailed' } }],
      })
      .resolvesOnce({ Responses: [{}] });
    expect(await settled(batch.batchUpdate(statements))).toBe(1);
    const second = ddb.commandCalls(BatchExecuteStatementCommand)[1]!.args[0].input.Statements!;
    expect(second.map((s) => s.Parameters![0])).toEqual([1]);
  });

  it('gives up after 8 attempts with IncompleteBatch', async () => {
    ddb
      .on(BatchExecuteStatementCommand)
      .callsFake((input) => ({ Responses: input.Statements.map(() => ({ Error: { Code: 'ThrottlingError' } })) }));
    await expect(settled(batch.batchUpdate(statements))).rejects.toMatchObject({
      name: 'IncompleteBatch',
      message: expect.stringContaining('3 updates'),
    });
    expect(ddb.commandCalls(BatchExecuteStatementCommand)).toHaveLength(batch.MAX_ATTEMPTS);
  });

  it('fails at once on an error that is not transient', async () => {
    ddb
      .on(BatchExecuteStatementCommand)
      .resolves({ Responses: [{}, { Error: { Code: 'ValidationError', Message: 'no such attribute' } }, {}] });
    await expect(settled(batch.batchUpdate(statements))).rejects.toMatchObject({
      name: 'IncompleteBatch',
      message: expect.stringContaining('ValidationError'),
    });
  });
});

describe('deleteObjects: per-key DeleteObjects errors', () => {
  const keys = ['k0', 'k1', 'k2', 'k3'];

  it('deletes again only the keys that failed transiently; an absent key counts as deleted (F4)', async () => {
    s3.on(DeleteObjectsCommand)
      .resolvesOnce({
        Errors: [
          { Key: 'k1', Code: 'SlowDown' },
          { Key: 'k2', Code: 'InternalError' },
          { Key: 'k3', Code: 'NoSuchKey' },
        ],
      })
      .resolvesOnce({ Errors: [{ Key: 'k2', Code: 'SlowDown' }] })
      .resolvesOnce({});
    await settled(batch.deleteObjects('bucket', keys));
    expect(s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete!.Objects!.map((o) => o.Key))).toEqual([
      keys,
      ['k1', 'k2'],
      ['k2'],
    ]);
  });

  it('fails with IncompleteBatch naming the key on a lasting error (AccessDenied)', async () => {
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'k2', Code: 'AccessDenied', Message: 'denied' }] });
    await expect(settled(batch.deleteObjects('bucket', keys))).rejects.toMatchObject({
      name: 'IncompleteBatch',
      message: expect.stringContaining('s3://bucket/k2: AccessDenied'),
    });
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(1);
  });

  it('gives up after 8 attempts with IncompleteBatch', async () => {
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'k0', Code: 'SlowDown' }] });
    await expect(settled(batch.deleteObjects('bucket', keys))).rejects.toMatchObject({
      name: 'IncompleteBatch',
      message: expect.stringContaining('1 objects'),
    });
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(batch.MAX_ATTEMPTS);
  });

  it('absorbs a whole request answered SlowDown (503)', async () => {
    s3.on(DeleteObjectsCommand)
      .rejectsOnce(
        new S3ServiceException({
          name: 'SlowDown',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
          message: 'reduce your request rate',
        }),
      )
      .resolves({});
    await settled(batch.deleteObjects('bucket', keys));
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(2);
  });

  it('sends 1,000 keys per request', async () => {
    s3.on(DeleteObjectsCommand).resolves({});
    await settled(
      batch.deleteObjects(
        'bucket',
        Array.from({ length: 2_500 }, (_, i) => `k${i}`),
      ),
    );
    expect(
      s3
        .commandCalls(DeleteObjectsCommand)
        .map((c) => c.args[0].input.Delete!.Objects!.length)
        .sort(),
    ).toEqual([1000, 1000, 500]);
  });
});

describe('transactWrite: cancellations', () => {
  const cancelled = (...codes: string[]) =>
    new TransactionCanceledException({
      $metadata: { httpStatusCode: 400 },
      message: 'cancelled',
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  const items = [{ Put: { TableName: TABLE, Item: { PK: 'a', SK: 'b' } } }, { Put: { TableName: TABLE, Item: { PK: 'c', SK: 'd' } } }];

  it('retries a cancellation caused only by a conflicting transaction', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'TransactionConflict'))
      .rejectsOnce(cancelled('TransactionConflict', 'None'))
      .resolves({});
    await settled(batch.transactWrite(items));
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('does not retry a failed condition, even beside a conflict', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'TransactionConflict'));
    await expect(settled(batch.transactWrite(items))).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('gives up on lasting conflicts after 8 attempts', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None'));
    await expect(settled(batch.transactWrite(items))).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(batch.MAX_ATTEMPTS);
  });
});

describe('queryUpTo: a bounded read (CONTRACT.md planning: a request reads no more of an index than it may plan)', () => {
  /** A partition of 7 items served as DynamoDB serves it: at most `Limit` per page (3 when no Limit is asked). */
  const serve = () =>
    ddb.on(QueryCommand).callsFake((input: any) => {
      const from = input.ExclusiveStartKey ? Number(input.ExclusiveStartKey.SK) + 1 : 0;
      const Items = Array.from({ length: 7 }, (_, i) => ({ PK: 'P', SK: String(i) })).slice(from, from + Math.min(input.Limit ?? 3, 3));
      const last = Items[Items.length - 1];
      return { Items, ...(last && (Number(last.SK) < 6 || input.Limit === Items.length) ? { LastEvaluatedKey: last } : {}) };
    });
  const input = { TableName: TABLE, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'P' } };
  const limits = () => ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.Limit);

  it('stops one item past the bound, asking each page for no more than is still wanted, and says more remain', async () => {
    serve();
    const { items, more } = await batch.queryUpTo(input, 4);
    expect(items.map((i) => i.SK)).toEqual(['0', '1', '2', '3']);
    expect(more).toBe(true);
    expect(limits()).toEqual([5, 2]); // 3 served, then 2 of the 2 still wanted: 5 items read of 7
  });

  it('reads a query no larger than the bound to its end and says nothing remains', async () => {
    serve();
    expect(await batch.queryUpTo(input, 7)).toMatchObject({ more: false });
    expect((await batch.queryUpTo(input, 7)).items).toHaveLength(7);
    ddb.reset();
    serve();
    expect(await batch.queryUpTo(input, 0)).toEqual({ items: [], more: true });
  });

  it('without a bound (Infinity) reads every page, as queryAll', async () => {
    serve();
    expect(await batch.queryUpTo(input, Number.POSITIVE_INFINITY)).toMatchObject({ more: false, items: { length: 7 } });
    expect(limits()).toEqual([undefined, undefined, undefined]);
  });
});
