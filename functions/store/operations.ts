import { randomUUID } from 'node:crypto';
import { UpdateCommand, DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { conditionFailed } from './conditions.js';
import type { Operation } from '../domain/impact.js';
import { Conflict, Ineligible } from '../shared/errors.js';
import type { OperationStatus } from '../domain/lifecycle/operation.js';
import type { User } from '../domain/model.js';
import { deleteWaitingMarkers, putWaitingMarkers } from './markers.js';
import { reactivationItems, suspensionItems } from './suspensions.js';
import { FILTERED_READ, filteredPage, queryAll, queryPages, transactWrite } from './batch.js';
import { ddb } from './clients.js';
import { keys, ORG_OPERATION_PREFIX, operationPosition, type OrgOperationList } from './keys.js';
import { batchGet, getItem, tableName } from './table.js';
import { now } from '../shared/clock.js';

export type Status = OperationStatus;

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
  /** Where the current plan is stored (store/plans.ts). */
  planId?: string;
  /** How many plans were stored: the next one's id. */
  plans?: number;
  /** When the current run started (the journal entry). */
  startedAt?: string;
  /** X1 beyond: requested with a saved preview: the plan every decision point must still equal. */
  previewId?: string;
  previewFingerprint?: string;
  /** D7 beyond: a deletion under a grace period waits `scheduled`, the user suspended, until this instant. */
  purgeAt?: string;
  graceDays?: number;
  /** D7 beyond: who undid the scheduled deletion (a repeated undo answers the same cancelled deletion). */
  undoneBy?: string;
  /** The plan whose first effect landed (written in that effect's own transaction): a resumed run keeps exactly this plan. */
  appliedPlan?: string;
  /** O2: when it failed; a resumption is refused 7 days after. */
  failedAt?: string;
  /** B2 reading: since when the transfer waits for a seat (its approval found none); oldest first is by this. */
  waitingSince?: string;
  /** O2: who cancelled a failed operation. */
  cancelledBy?: string;
  /** X3: the successor named in the request (an active member of the user's organization, the source for a transfer). */
  successorId?: string;
  /** X4: requested with `"export": true`. */
  export?: boolean;
}

/**
 * What commits with a status change or an operation's creation, in the same transaction: the store builds the
 * items (services name intents, never raw transaction items).
 */
export type WithTransition =
  /** The user's lock, taken by this operation or already held by it (a resumed run takes it again). */
  | { lock: 'take'; since: string }
  /** The run journal's entry for a run that starts now (see otherRunsOverlapped). */
  | { journal: 'start'; startedAt: string }
  /** T4, B2: the transfer marked waiting for a seat at both organizations, or those marks cleared. */
  | { waiting: 'mark' | 'clear' }
  /** D7: the user suspended (creation of a scheduled deletion), or active again (its wait ended). */
  | { suspend: User }
  | { reactivate: User };

function itemsFor(op: OperationRecord, intents: readonly WithTransition[]): any[] {
  return intents.flatMap((intent): any[] => {
    if ('lock' in intent) return [lockFor(op.userId, op.id, intent.since)];
    if ('journal' in intent) return [journalStart(op.id, intent.startedAt)];
    if ('waiting' in intent) return intent.waiting === 'mark' ? putWaitingMarkers(op) : deleteWaitingMarkers(op);
    if ('suspend' in intent) return suspensionItems(intent.suspend);
    return reactivationItems(intent.reactivate);
  });
}

export const newOperationId = (prefix: string): string => `${prefix}-${randomUUID()}`;
export { now } from '../shared/clock.js';

const OP_FIELDS = (op: OperationRecord) => ({ ...keys.operation(op.id), type: 'operation', GSI1PK: keys.userOperations(op.userId), GSI1SK: `${op.createdAt}#${op.id}`, ...op });

/** The organizations' lists an operation appears in (the console's), written with the operation. */
function indexItems(op: OperationRecord) {
  const position = operationPosition(op.createdAt, op.id);
  const item = (orgId: string | undefined, list: OrgOperationList) => (orgId ? [{ ...keys.orgOperation(orgId, list, position), type: 'operation-index', operationId: op.id }] : []);
  return op.operation === 'transfer'
    ? [...item(op.destinationOrganizationId, 'incoming'), ...item(op.sourceOrganizationId, 'outgoing')]
    : item(op.organizationId, 'deletion');
}

/**
 * An organization's transfers (incoming or outgoing) or deletions, newest first, in one of `statuses` if given: a
 * page of operations and the position the next starts after.
 */
export async function listOrganizationOperations(
  organizationId: string,
  list: OrgOperationList,
  options: { statuses?: readonly string[]; after?: string; limit: number },
): Promise<{ operations: OperationRecord[]; next?: string }> {
  const prefix = ORG_OPERATION_PREFIX[list];
  const { values, last } = await filteredPage<OperationRecord>(
    {
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
      ExpressionAttributeValues: { ':pk': keys.org(organizationId).PK, ':p': prefix },
      ScanIndexForward: false,
      ...(options.after ? { ExclusiveStartKey: keys.orgOperation(organizationId, list, options.after) } : {}),
    },
    options.limit,
    async (items) => {
      const ops = new Map((await batchGet(items.map((i) => keys.operation(i.operationId)))).map((o) => [o.id as string, toOperation(o)]));
      return items.flatMap((i): [Record<string, any>, OperationRecord][] => {
        const op = ops.get(i.operationId);
        return op && (!options.statuses || options.statuses.includes(op.status)) ? [[i, op]] : [];
      });
    },
    options.statuses ? FILTERED_READ : undefined,
  );
  return { operations: values, ...(last ? { next: (last.SK as string).slice(prefix.length) } : {}) };
}

/**
 * Creates an operation and takes the per-user lock in one transaction: a second operation on the user gets 409.
 * With `suspend` (D7) the user is suspended in the same transaction: 422 D1 for the last active administrator.
 */
export async function createOperation(op: OperationRecord, intents: readonly WithTransition[] = []): Promise<void> {
  const alsoTransact = itemsFor(op, intents);
  const suspended = intents.find((i): i is { suspend: User } => 'suspend' in i)?.suspend;
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
          ...alsoTransact,
          ...indexItems(op).map((Item) => ({ Put: { TableName: tableName(), Item } })),
        ]);
  } catch (error) {
    if (conditionFailed(error, 0)) {
      const lock = await getItem(keys.lock(op.userId));
      throw new Conflict(`another operation on user ${op.userId} is running or waiting${lock ? ` (${lock.operationId})` : ''}`);
    }
    if (suspended && conditionFailed(error, 3)) {
      throw new Ineligible([{ rule: 'D1', message: `user ${suspended.id} is the last active administrator of ${suspended.organizationId}; it cannot be suspended either` }]);
    }
    if (suspended && conditionFailed(error, 2)) throw new Conflict(`user ${suspended.id} is no longer active`);
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

const toOperation = ({ PK, SK, GSI1PK, GSI1SK, type, ...op }: Record<string, any>) => op as OperationRecord;

export async function getOperation(id: string): Promise<OperationRecord | undefined> {
  const item = await getItem(keys.operation(id));
  if (!item || item.type !== 'operation') return undefined;
  return toOperation(item);
}

/**
 * Moves an operation from one of `from` to `to`, with extra attributes set or removed, in one conditional write;
 * what `intents` name (lock, journal, markers, suspension) commits atomically with it. Only the lifecycle calls this
 * (services/transitions.ts), with the from-statuses of domain/lifecycle/operation.ts.
 * Throws Conflict naming the current status when the operation is not in one of `from`.
 */
export async function transition(
  op: OperationRecord,
  from: readonly Status[],
  to: Status,
  set: Partial<OperationRecord> = {},
  remove: (keyof OperationRecord)[] = [],
  intents: readonly WithTransition[] = [],
): Promise<OperationRecord> {
  const id = op.id;
  const alsoTransact = itemsFor({ ...op, ...set }, intents);
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

/** Whose audit trail: an operation's, a saved preview's (its refusals), or a bulk run's (its batches, F3). */
export type AuditSubject = { operationId: string } | { previewId: string } | { runId: string };
const auditPK = (s: AuditSubject) => ('operationId' in s ? keys.operation(s.operationId).PK : 'previewId' in s ? keys.plan(s.previewId).PK : keys.run(s.runId).PK);

/** X2: an audit entry (who asked, who approved, what changed, which rule, when). */
export async function audit(operationId: string, entry: Record<string, unknown>): Promise<void> {
  await auditOf({ operationId }, entry);
}

export async function auditOf(subject: AuditSubject, entry: Record<string, unknown>): Promise<void> {
  const at = now();
  await ddb.send(new PutCommand({ TableName: tableName(), Item: { PK: auditPK(subject), SK: `AUDIT#${at}#${randomUUID().slice(0, 8)}`, type: 'audit', at, ...entry } }));
}

export async function readAudit(operationId: string): Promise<Record<string, unknown>[]> {
  return readAuditOf({ operationId });
}

export async function readAuditOf(subject: AuditSubject): Promise<Record<string, unknown>[]> {
  const items = await queryAll({
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': auditPK(subject), ':p': 'AUDIT#' },
  });
  return items.map(({ PK, SK, type, ...rest }) => rest);
}

/** The operation's plan for this run is the one stored under `planId` (X1: once stored for a run, never recomputed). */
export async function setPlan(operationId: string, planId: string, run: number, plans: number): Promise<void> {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.operation(operationId),
      UpdateExpression: 'SET plannedRun = :run, planId = :plan, plans = :plans',
      // only for the run that is going on: a stale execution's retried PlanImpact cannot repoint a later run's plan
      ConditionExpression: '#status = :running AND runCount = :run',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':run': run, ':plan': planId, ':plans': plans, ':running': 'running' },
    }),
  ).catch((error) => {
    if (conditionFailed(error)) throw new Conflict(`operation ${operationId} is no longer in run ${run}; its plan is not changed`);
    throw error;
  });
}

/** The lock on a user, for a transaction: taken by this operation, or already held by it (a resumed run takes it again). */
const lockFor = (userId: string, operationId: string, since: string) => ({
  Put: {
    TableName: tableName(),
    Item: { ...keys.lock(userId), type: 'lock', userId, operationId, since },
    ConditionExpression: 'attribute_not_exists(PK) OR operationId = :op',
    ExpressionAttributeValues: { ':op': operationId },
  },
});

/** The plan id of an operation's n-th plan. */
export const planIdFor = (operationId: string, n: number) => `${operationId}.${n}`;

/** How long an operation can run (the state machines' timeout): the journal looks this far back. */
const LONGEST_RUN_MS = 6 * 3600 * 1000;

/**
 * The journal of runs: an entry when a run starts (written with the start), its end when it ends. Finalize asks
 * whether any other run overlapped its own; only then can a chat it touched have been changed under it (G2, D4, D5).
 */
const journalStart = (operationId: string, startedAt: string) => ({
  Put: {
    TableName: tableName(),
    Item: { ...keys.journal(startedAt, operationId), type: 'journal', operationId, startedAt, expiresAt: Math.floor(Date.parse(startedAt) / 1000) + 7 * 24 * 3600 },
  },
});

/** A journal entry on its own (a bulk batch begins; an operation's run writes it with its transition). */
export async function journalBegin(runId: string, startedAt: string): Promise<void> {
  await ddb.send(new PutCommand(journalStart(runId, startedAt).Put));
}

export async function journalEnd(operationId: string, startedAt: string | undefined): Promise<void> {
  if (!startedAt) return;
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.journal(startedAt, operationId),
        UpdateExpression: 'SET endedAt = :at',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':at': now() },
      }),
    );
  } catch (error) {
    if (!conditionFailed(error)) throw error;
  }
}

/** True when another run was going on at any time since `startedAt`. */
export async function otherRunsOverlapped(operationId: string, startedAt: string | undefined): Promise<boolean> {
  if (!startedAt) return true; // unknown: assume the worst
  const from = new Date(Date.parse(startedAt) - LONGEST_RUN_MS).toISOString();
  for await (const page of queryPages({
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk AND SK >= :from',
    ExpressionAttributeValues: { ':pk': 'OPLOG', ':from': from },
    ConsistentRead: true,
  })) {
    if (page.some((e) => e.operationId !== operationId && (!e.endedAt || e.endedAt >= startedAt))) return true;
  }
  return false;
}
