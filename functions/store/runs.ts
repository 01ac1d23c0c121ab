import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionFailed } from './conditions.js';
import { batchWrite, put, transactWrite } from './batch.js';
import { ddb } from './clients.js';
import { keys } from './keys.js';
import { now } from './operations.js';
import { getItem, tableName } from './table.js';

/** A bulk run started by a billing event (B1): its progress is visible through the API. */
export interface RunRecord {
  id: string;
  kind: 'contract-cancellation';
  organizationId: string;
  eventId: string;
  status: 'running' | 'succeeded' | 'failed';
  total: number;
  done: number;
  failed: number;
  createdAt: string;
  updatedAt: string;
  error?: { code: string; message: string; rule?: string };
}

/** Creates the run once per billing event; returns false when it already exists (a duplicate delivery). */
export async function createRun(run: RunRecord): Promise<boolean> {
  try {
    await ddb.send(new PutCommand({ TableName: tableName(), Item: { ...keys.run(run.id), type: 'run', ...run }, ConditionExpression: 'attribute_not_exists(PK)' }));
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
}

export async function getRun(id: string): Promise<RunRecord | undefined> {
  const item = await getItem(keys.run(id));
  if (!item) return undefined;
  const { PK, SK, type, ...run } = item;
  return run as RunRecord;
}

export async function updateRun(id: string, set: Partial<RunRecord>): Promise<void> {
  const entries = Object.entries({ ...set, updatedAt: now() });
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.run(id),
      UpdateExpression: `SET ${entries.map((_, i) => `#k${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#k${i}`, k])),
      ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
    }),
  );
}

/** Counts one member as done or failed, once: a retried member is never counted twice. */
export async function recordMemberResult(runId: string, userId: string, result: 'done' | 'failed', error?: string): Promise<void> {
  try {
    await transactWrite([
          {
            Put: {
              TableName: tableName(),
              Item: { ...keys.runMember(runId, userId), type: 'run-member', userId, result, ...(error ? { error } : {}), at: now() },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          {
            Update: {
              TableName: tableName(),
              Key: keys.run(runId),
              UpdateExpression: 'ADD #counter :one SET updatedAt = :at',
              ExpressionAttributeNames: { '#counter': result },
              ExpressionAttributeValues: { ':one': 1, ':at': now() },
            },
          },
        ]);
  } catch (error) {
    if (!conditionFailed(error, 0)) throw error;
  }
}

/** Chats a member's deletion touched; swept once every member is done (G2 across concurrent deletions). */
export async function touchChats(runId: string, chatIds: Iterable<string>): Promise<void> {
  await batchWrite(tableName(), [...new Set(chatIds)].map((chatId) => put({ ...keys.runChat(runId, chatId), type: 'run-chat', chatId })));
}

/** True when this billing event was processed already (EventBridge delivers at least once). */
export async function eventSeen(eventId: string): Promise<boolean> {
  return (await getItem(keys.event(eventId))) !== undefined;
}

export async function markEventSeen(eventId: string, detailType: string): Promise<void> {
  const at = now();
  // kept 30 days: long past EventBridge's 24-hour retry window
  const expiresAt = Math.floor(Date.now() / 1000) + 30 * 24 * 3600;
  await ddb.send(new PutCommand({ TableName: tableName(), Item: { ...keys.event(eventId), type: 'event', eventId, detailType, at, expiresAt } }));
}
