import { BatchGetCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionFailed } from './conditions.js';
import { requireEnv } from '../shared/config.js';
import type { Organization, User } from '../domain/model.js';
import { IncompleteBatch } from '../shared/errors.js';
import { absorbingThrottling, backoff, chunk, inParallel, MAX_ATTEMPTS, queryAll } from './batch.js';
import { ddb } from './clients.js';
import { GSI1, keys } from './keys.js';
import { toOrg, toUser, type Item } from './records.js';

export const tableName = (): string => requireEnv('TABLE_NAME');
export const bucketName = (): string => requireEnv('BUCKET_NAME');

export async function getItem(key: { PK: string; SK: string }, consistent = true): Promise<Item | undefined> {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: consistent }));
  return out.Item;
}

/**
 * Items by key, 100 per BatchGetItem (`inFlight` requests at once), UnprocessedKeys retried with backoff
 * (IncompleteBatch after MAX_ATTEMPTS).
 */
export async function batchGet(keyList: { PK: string; SK: string }[], inFlight = 1): Promise<Item[]> {
  const table = tableName();
  const unique = [...new Map(keyList.map((k) => [`${k.PK}\u0000${k.SK}`, k])).values()];
  const found: Item[] = [];
  await inParallel(chunk(unique, 100), inFlight, async (batch) => {
    let pending: Record<string, any>[] = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new IncompleteBatch(`${pending.length} keys of ${table} still unprocessed after ${MAX_ATTEMPTS} attempts`);
      if (attempt > 0) await backoff(attempt);
      const out = await absorbingThrottling(() =>
        ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } })),
      );
      found.push(...(out.Responses?.[table] ?? []));
      pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  });
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

/** What `readFacts` finds: users and organizations by id, and which of the asked allowances exist (by `pairKey`-less `a>b`). */
export interface Facts {
  users: Map<string, User>;
  organizations: Map<string, Organization & { members: number }>;
  allowances: Set<string>;
}
export const allowanceFact = (a: string, b: string) => `${a}>${b}`;

/** What a decision point's checks rest on, by id: users, organizations, and allowances between two organizations. */
export interface FactsWanted {
  users?: readonly string[];
  organizations?: readonly string[];
  allowances?: readonly (readonly [string, string])[];
}

/** The keys `readFacts` reads for `want`. */
export const factKeys = (want: FactsWanted) => [
  ...(want.users ?? []).map((id) => keys.user(id)),
  ...(want.organizations ?? []).map((id) => keys.org(id)),
  ...(want.allowances ?? []).map(([a, b]) => keys.allowance(a, b)),
];

/** Items read ahead by key with others in one BatchGetItem (`keys` asked, `items` found): an absent key does not exist. */
export interface ReadAhead {
  keys: readonly { PK: string; SK: string }[];
  items: readonly Item[];
}

/** The items of `wanted` (among others): those `ahead` read, when it asked for every one of them; otherwise read now. */
export async function readKeys(wanted: { PK: string; SK: string }[], ahead?: ReadAhead): Promise<readonly Item[]> {
  const asked = new Set(ahead?.keys.map((k) => `${k.PK}\u0000${k.SK}`));
  const covered = ahead !== undefined && wanted.every((k) => asked.has(`${k.PK}\u0000${k.SK}`));
  return covered ? ahead.items : batchGet(wanted);
}

/** Items read by key in one BatchGetItem (consistent), for the readers that take a ReadAhead. */
export async function readAhead(wanted: readonly { PK: string; SK: string }[]): Promise<ReadAhead> {
  return { keys: wanted, items: await batchGet([...wanted]) };
}

/**
 * Users, organizations and allowances read by key in one BatchGetItem (consistent, as getItem): what a decision
 * point's checks rest on (O1's premises, T1, T2, T5, the caller's rights), read at once instead of one GetItem each.
 * `ahead`: the same keys already read in this invocation's first request (a step's hint), used instead of reading.
 */
export async function readFacts(want: FactsWanted, ahead?: ReadAhead): Promise<Facts> {
  const items = await readKeys(factKeys(want), ahead);
  const at = new Map(items.map((i) => [`${i.PK}\u0000${i.SK}`, i]));
  const found = (k: { PK: string; SK: string }) => at.get(`${k.PK}\u0000${k.SK}`);
  const facts: Facts = { users: new Map(), organizations: new Map(), allowances: new Set() };
  for (const id of want.users ?? []) {
    const item = found(keys.user(id));
    if (item) facts.users.set(id, toUser(item));
  }
  for (const id of want.organizations ?? []) {
    const item = found(keys.org(id));
    if (item) facts.organizations.set(id, { ...toOrg(item), members: Number(item.members ?? 0) });
  }
  for (const [a, b] of want.allowances ?? []) if (found(keys.allowance(a, b))) facts.allowances.add(allowanceFact(a, b));
  return facts;
}

/** C2: whether an outside allowance exists between two organizations. */
export async function allowanceExists(a: string, b: string): Promise<boolean> {
  return (await getItem(keys.allowance(a, b))) !== undefined;
}

/** D1: the organization's active administrators. */
export async function organizationAdmins(organizationId: string): Promise<User[]> {
  const items = await queryAll({
    TableName: tableName(),
    IndexName: GSI1,
    KeyConditionExpression: 'GSI1PK = :pk',
    FilterExpression: 'orgAdmin = :true',
    ExpressionAttributeValues: { ':pk': keys.orgMembers(organizationId), ':true': true },
  });
  return items.map(toUser);
}

/** B2, B3: sets an organization attribute only if this event is newer than the one that last set it (out-of-order deliveries). */
export async function setOrganizationIfNewer(
  organizationId: string,
  attribute: 'seats' | 'plan',
  value: unknown,
  time: string,
): Promise<boolean> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.org(organizationId),
        UpdateExpression: 'SET #a = :v, #asOf = :t',
        ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(#asOf) OR #asOf <= :t)',
        ExpressionAttributeNames: { '#a': attribute, '#asOf': `${attribute}AsOf` },
        ExpressionAttributeValues: { ':v': value, ':t': time },
      }),
    );
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
}

/** B1: an organization's counters, set once when its bulk run ends (every member it could delete is gone). */
export async function recountOrganization(organizationId: string): Promise<{ members: number; admins: number }> {
  const items = await queryAll({
    TableName: tableName(),
    IndexName: GSI1,
    KeyConditionExpression: 'GSI1PK = :pk',
    ExpressionAttributeValues: { ':pk': keys.orgMembers(organizationId) },
    ProjectionExpression: '#status, orgAdmin',
    ExpressionAttributeNames: { '#status': 'status' },
  });
  // D7: a suspended user holds its seat but is not an administrator D1 can count on
  const present = items.filter((i) => i.status !== 'deleted');
  const counts = { members: present.length, admins: present.filter((i) => i.orgAdmin && i.status === 'active').length };
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.org(organizationId),
      UpdateExpression: 'SET members = :m, admins = :a',
      ExpressionAttributeValues: { ':m': counts.members, ':a': counts.admins },
    }),
  );
  return counts;
}
