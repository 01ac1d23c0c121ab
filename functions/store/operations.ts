import { randomUUID } from 'node:crypto';
import { UpdateCommand, DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { conditionFailed } from './conditions.js';
import type { Operation } from '../domain/impact.js';
import { Conflict, Ineligible } from '../shared/errors.js';
import type { OperationStatus } from '../domain/lifecycle/operation.js';
import type { User } from '../domain/model.js';
import { deleteWaitingMarkers, incomingMarkerPuts, markerDeletes, putWaitingMarkers } from './markers.js';
import { reactivationItems, suspensionItems } from './suspensions.js';
import { absorbingConflicts, batchWrite, FILTERED_READ, filteredPage, put, queryAll, queryPages, transactWrite } from './batch.js';
import { ddb } from './clients.js';
import { keys, ORG_OPERATION_PREFIX, operationPosition, type OrgOperationList } from './keys.js';
import { outboxAttributes, outboxSets, splitOutbox, type OperationOutboxEntry, type WithOutbox } from './outbox.js';
import { batchGet, getItem, readKeys, tableName, type ReadAhead } from './table.js';
import { toUser } from './records.js';
import { keepPlanHead, planHeadKeys } from './plans.js';
import { now, nowMs } from '../shared/clock.js';

export type Status = OperationStatus;
/** The organization's operation lists (GET /organizations/{id}/…). */
export type { OrgOperationList };

export interface OperationError {
  code: string;
  message: string;
  rule?: string;
}

/** docs/EVENTS.md: the operation's outbox (store/outbox.ts) rides on it as read. */
export interface OperationRecord extends WithOutbox<OperationOutboxEntry> {
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
  /**
   * X1: the journals of the organizations the plan `planId` read were quiet from its reads on until a check that read
   * their run counters first (`counters`, with this operation's `runCount` then): a later check compares the counters
   * alone (quietSince, stillQuiet).
   */
  planQuiet?: RunsQuiet;
}

/** See OperationRecord.planQuiet. */
export interface RunsQuiet {
  planId: string;
  counters: Record<string, number>;
  runCount: number;
}

/**
 * What commits with a status change or an operation's creation, in the same transaction: the store builds the
 * items (services name intents, never raw transaction items).
 */
export type WithTransition =
  /** The user's lock, taken by this operation or already held by it (a resumed run takes it again). */
  | { lock: 'take'; since: string }
  /** The run journal's entries for a run that starts now, in its organizations' journals (see otherRunsOverlapped). */
  | { journal: 'start'; startedAt: string }
  /** The user's lock released (the operation ended): only this operation's. */
  | { lock: 'release' }
  /** The run's journal entries marked ended (the run succeeded, failed or waits). */
  | { journal: 'end'; startedAt: string }
  /** T4, B2: the transfer marked waiting for a seat at both organizations, or those marks cleared. */
  | { waiting: 'mark' | 'clear' }
  /** A transfer that ended: no longer waiting, incoming or outgoing anywhere (store/markers.ts); or, created, marked
   * incoming at the destination and outgoing at the source (B1, B3). */
  | { markers: 'clear' | 'incoming' }
  /** X2: audit entries written with the transition. */
  | { audit: readonly Record<string, unknown>[] }
  /** X1: a small plan's items (store/plans.ts planRecord), stored with the operation that applies it. */
  | { plan: readonly Record<string, unknown>[] }
  /** D7: the user suspended (creation of a scheduled deletion), or active again (its wait ended). */
  | { suspend: User }
  | { reactivate: User }
  /** docs/EVENTS.md: the transition's events, on the operation's own item in the same write (not an item of its own). */
  | { outbox: readonly OperationOutboxEntry[] };

function itemsFor(op: OperationRecord, intents: readonly WithTransition[]): any[] {
  return intents.flatMap((intent): any[] => {
    if ('lock' in intent) return intent.lock === 'release' ? [lockRelease(op.userId, op.id)] : [lockFor(op.userId, op.id, intent.since)];
    if ('journal' in intent)
      return intent.journal === 'start'
        ? journalStart(op.id, runOrganizations(op), intent.startedAt)
        : journalStop(op.id, runOrganizations(op), intent.startedAt);
    if ('waiting' in intent) return intent.waiting === 'mark' ? putWaitingMarkers(op) : deleteWaitingMarkers(op);
    if ('markers' in intent)
      return op.operation !== 'transfer' ? [] : intent.markers === 'incoming' ? incomingMarkerPuts(op) : markerDeletes(op);
    if ('plan' in intent) return intent.plan.map((Item) => ({ Put: { TableName: tableName(), Item } }));
    if ('audit' in intent) {
      const at = now();
      return intent.audit.map((entry, i) => ({ Put: { TableName: tableName(), Item: auditItem({ operationId: op.id }, entry, at, i) } }));
    }
    if ('suspend' in intent) return suspensionItems(intent.suspend);
    if ('outbox' in intent) return []; // written by the operation's own Put or Update (outboxOf)
    return reactivationItems(intent.reactivate);
  });
}

export const newOperationId = (prefix: string): string => `${prefix}-${randomUUID()}`;
export { now } from '../shared/clock.js';

const OP_FIELDS = ({ pendingEvents, outboxMark, ...op }: OperationRecord) => ({
  ...keys.operation(op.id),
  type: 'operation',
  GSI1PK: keys.userOperations(op.userId),
  GSI1SK: `${op.createdAt}#${op.id}`,
  ...op,
});

const outboxOf = (intents: readonly WithTransition[]): OperationOutboxEntry[] => intents.flatMap((i) => ('outbox' in i ? i.outbox : []));
/** The organizations' lists an operation appears in (the console's), written with the operation. */
function indexItems(op: OperationRecord) {
  const position = operationPosition(op.createdAt, op.id);
  const item = (orgId: string | undefined, list: OrgOperationList) =>
    orgId ? [{ ...keys.orgOperation(orgId, list, position), type: 'operation-index', operationId: op.id }] : [];
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

/** The organization's side of an operation on each list: where it goes, where it comes from, where it deletes. */
const SIDE: Record<OrgOperationList, (op: OperationRecord) => string | undefined> = {
  incoming: (op) => op.destinationOrganizationId,
  outgoing: (op) => op.sourceOrganizationId,
  deletion: (op) => op.organizationId,
};

/** Every failed operation on one of an organization's lists (B1 cancels them, or finishes what they left), all pages. */
export async function failedOrganizationOperations(organizationId: string, list: OrgOperationList): Promise<OperationRecord[]> {
  const found: OperationRecord[] = [];
  let after: string | undefined;
  do {
    const page = await listOrganizationOperations(organizationId, list, { statuses: ['failed'], limit: 100, ...(after ? { after } : {}) });
    found.push(...page.operations.filter((op) => SIDE[list](op) === organizationId));
    after = page.next;
  } while (after);
  return found;
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
      {
        Put: {
          TableName: tableName(),
          Item: { ...OP_FIELDS(op), ...outboxAttributes(outboxOf(intents)) },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      ...alsoTransact,
      ...indexItems(op).map((Item) => ({ Put: { TableName: tableName(), Item } })),
    ]);
  } catch (error) {
    if (conditionFailed(error, 0)) {
      const lock = await getItem(keys.lock(op.userId));
      throw new Conflict(`another operation on user ${op.userId} is running or waiting${lock ? ` (${lock.operationId})` : ''}`);
    }
    if (suspended && conditionFailed(error, 3)) {
      throw new Ineligible([
        {
          rule: 'D1',
          message: `user ${suspended.id} is the last active administrator of ${suspended.organizationId}; it cannot be suspended either`,
        },
      ]);
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

function toOperation({ PK, SK, GSI1PK, GSI1SK, type, ...item }: Record<string, any>): OperationRecord {
  const { rest, outbox } = splitOutbox<OperationOutboxEntry>(item);
  return { ...rest, ...outbox } as OperationRecord;
}

/**
 * An operation and a user (the caller of an API route) in one BatchGetItem; with `planId` (a hint: the plan the
 * operation is expected to hold, as getOperationWithPlan) that plan's header and first page too, kept for the
 * invocation when it is the operation's current plan.
 */
export async function getOperationAndUser(id: string, userId: string, planId?: string): Promise<{ op?: OperationRecord; user?: User }> {
  const items = await batchGet([keys.operation(id), keys.user(userId), ...(planId ? planHeadKeys(planId) : [])]);
  const opKey = keys.operation(id);
  const opItem = items.find((i) => i.PK === opKey.PK && i.SK === opKey.SK && i.type === 'operation');
  const userKey = keys.user(userId);
  const userItem = items.find((i) => i.PK === userKey.PK && i.SK === userKey.SK);
  const op = opItem ? toOperation(opItem) : undefined;
  if (op && planId && op.planId === planId) keepPlanHead(planId, items);
  return { ...(op ? { op } : {}), ...(userItem ? { user: toUser(userItem) } : {}) };
}

/**
 * The operation, and with it (one BatchGetItem) the header and first page of the plan `planId` names, kept for the
 * invocation when it is the operation's current plan (`planId` is a hint from the step's state; the operation as
 * read here is what every check uses). `also`: more keys read in the same request (a step's hint of what it checks
 * next), answered as a ReadAhead.
 */
export async function getOperationWithPlan(
  id: string,
  planId: string | undefined,
  also: readonly { PK: string; SK: string }[] = [],
): Promise<{ op?: OperationRecord; ahead: ReadAhead }> {
  if (!planId && also.length === 0) {
    const op = await getOperation(id);
    return { ...(op ? { op } : {}), ahead: { keys: [], items: [] } };
  }
  const items = await batchGet([keys.operation(id), ...(planId ? planHeadKeys(planId) : []), ...also]);
  const ahead = { keys: also, items };
  const opKey = keys.operation(id);
  const item = items.find((i) => i.PK === opKey.PK && i.SK === opKey.SK);
  if (!item || item.type !== 'operation') return { ahead };
  const op = toOperation(item);
  if (planId && op.planId === planId) keepPlanHead(planId, items);
  return { op, ahead };
}

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
  // docs/EVENTS.md: the outbox entries and the index keys, for the sweeper, with this write's mark
  const outbox = outboxOf(intents);
  const written = outboxSets(outbox);
  Object.assign(names, written.names);
  Object.assign(values, written.values);
  sets.push(...written.sets);
  const mark = written.mark;
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
      const { Attributes } = await ddb.send(new UpdateCommand({ ...update, ReturnValues: 'ALL_NEW' }));
      return toOperation(Attributes!);
    }
    await transactWrite([{ Update: update }, ...alsoTransact]);
  } catch (error) {
    if (conditionFailed(error)) {
      const current = await getOperation(id);
      throw new Conflict(`operation ${id} is ${current?.status ?? 'absent'}, not ${from.join(' or ')}`);
    }
    throw error;
  }
  // what the transaction wrote, on the record the caller read (no read back)
  const after: Record<string, unknown> = { ...op, ...set, status: to, updatedAt: values[':at'] };
  for (const k of remove) delete after[k];
  const pending = [...(op.pendingEvents ?? []), ...outbox];
  if (pending.length) after.pendingEvents = pending;
  if (mark) after.outboxMark = mark;
  return after as unknown as OperationRecord;
}

/** Whose audit trail: an operation's, a saved preview's (its refusals), or a bulk run's (its batches, F3). */
export type AuditSubject = { operationId: string } | { previewId: string } | { runId: string };
const auditPK = (s: AuditSubject) =>
  'operationId' in s ? keys.operation(s.operationId).PK : 'previewId' in s ? keys.plan(s.previewId).PK : keys.run(s.runId).PK;

/** X2: an audit entry (who asked, who approved, what changed, which rule, when). */
export async function audit(operationId: string, entry: Record<string, unknown>): Promise<void> {
  await auditOf({ operationId }, entry);
}

/** An audit item; entries written together share their time and keep their order (`seq`). */
const auditItem = (subject: AuditSubject, entry: Record<string, unknown>, at = now(), seq = 0) => ({
  PK: auditPK(subject),
  SK: `AUDIT#${at}#${String(seq).padStart(3, '0')}${randomUUID().slice(0, 8)}`,
  type: 'audit',
  at,
  ...entry,
});

/** Several audit entries of one operation, in order, in as few requests as the batch allows. */
export async function auditAll(operationId: string, entries: readonly Record<string, unknown>[]): Promise<void> {
  if (entries.length === 0) return;
  const at = now();
  await batchWrite(
    tableName(),
    entries.map((entry, i) => put(auditItem({ operationId }, entry, at, i))),
  );
}

export async function auditOf(subject: AuditSubject, entry: Record<string, unknown>): Promise<void> {
  await ddb.send(new PutCommand({ TableName: tableName(), Item: auditItem(subject, entry) }));
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
  await ddb
    .send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.operation(operationId),
        UpdateExpression: 'SET plannedRun = :run, planId = :plan, plans = :plans',
        // only for the run that is going on: a stale execution's retried PlanImpact cannot repoint a later run's plan
        ConditionExpression: '#status = :running AND runCount = :run',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':run': run, ':plan': planId, ':plans': plans, ':running': 'running' },
      }),
    )
    .catch((error) => {
      if (conditionFailed(error)) throw new Conflict(`operation ${operationId} is no longer in run ${run}; its plan is not changed`);
      throw error;
    });
}

/** The lock on a user, for a transaction: taken by this operation, or already held by it (a resumed run takes it again). */
const lockRelease = (userId: string, operationId: string) => ({
  Delete: {
    TableName: tableName(),
    Key: keys.lock(userId),
    ConditionExpression: 'attribute_not_exists(PK) OR operationId = :op',
    ExpressionAttributeValues: { ':op': operationId },
  },
});

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
/** How long a journal entry is kept (its TTL): after that DynamoDB may remove it at any time. */
const JOURNAL_KEEP_S = 7 * 24 * 3600;

/**
 * The journal of runs, one partition per organization: a run (an operation's, a bulk batch's) has an entry in the
 * journal of each organization whose members it changes (a deletion its organization's, a transfer both, a batch
 * the cancelled organization's), written when it starts, its end recorded when it ends. A plan records the
 * organizations of every user it read (`PlanHeader.organizations`); a run that changed any of what it read is in one
 * of those journals. No item is shared: each entry is its own run's, and a busy organization's journal is read only
 * by plans that read its members.
 */
const journalStart = (runId: string, organizations: readonly string[], startedAt: string) =>
  [...new Set(organizations)].flatMap((org) => [journalEntry(runId, org, startedAt), { Update: runCounterAdd(org) }]);

const journalEntry = (runId: string, org: string, startedAt: string) => ({
  Put: {
    TableName: tableName(),
    Item: {
      ...keys.journal(org, startedAt, runId),
      type: 'journal',
      operationId: runId,
      organizationId: org,
      startedAt,
      expiresAt: Math.floor(Date.parse(startedAt) / 1000) + JOURNAL_KEEP_S,
    },
  },
});

/**
 * Each organization's own counter of the runs begun in its journal (ORG#o / RUNS), added to with every entry
 * (`quietSince`). Concurrent starts in one organization write it at once: the transaction retries those conflicts.
 */
const runCounterAdd = (org: string) => ({
  TableName: tableName(),
  Key: keys.runCounter(org),
  UpdateExpression: 'ADD runs :one SET #type = :type, organizationId = :org',
  ExpressionAttributeNames: { '#type': 'type' },
  ExpressionAttributeValues: { ':one': 1, ':type': 'run-counter', ':org': org },
});

/** The end of a run's entries, for a transaction: an upsert, so a missing entry cannot cancel the transition. */
const journalStop = (runId: string, organizations: readonly string[], startedAt: string) =>
  [...new Set(organizations)].map((org) => ({
    Update: {
      TableName: tableName(),
      Key: keys.journal(org, startedAt, runId),
      UpdateExpression:
        'SET endedAt = :at, #type = :type, operationId = :run, organizationId = :org, startedAt = :started, expiresAt = :exp',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: {
        ':at': now(),
        ':type': 'journal',
        ':run': runId,
        ':org': org,
        ':started': startedAt,
        ':exp': Math.floor(Date.parse(startedAt) / 1000) + JOURNAL_KEEP_S,
      },
    },
  }));

/** The organizations whose members an operation's run changes: where its journal entries go. */
export const runOrganizations = (
  op: Pick<OperationRecord, 'organizationId' | 'sourceOrganizationId' | 'destinationOrganizationId'>,
): string[] => [op.organizationId, op.sourceOrganizationId, op.destinationOrganizationId].filter((o): o is string => Boolean(o));

/** Journal entries on their own (a bulk batch begins; an operation's run writes them with its transition). */
export async function journalBegin(runId: string, organizations: readonly string[], startedAt: string): Promise<void> {
  // the entry first, then the counter, both before the run changes anything: a check that read the counter before
  // it moved reads the journal after, and finds the entry (quietSince)
  await Promise.all(
    [...new Set(organizations)].map(async (org) => {
      await ddb.send(new PutCommand(journalEntry(runId, org, startedAt).Put));
      await absorbingConflicts(() => ddb.send(new UpdateCommand(runCounterAdd(org))));
    }),
  );
}

export async function journalEnd(runId: string, organizations: readonly string[], startedAt: string | undefined): Promise<void> {
  if (!startedAt) return;
  await Promise.all(
    [...new Set(organizations)].map(async (org) => {
      try {
        await ddb.send(
          new UpdateCommand({
            TableName: tableName(),
            Key: keys.journal(org, startedAt, runId),
            UpdateExpression: 'SET endedAt = :at',
            ConditionExpression: 'attribute_exists(PK)',
            ExpressionAttributeValues: { ':at': now() },
          }),
        );
      } catch (error) {
        if (!conditionFailed(error)) throw error;
      }
    }),
  );
}

/**
 * True when a run other than `runId` was going on at any time since `since` in the journal of any of `organizations`
 * (the organizations a plan read): only then can what the plan read have changed under it (X1, G2, D4, D5).
 * Unknown organizations (a plan stored without them): assume the worst.
 */
export async function otherRunsOverlapped(
  runId: string,
  organizations: readonly string[] | undefined,
  since: string | undefined,
): Promise<boolean> {
  if (!since || !organizations) return true;
  // a plan older than the journal's entries (a transfer waiting for a seat, a purge after a long grace period): the
  // entries of runs since may be gone, so assume one went on (plan again and compare)
  if (Date.parse(since) - LONGEST_RUN_MS < nowMs() - JOURNAL_KEEP_S * 1000) return true;
  const from = new Date(Date.parse(since) - LONGEST_RUN_MS).toISOString();
  const overlapped = await Promise.all(
    [...new Set(organizations)].map(async (org) => {
      for await (const page of queryPages({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND SK >= :from',
        ExpressionAttributeValues: { ':pk': keys.journal(org, from, '').PK, ':from': from },
        ConsistentRead: true,
      })) {
        if (page.some((e) => e.operationId !== runId && (!e.endedAt || e.endedAt >= since))) return true;
      }
      return false;
    }),
  );
  return overlapped.includes(true);
}

/**
 * The most organizations whose counters an operation records (planQuiet, on its own item): a plan that read more is
 * checked against its journals each time, as before counters.
 */
export const QUIET_ORGANIZATIONS = 50;

/** The keys of the run counters of `organizations`, for a read that takes them along (`ahead` below). */
export const runCounterKeys = (organizations: readonly string[]) => [...new Set(organizations)].map((o) => keys.runCounter(o));

/**
 * The run counters of `organizations` (consistent reads; an organization no run has begun in: 0). `ahead`: a read
 * of this invocation that asked for them along with what it needed (runCounterKeys), used instead of reading.
 */
async function readRunCounters(organizations: readonly string[], ahead?: ReadAhead): Promise<Record<string, number>> {
  const orgs = [...new Set(organizations)];
  const items = (await readKeys(runCounterKeys(orgs), ahead)).filter((i) => i.SK === 'RUNS');
  const found = new Map(items.map((i) => [i.organizationId as string, Number(i.runs ?? 0)]));
  return Object.fromEntries(orgs.map((o) => [o, found.get(o) ?? 0]));
}

/**
 * X1, as otherRunsOverlapped, for a plan that will be checked again: the run counters of `organizations` read first,
 * then their journals. Undefined when a run other than `runId` overlapped; otherwise the counters, so that a later
 * check reads them alone (stillQuiet): a run going on by then that the journals did not show began after they were
 * read, and added to its organizations' counters after these were read.
 */
export async function quietSince(
  runId: string,
  organizations: readonly string[] | undefined,
  since: string | undefined,
  ahead?: ReadAhead,
): Promise<Record<string, number> | undefined> {
  if (!since || !organizations || new Set(organizations).size > QUIET_ORGANIZATIONS) return undefined;
  const counters = await readRunCounters(organizations, ahead); // before the journals: see above
  return (await otherRunsOverlapped(runId, organizations, since)) ? undefined : counters;
}

/**
 * X1: no run but `op`'s own began in `organizations` since `quiet` was recorded (quietSince) for its plan: each
 * counter moved by exactly the runs `op` itself began since (its runCount), in the organizations whose journals its
 * runs write (runOrganizations). One BatchGetItem, whatever the number of organizations.
 */
export async function stillQuiet(
  op: OperationRecord,
  quiet: RunsQuiet,
  organizations: readonly string[],
  ahead?: ReadAhead,
): Promise<boolean> {
  if (organizations.some((o) => quiet.counters[o] === undefined)) return false;
  const now = await readRunCounters(organizations, ahead);
  const own = new Set(runOrganizations(op));
  const ownBegun = op.runCount - quiet.runCount;
  return organizations.every((o) => now[o]! - quiet.counters[o]! === (own.has(o) ? ownBegun : 0));
}

/**
 * G2, D4, D5 at the end of a run: whether a run other than `op`'s went on since `plan`'s reads began (its journals,
 * or its counters alone when a check recorded them for this plan: stillQuiet). Without a plan, since the run began.
 */
export async function othersRanBeside(
  op: OperationRecord,
  plan: { id: string; organizations?: readonly string[]; readAt?: string } | undefined,
): Promise<boolean> {
  const quiet = op.planQuiet;
  if (plan?.organizations && quiet?.planId === plan.id) return !(await stillQuiet(op, quiet, plan.organizations));
  return otherRunsOverlapped(op.id, plan?.organizations, plan?.readAt ?? op.startedAt);
}
