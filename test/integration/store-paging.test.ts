import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, type Target } from './harness.js';

/** Paging against the real engine (DynamoDB Local): a cursor handed in is where the next page starts. */
let target: Target;
beforeAll(async () => {
  target = await openTarget();
}, 120_000);
afterAll(async () => target?.close());

describe('query paging', () => {
  it('queryPages starts from the ExclusiveStartKey it is given, and pages to the end', async () => {
    if (!target.canInjectFaults) return; // the store is in this process only on the embedded stack
    // imported once the embedded stack has set the environment (the clients read their endpoints when created)
    const { batchWrite, put, queryPage, queryPages } = await import('../../functions/store/batch.js');
    const { tableName } = await import('../../functions/store/table.js');
    const pk = `PAGING#${Date.now()}`;
    await batchWrite(
      tableName(),
      Array.from({ length: 250 }, (_, i) => put({ PK: pk, SK: `ITEM#${String(i).padStart(4, '0')}`, type: 'test' })),
    );
    const input = { TableName: tableName(), KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, Limit: 100 };
    const first = await queryPage(input);
    expect(first.items.map((i) => i.SK)).toEqual(Array.from({ length: 100 }, (_, i) => `ITEM#${String(i).padStart(4, '0')}`));
    expect(first.next).toBeDefined();
    const rest: string[] = [];
    for await (const page of queryPages({ ...input, ExclusiveStartKey: first.next })) rest.push(...page.map((i) => i.SK as string));
    expect(rest).toEqual(Array.from({ length: 150 }, (_, i) => `ITEM#${String(i + 100).padStart(4, '0')}`));
  });
});
