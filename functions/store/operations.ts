import { randomUUID } from 'node:crypto';
import { UpdateCommand, DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { conditionFailed } from './conditions.js';
import { canonicalEffect, effectIds, sortEffects, type Effect, type EffectKind, type Impact, type Operation } from '../domain/impact.js';
import { Conflict } from '../shared/errors.js';
import { batchWrite, del, put, queryAll, queryPages, transactWrite } from './batch.js';
import { ddb } from './clients.js';
import { keys } from './keys.js';
import type { Locators } from './slice.js';
import { fileLocator, taskLocator } from './slice.js';
import { getItem, tableName } from './table.js';

export type Status = 'awaiting-approval' | 'awaiting-seat' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const ACTIVE_STATUSES: readonly Status[] = ['awaiting-approval', 'awaiting-seat', 'running'];

export interface OperationError {
  code: string;
  message: string;
  rule?: string;
}

export interface OperationRecord {
  id: string;
  operation: Operation;
  userId: string;
  status: Status;
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
  /** Transfers. */
  sourceOrganizationId?: string;
  destinationOrganizationId?: string;
  approvedBy?: string | null;
  /** Deletions and bulk runs. */
  organizationId?: string;
  /** The bulk run (B1) this operation belongs to, if any. */
  runId?: string;
  error?: OperationError;
  /** How many times an execution was started; names executions uniquely per run (T4 resumes). */
  runCount: number;
  /** The run whose plan is stored: a retried PlanImpact does not plan again mid-run. */
  plannedRun?: number;
}

export const newOperationId = (prefix: string): string => `${prefix}-${randomUUID()}`;
export const now = (): string => new Date().toISOString();

const OP_FIELDS = (op: OperationRecord) => ({ ...keys.operation(op.id), type: 'operation', GSI1PK: keys.userOperations(op.userId), GSI1SK: `${op.createdAt}#${op.id}`, ...op });

/** Creates an operation and takes the per-user lock in one transaction: a second operation on the user gets 409. */
export async function createOperation(op: OperationRecord): Promise<void> {
  try {
    await transactWrite([
          {
            Put: {
              TableName: tableName(),
              Item: { ...keys.lock(op.userId), type: 'lock', userId: op.userId, operationId: op.id, since: op.createdAt },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          { Put: { TableName: tableName(), Item: OP_FIELDS(op), ConditionExpression: 'attribute_not_exists(PK)' } },
        ]);
  } catch (error) {
    if (conditionFailed(error, 0)) {
      const lock = await getItem(keys.lock(op.userId));
      throw new Conflict(`another operation on user ${op.userId} is running or waiting${lock ? ` (${lock.operationId})` : ''}`);
    }
    throw error;
  }
}

/** Releases the lock if this operation holds it; releasing twice is harmless. */
export async function releaseLock(userId: string, operationId: string): Promise<void> {
  try {
    await ddb.send(
      new DeleteCommand({
        TableName: tableName(),
        Key: keys.lock(userId),
        ConditionExpression: 'attribute_not_exists(PK) OR operationId = :op',
        ExpressionAttributeValues: { ':op': operationId },
      }),
    );
  } catch (error) {
    if (!conditionFailed(error)) throw error;
  }
}

export async function getOperation(id: string): Promise<OperationRecord | undefined> {
  const item = await getItem(keys.operation(id));
  if (!item || item.type !== 'operation') return undefined;
  const { PK, SK, GSI1PK, GSI1SK, type, ...op } = item;
  return op as OperationRecord;
}

/**
 * Moves an operation from one of `from` to `to`, with extra attributes set or removed, in one conditional write.
 * Optional `alsoTransact` items (locks, markers, seat counts) commit atomically with it.
 * Throws Conflict naming the current status when the operation is not in one of `from`.
 */
export async function transition(
  id: string,
  from: readonly Status[],
  to: Status,
  set: Partial<OperationRecord> = {},
  remove: (keyof OperationRecord)[] = [],
  alsoTransact: any[] = [],
): Promise<OperationRecord> {
  const values: Record<string, unknown> = { ':to': to, ':at': now() };
  const names: Record<string, string> = { '#status': 'status' };
  const sets = ['#status = :to', 'updatedAt = :at'];
  Object.entries(set).forEach(([k, v], i) => {
    names[`#s${i}`] = k;
    values[`:s${i}`] = v;
    sets.push(`#s${i} = :s${i}`);
  });
  const removes = remove.map((k, i) => {
    names[`#r${i}`] = k;
    return `#r${i}`;
  });
  const fromList = from.map((_, i) => `:f${i}`);
  from.forEach((s, i) => (values[`:f${i}`] = s));
  const update = {
    TableName: tableName(),
    Key: keys.operation(id),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: `attribute_exists(PK) AND #status IN (${fromList.join(', ')})`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
  try {
    if (alsoTransact.length === 0) {
      await ddb.send(new UpdateCommand(update));
    } else {
      await transactWrite([{ Update: update }, ...alsoTransact]);
    }
  } catch (error) {
    if (conditionFailed(error)) {
      const current = await getOperation(id);
      throw new Conflict(`operation ${id} is ${current?.status ?? 'absent'}, not ${from.join(' or ')}`);
    }
    throw error;
  }
  return (await getOperation(id))!;
}

const EFFECT_PREFIX = 'EFFECT#';
const effectSK = (e: Effect) => `${EFFECT_PREFIX}${e.kind}#${effectIds(e).join('#')}`;

export interface StoredEffect {
  effect: Effect;
  /** The chat of a file or task effect. */
  chatId?: string;
}

function locate(e: Effect, locators: Locators): string | undefined {
  if (e.kind === 'file-deleted' || e.kind === 'file-handed-over') return locators.get(fileLocator(e.fileId));
  if (e.kind === 'task-deleted') return locators.get(taskLocator(e.taskId));
  return undefined;
}

/** Stores an operation's planned effects, one item each, replacing any earlier plan. */
export async function writeImpact(operationId: string, impact: Impact, locators: Locators): Promise<void> {
  const pk = keys.operation(operationId).PK;
  const existing = await queryAll({
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': pk, ':p': EFFECT_PREFIX },
    ProjectionExpression: 'PK, SK',
  });
  const next = new Set(impact.effects.map(effectSK));
  await batchWrite(tableName(), [
    ...existing.filter((i) => !next.has(i.SK)).map((i) => del({ PK: i.PK, SK: i.SK })),
    ...impact.effects.map((effect) => put({ PK: pk, SK: effectSK(effect), type: 'effect', effect, chatId: locate(effect, locators) })),
  ]);
}

/** Every stored effect of an operation, with its locator, in one paginated query. */
export async function readStoredEffects(operationId: string): Promise<StoredEffect[]> {
  const items = await queryAll({
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': keys.operation(operationId).PK, ':p': EFFECT_PREFIX },
    ConsistentRead: true,
  });
  return items.map((i) => ({ effect: canonicalEffect(i.effect as Effect), chatId: i.chatId }));
}

export async function readImpact(op: Pick<OperationRecord, 'id' | 'operation' | 'userId'>): Promise<Impact> {
  const stored = await readStoredEffects(op.id);
  return { operation: op.operation, userId: op.userId, effects: sortEffects(stored.map((s) => s.effect)) };
}

/** One page of an operation's planned effects of one kind; `after` is the last SK of the previous page. */
export async function readEffectsPage(
  operationId: string,
  kind: EffectKind,
  after: string | undefined,
  limit: number,
): Promise<{ effects: StoredEffect[]; last?: string }> {
  const pk = keys.operation(operationId).PK;
  for await (const page of queryPages({
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': pk, ':p': `${EFFECT_PREFIX}${kind}#` },
    ConsistentRead: true,
    Limit: limit,
    ...(after ? { ExclusiveStartKey: { PK: pk, SK: after } } : {}),
  })) {
    const last = page.length === limit ? (page[page.length - 1]!.SK as string) : undefined;
    return { effects: page.map((i) => ({ effect: i.effect, chatId: i.chatId })), last };
  }
  return { effects: [] };
}

/** X2: an audit entry (who asked, who approved, what changed, which rule, when). */
export async function audit(operationId: string, entry: Record<string, unknown>): Promise<void> {
  const at = now();
  await ddb.send(
    new PutCommand({
      TableName: tableName(),
      Item: { PK: keys.operation(operationId).PK, SK: `AUDIT#${at}#${randomUUID().slice(0, 8)}`, type: 'audit', at, ...entry },
    }),
  );
}

export async function readAudit(operationId: string): Promise<Record<string, unknown>[]> {
  const items = await queryAll({
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': keys.operation(operationId).PK, ':p': 'AUDIT#' },
  });
  return items.map(({ PK, SK, type, ...rest }) => rest);
}

export async function setPlannedRun(operationId: string, run: number): Promise<void> {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.operation(operationId),
      UpdateExpression: 'SET plannedRun = :run',
      ExpressionAttributeValues: { ':run': run },
    }),
  );
}
