import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { requireEnv } from '../shared/config.js';
import type { Organization, User } from '../domain/model.js';
import { backoff, chunk } from './batch.js';
import { ddb } from './clients.js';
import { keys } from './keys.js';
import { toOrg, toUser, type Item } from './records.js';

export const tableName = (): string => requireEnv('TABLE_NAME');
export const bucketName = (): string => requireEnv('BUCKET_NAME');

export async function getItem(key: { PK: string; SK: string }, consistent = true): Promise<Item | undefined> {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: consistent }));
  return out.Item;
}

/** Items by key, 100 per BatchGetItem, UnprocessedKeys retried with backoff. */
export async function batchGet(keyList: { PK: string; SK: string }[]): Promise<Item[]> {
  const table = tableName();
  const unique = [...new Map(keyList.map((k) => [`${k.PK}\u0000${k.SK}`, k])).values()];
  const found: Item[] = [];
  for (const batch of chunk(unique, 100)) {
    let pending: Record<string, any>[] = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const out = await ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }));
      found.push(...(out.Responses?.[table] ?? []));
      pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return found;
}

export async function getUser(id: string): Promise<User | undefined> {
  const item = await getItem(keys.user(id));
  return item ? toUser(item) : undefined;
}

export async function getOrganization(id: string): Promise<(Organization & { members: number }) | undefined> {
  const item = await getItem(keys.org(id));
  return item ? { ...toOrg(item), members: Number(item.members ?? 0) } : undefined;
}

export async function getUsers(ids: Iterable<string>): Promise<Map<string, User>> {
  const items = await batchGet([...new Set(ids)].map((id) => keys.user(id)));
  return new Map(items.map((i) => [i.id as string, toUser(i)]));
}

export async function getOrganizations(ids: Iterable<string>): Promise<Map<string, Organization>> {
  const items = await batchGet([...new Set(ids)].map((id) => keys.org(id)));
  return new Map(items.map((i) => [i.id as string, toOrg(i)]));
}
