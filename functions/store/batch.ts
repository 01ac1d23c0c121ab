import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchExecuteStatementCommand,
  BatchWriteCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  type QueryCommandInput,
  type ScanCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { pushTo } from '../shared/collections.js';
import { IncompleteBatch } from '../shared/errors.js';
import { ddb, s3 } from './clients.js';

/** Batching lives here, once: 25 items per BatchWriteItem, 1,000 keys per DeleteObjects, every query paginated. */
export const BATCH_WRITE_LIMIT = 25;
export const DELETE_OBJECTS_LIMIT = 1000;
/** Attempts of one batch request (partial results and throttling together) before it fails with IncompleteBatch. */
export const MAX_ATTEMPTS = 8;
/** Write requests (BatchWriteItem, BatchExecuteStatement) the store sends at once. */
export const WRITE_CONCURRENCY = 8;
const IN_FLIGHT = WRITE_CONCURRENCY;

type Key = Record<string, unknown>;
export type WriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Key } };

export const put = (item: Record<string, unknown>): WriteRequest => ({ PutRequest: { Item: item } });
export const del = (key: Key): WriteRequest => ({ DeleteRequest: { Key: key } });

/**
 * Throttling that outlasted the SDK's own attempts (maxAttempts in clients.ts). A batch is worth finishing: its
 * request is sent again after a longer backoff, within the batch's MAX_ATTEMPTS.
 */
const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'SlowDown']);
export const isThrottling = (error: unknown): boolean =>
  THROTTLING.has((error as Error | undefined)?.name ?? '') ||
  (error as { $retryable?: { throttling?: boolean } } | undefined)?.$retryable?.throttling === true;

/** Sends one request, retrying it with backoff while `retryable` says so, at most MAX_ATTEMPTS times in all. */
async function retrying<T>(send: () => Promise<T>, retryable: (error: unknown) => boolean): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (!retryable(error) || attempt + 1 >= MAX_ATTEMPTS) throw error;
      await backoff(attempt + 1, 100);
    }
  }
}

/** Sends one request, retrying it with backoff while it is throttled, at most MAX_ATTEMPTS times in all. */
export const absorbingThrottling = <T>(send: () => Promise<T>): Promise<T> => retrying(send, isThrottling);

/**
 * Sends one write, retrying it with backoff while it is throttled or conflicts with a transaction in progress on its
 * item (TransactionConflictException: an item other writers' transactions update too, such as an organization's run
 * counter), at most MAX_ATTEMPTS times in all.
 */
export const absorbingConflicts = <T>(send: () => Promise<T>): Promise<T> =>
  retrying(send, (error) => (error as Error | undefined)?.name === 'TransactionConflictException' || isThrottling(error));

/** Exponential backoff with full jitter. */
export function backoff(attempt: number, baseMs = 50, capMs = 5000): Promise<void> {
  const ms = Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `work` over `items` with at most `limit` in flight; results in item order. */
export async function inParallel<T, R = void>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Reads in flight at once while planning: enough to hide latency, bounded so a large user cannot flood the table. */
export const READ_CONCURRENCY = 16;

/** Writes (puts and deletes) in batches of 25, retrying UnprocessedItems with backoff. Deletes of absent items succeed. */
export async function batchWrite(tableName: string, requests: readonly WriteRequest[]): Promise<void> {
  await inParallel(chunk(requests, BATCH_WRITE_LIMIT), IN_FLIGHT, async (batch) => {
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new IncompleteBatch(`${pending.length} writes to ${tableName} still unprocessed after ${MAX_ATTEMPTS} attempts`);
      if (attempt > 0) await backoff(attempt);
      const out = await absorbingThrottling(() => ddb.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending as any } })));
      pending = (out.UnprocessedItems?.[tableName] as WriteRequest[] | undefined) ?? [];
    }
  });
}

/**
 * TransactWriteItems, retried with backoff while it is cancelled only by conflicts with other transactions on the
 * same items (two deletions in one organization update its counters at once) or throttled. A failed condition is not
 * retried.
 */
export async function transactWrite(items: NonNullable<TransactWriteCommandInput['TransactItems']>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await ddb.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (error) {
      const codes = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None') : [];
      const onlyConflicts = codes.includes('TransactionConflict') && codes.every((c) => c === 'TransactionConflict' || c === 'None');
      const throttled =
        isThrottling(error) ||
        (codes.includes('ThrottlingError') && codes.every((c) => c === 'ThrottlingError' || c === 'TransactionConflict' || c === 'None'));
      if (!(onlyConflicts || throttled) || attempt + 1 >= MAX_ATTEMPTS) throw error;
      await backoff(attempt + 1);
    }
  }
}

/** Every page of a query, from the caller's `ExclusiveStartKey` if it gives one. */
export async function* queryPages<T = Record<string, any>>(input: QueryCommandInput): AsyncGenerator<T[]> {
  let ExclusiveStartKey: Key | undefined = input.ExclusiveStartKey;
  do {
    const out = await absorbingThrottling(() => ddb.send(new QueryCommand({ ...input, ExclusiveStartKey })));
    yield (out.Items ?? []) as T[];
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
}

export async function queryAll<T = Record<string, any>>(input: QueryCommandInput): Promise<T[]> {
  const all: T[] = [];
  for await (const page of queryPages<T>(input)) all.push(...page);
  return all;
}

/**
 * At most `max` items of a query, and whether more remain: page by page, each page asking only for the items still
 * wanted and one more (the one more says that the query goes on), so a bounded read of a large partition costs what
 * the bound costs, not what the partition holds. `max` Infinity reads it all, as queryAll.
 */
export async function queryUpTo<T = Record<string, any>>(input: QueryCommandInput, max: number): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let ExclusiveStartKey: Key | undefined = input.ExclusiveStartKey;
  do {
    const want = max + 1 - items.length;
    const Limit = Number.isFinite(want) ? Math.min(want, input.Limit ?? want) : input.Limit;
    const out = await absorbingThrottling(() =>
      ddb.send(new QueryCommand({ ...input, ExclusiveStartKey, ...(Limit === undefined ? {} : { Limit }) })),
    );
    for (const item of out.Items ?? []) items.push(item as T);
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey && items.length <= max);
  return items.length > max ? { items: items.slice(0, max), more: true } : { items, more: false };
}

export async function* scanPages(input: ScanCommandInput): AsyncGenerator<Record<string, any>[]> {
  let ExclusiveStartKey: Key | undefined;
  do {
    const out = await absorbingThrottling(() => ddb.send(new ScanCommand({ ...input, ExclusiveStartKey })));
    yield out.Items ?? [];
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
}

/**
 * A whole-table read as `segments` parallel Scan segments (each paginated): what a check of every item needs,
 * several times faster than one sequential scan, and never item by item.
 */
export async function scanParallel(input: ScanCommandInput, segments = 8): Promise<Record<string, any>[]> {
  const parts = await Promise.all(
    Array.from({ length: segments }, async (_, Segment) => {
      const items: Record<string, any>[] = [];
      for await (const page of scanPages({ ...input, Segment, TotalSegments: segments })) items.push(...page);
      return items;
    }),
  );
  return parts.flat();
}

/** One page of a query and where the next starts (undefined after the last). */
export async function queryPage<T = Record<string, any>>(input: QueryCommandInput): Promise<{ items: T[]; next?: Key }> {
  const out = await ddb.send(new QueryCommand(input));
  return { items: (out.Items ?? []) as T[], next: out.LastEvaluatedKey };
}

/** Items read per request when a page is filtered after reading (one BatchGetItem's worth of keys). */
export const FILTERED_READ = 100;

/**
 * One page of a list: at most `limit` values, reading the query on from its `ExclusiveStartKey`. `select` keeps the
 * items it wants, in order, each with its value (it may read more, e.g. the records an index item points at).
 * `last` is the item of the page's last value when more may follow: the next page starts after it. Unfiltered
 * (`readLimit` absent) a page costs one request of `limit + 1` items; a filter reads `readLimit` items at a time
 * (Infinity: DynamoDB's 1 MB pages) until the page is full or the query ends.
 */
export async function filteredPage<V>(
  input: QueryCommandInput,
  limit: number,
  select: (items: Record<string, any>[]) => Promise<[Record<string, any>, V][]> | [Record<string, any>, V][],
  readLimit?: number,
): Promise<{ values: V[]; last?: Record<string, any> }> {
  const kept: [Record<string, any>, V][] = [];
  let start = input.ExclusiveStartKey;
  do {
    const want = readLimit ?? limit + 1 - kept.length;
    const out = await ddb.send(new QueryCommand({ ...input, ExclusiveStartKey: start, ...(Number.isFinite(want) ? { Limit: want } : {}) }));
    kept.push(...(await select(out.Items ?? [])));
    start = out.LastEvaluatedKey;
  } while (start && kept.length <= limit);
  return { values: kept.slice(0, limit).map(([, v]) => v), ...(kept.length > limit ? { last: kept[limit - 1]![0] } : {}) };
}

/** A conditional update of one item, as a PartiQL statement (BatchExecuteStatement takes 25). */
export interface Statement {
  Statement: string;
  Parameters: unknown[];
}
const BATCH_STATEMENT_LIMIT = 25;
const RETRYABLE_STATEMENT_CODES = new Set([
  'ProvisionedThroughputExceeded',
  'ThrottlingError',
  'RequestLimitExceeded',
  'InternalServerError',
  'TransactionConflict',
]);

/**
 * Conditional updates in batches of 25 (BatchExecuteStatement): each statement succeeds or fails alone. A failed
 * condition means the item is gone (or already as wanted) and counts as done; throttled statements are retried.
 * Returns how many statements found their condition false.
 */
export async function batchUpdate(statements: readonly Statement[]): Promise<number> {
  let skipped = 0;
  await inParallel(chunk(statements, BATCH_STATEMENT_LIMIT), IN_FLIGHT, async (batch) => {
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new IncompleteBatch(`${pending.length} updates still throttled after ${MAX_ATTEMPTS} attempts`);
      if (attempt > 0) await backoff(attempt);
      const out = await absorbingThrottling(() => ddb.send(new BatchExecuteStatementCommand({ Statements: pending as any })));
      const retry: Statement[] = [];
      (out.Responses ?? []).forEach((r, i) => {
        const code = r.Error?.Code;
        if (!code) return;
        if (code === 'ConditionalCheckFailed') skipped++;
        else if (RETRYABLE_STATEMENT_CODES.has(code)) retry.push(pending[i]!);
        else throw new IncompleteBatch(`update failed: ${code} ${r.Error?.Message ?? ''}`.trim());
      });
      pending = retry;
    }
  });
  return skipped;
}

/** Where appliers send item writes: at once (`immediately`), or gathered for later (WriteBuffer). */
export interface WriteSink {
  write(tableName: string, requests: readonly WriteRequest[]): Promise<void>;
  update(statements: readonly Statement[]): Promise<unknown>;
  /** True when a delete of this key waits in the sink, not sent yet. */
  deleting(tableName: string, key: Key): boolean;
}

/** Writes sent as they come, each call in its own batches. */
export const immediately: WriteSink = { write: batchWrite, update: batchUpdate, deleting: () => false };

const itemKey = (tableName: string, key: Key) => `${tableName}\u0000${String(key.PK)}\u0000${String(key.SK)}`;
const requestKey = (tableName: string, r: WriteRequest) => itemKey(tableName, 'PutRequest' in r ? r.PutRequest.Item : r.DeleteRequest.Key);

/**
 * Issue 18: the item writes of several appliers and phases of one invocation, sent together at `flush()` in full
 * batches (BatchWriteItem of 25, BatchExecuteStatement of 25) instead of a part-filled batch per applier and phase.
 * A key written twice is sent once (the later request wins, as it would sent in order). Every write the buffer takes
 * is idempotent (a delete of what is gone, an update conditional on the item), so their order within the flush does
 * not matter; what must precede them (an object's bytes, F1; a transaction) is sent before they are buffered.
 */
export class WriteBuffer implements WriteSink {
  private readonly writes = new Map<string, { tableName: string; request: WriteRequest }>();
  private statements: Statement[] = [];

  async write(tableName: string, requests: readonly WriteRequest[]): Promise<void> {
    for (const request of requests) this.writes.set(requestKey(tableName, request), { tableName, request });
  }

  async update(statements: readonly Statement[]): Promise<void> {
    this.statements.push(...statements);
  }

  deleting(tableName: string, key: Key): boolean {
    const pending = this.writes.get(itemKey(tableName, key));
    return pending !== undefined && 'DeleteRequest' in pending.request;
  }

  isEmpty(): boolean {
    return this.writes.size === 0 && this.statements.length === 0;
  }

  /** Sends what is gathered; the buffer is empty after (also when a batch fails: a retry sends it again). */
  async flush(): Promise<void> {
    const byTable = new Map<string, WriteRequest[]>();
    for (const { tableName, request } of this.writes.values()) pushTo(byTable, tableName, request);
    const statements = this.statements;
    this.writes.clear();
    this.statements = [];
    await Promise.all([...[...byTable].map(([tableName, requests]) => batchWrite(tableName, requests)), batchUpdate(statements)]);
  }
}

/** S3 error codes worth another try; anything else (AccessDenied, …) fails the batch. */
const TRANSIENT_S3_CODES = new Set(['InternalError', 'SlowDown', 'ServiceUnavailable', 'RequestTimeout']);

/** Deletes objects, 1,000 keys per request, retrying per-key transient errors. An absent key counts as deleted (F4). */
export async function deleteObjects(bucket: string, keysToDelete: readonly string[]): Promise<void> {
  await inParallel(chunk([...new Set(keysToDelete)], DELETE_OBJECTS_LIMIT), 4, async (batch) => {
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new IncompleteBatch(`${pending.length} objects in ${bucket} still not deleted after ${MAX_ATTEMPTS} attempts`);
      if (attempt > 0) await backoff(attempt);
      const out = await absorbingThrottling(() =>
        s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: pending.map((Key) => ({ Key })), Quiet: true } })),
      );
      const errors = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      const fatal = errors.find((e) => !TRANSIENT_S3_CODES.has(e.Code ?? ''));
      if (fatal) throw new IncompleteBatch(`could not delete s3://${bucket}/${fatal.Key}: ${fatal.Code} ${fatal.Message ?? ''}`.trim());
      pending = errors.map((e) => e.Key!);
    }
  });
}

/** Every key under a prefix, page by page. */
export async function* listKeyPages(bucket: string, prefix?: string): AsyncGenerator<string[]> {
  let ContinuationToken: string | undefined;
  do {
    const out = await absorbingThrottling(() => s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken })));
    yield (out.Contents ?? []).map((o) => o.Key!);
    ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (ContinuationToken);
}

/** Every key under a prefix (or in the whole bucket). */
export async function listAllKeys(bucket: string, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of listKeyPages(bucket, prefix)) keys.push(...page);
  return keys;
}
