import { queryPages } from './batch.js';
import { GSI1, keys } from './keys.js';
import { batchGet, tableName } from './table.js';

/** The per-user locks held on these users (one operation per user at a time), 100 per BatchGetItem. */
export async function getLocks(userIds: readonly string[]): Promise<{ userId: string; operationId: string }[]> {
  const items = await batchGet(userIds.map((id) => keys.lock(id)));
  return items.map((i) => ({ userId: i.userId as string, operationId: i.operationId as string }));
}

/** How many users the organization's members index holds (B1 counts every one of them done or failed). */
export async function countMembers(organizationId: string): Promise<number> {
  let total = 0;
  for await (const page of queryPages({
    TableName: tableName(),
    IndexName: GSI1,
    KeyConditionExpression: 'GSI1PK = :pk',
    ExpressionAttributeValues: { ':pk': keys.orgMembers(organizationId) },
    ProjectionExpression: 'PK',
  })) {
    total += page.length;
  }
  return total;
}
