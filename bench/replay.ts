import { BatchGetCommand, BatchWriteCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { ddb, s3 } from '../functions/store/clients.js';
import { keys } from '../functions/store/keys.js';
import { READ_CONCURRENCY, WRITE_CONCURRENCY } from '../functions/store/batch.js';
import { floorWaves, INDEX_PARTITION_KEY, type FloorRequest } from './floor.js';

/**
 * The replay's requests in flight, as the product sends them (functions/store/batch.ts): reads at READ_CONCURRENCY,
 * writes at WRITE_CONCURRENCY.
 */
export const PRODUCT_IN_FLIGHT = { reads: READ_CONCURRENCY, writes: WRITE_CONCURRENCY };

/**
 * Replays a floor plan raw with the AWS SDK on the emulators, in its dependency waves (bench/floor.ts `floorWaves`:
 * partitions, then the users and organizations they name, then the writes), each wave with `inFlight` requests at
 * once. Queries follow their pages (`queryPages` counts the pages DynamoDB really returned); unprocessed keys and
 * items are sent again (those extra requests show in the request counts, not in the floor). Load this module after
 * the stack has set the endpoints (the store's clients read them when created).
 */
export async function replayFloor(
  plan: readonly FloorRequest[],
  options: { table: string; bucket: string; inFlight?: { reads: number; writes: number } },
): Promise<{ ms: number; queryPages: number; waves: number }> {
  const { table, bucket } = options;
  const limits = options.inFlight ?? PRODUCT_IN_FLIGHT;
  let queryPages = 0;
  const run = async (requests: readonly FloorRequest[]) => {
    const inFlight = requests.every((r) => r.op === 'Query' || r.op === 'BatchGet') ? limits.reads : limits.writes;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(inFlight, requests.length) }, async () => {
        while (next < requests.length) await send(requests[next++]!);
      }),
    );
  };
  const send = async (r: FloorRequest): Promise<void> => {
    switch (r.op) {
      case 'Query': {
        let start: Record<string, unknown> | undefined;
        do {
          const out = await ddb.send(
            new QueryCommand({
              TableName: table,
              ...(r.index ? { IndexName: r.index } : {}),
              KeyConditionExpression: '#p = :p',
              ExpressionAttributeNames: { '#p': r.index ? INDEX_PARTITION_KEY[r.index] : 'PK' },
              ExpressionAttributeValues: { ':p': r.partition },
              ExclusiveStartKey: start,
            }),
          );
          queryPages++;
          start = out.LastEvaluatedKey;
        } while (start);
        return;
      }
      case 'BatchGet': {
        let pending: Record<string, unknown>[] = r.keys;
        while (pending.length > 0) {
          const out = await ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending } } }));
          pending = (out.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
        }
        return;
      }
      case 'BatchWrite': {
        let pending: any[] = [...r.deletes.map((Key) => ({ DeleteRequest: { Key } })), ...r.puts.map((Item) => ({ PutRequest: { Item } }))];
        while (pending.length > 0) {
          const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
          pending = (out.UnprocessedItems?.[table] as any[] | undefined) ?? [];
        }
        return;
      }
      case 'TransactWrite':
        await ddb.send(
          new TransactWriteCommand({
            TransactItems: [
              ...r.puts.map((Item) => ({ Put: { TableName: table, Item } })),
              ...r.counters.map((c) => ({
                Update: {
                  TableName: table,
                  Key: keys.org(c.organizationId),
                  UpdateExpression: 'ADD #m :m, #a :a',
                  ExpressionAttributeNames: { '#m': 'members', '#a': 'admins' },
                  ExpressionAttributeValues: { ':m': c.members, ':a': c.admins },
                },
              })),
            ],
          }),
        );
        return;
      case 'DeleteObjects':
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: r.keys.map((Key) => ({ Key })), Quiet: true } }));
        return;
    }
  };
  const waves = floorWaves(plan);
  const t0 = performance.now();
  for (const wave of waves) await run(wave);
  return { ms: performance.now() - t0, queryPages, waves: waves.length };
}
