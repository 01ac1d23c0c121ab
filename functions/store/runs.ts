import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionFailed } from './conditions.js';
import { Conflict } from '../shared/errors.js';
import { FILTERED_READ, filteredPage, queryAll, transactWrite } from './batch.js';
import { ddb } from './clients.js';
import { GSI1, keys, operationPosition, runIndexKey } from './keys.js';
import { now } from '../shared/clock.js';
import { getItem, tableName } from './table.js';
import type { RunStatus } from '../domain/lifecycle/bulk-run.js';
import { outboxAttributes, outboxSets, splitOutbox, type RunOutboxEntry, type WithOutbox } from './outbox.js';

/** A bulk run started by a billing event (B1): its progress is visible through the API; its outbox rides on it as read. */
export interface RunRecord extends WithOutbox<RunOutboxEntry> {
  id: string;
  kind: 'contract-cancellation';
  organizationId: string;
  eventId: string;
  /** functions/domain/lifecycle/bulk-run.ts: only its transitions change it, through changeRunStatus. */
  status: RunStatus;
  total: number;
  done: number;
  failed: number;
  /** O3: members who left the organization after the run was planned: not deleted, reported in the run's audit. */
  skipped?: number;
  /** O2: when the run last failed (a resumption is allowed for 7 days after). */
  failedAt?: string;
  /** B4: the operator who confirmed a run above the confirmation threshold. */
  confirmedBy?: string;
  /** B4: when its first batch began deleting (a `Contract Reinstated` no longer cancels it). */
  deletingStartedAt?: string;
  createdAt: string;
  updatedAt: string;
  error?: { code: string; message: string; rule?: string };
  /** D7 beyond: the organization's grace period, which B1 does not apply (the contract is over). */
  gracePeriodIgnored?: { days: number; rule: 'B1'; message: string };
  /** How many times the run was resumed after it failed: its batches are numbered again under the attempt. */
  attempt?: number;
  /**
   * B1, O2: the members' failed operations found when the run started (user id → operation id): the batch that takes
   * the member cancels it and deletes the member whole, also one its own deletion had already marked deleted.
   */
  unfinished?: Record<string, string>;
}

/**
 * Creates the run once per billing event, with its creation's outbox entry (docs/EVENTS.md); returns false when it
 * already exists (a duplicate delivery).
 */
export async function createRun(
  { pendingEvents, outboxMark, ...run }: RunRecord,
  outbox: readonly RunOutboxEntry[] = [],
): Promise<boolean> {
  try {
    await ddb.send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...runIndexKey(operationPosition(run.createdAt, run.id)), type: 'run', ...run, ...outboxAttributes(outbox) },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
}

export async function getRun(id: string): Promise<RunRecord | undefined> {
  const item = await getItem(keys.run(id));
  if (!item) return undefined;
  return toRun(item);
}

const toRun = ({ PK, SK, GSI1PK, GSI1SK, type, ...item }: Record<string, any>): RunRecord => {
  const { rest, outbox } = splitOutbox<RunOutboxEntry>(item);
  return { ...rest, ...outbox } as RunRecord;
};

/** Billing runs, newest first (GSI1 `RUNS`), of one organization if given: a page and where the next starts. */
export async function listRuns(options: {
  organizationId?: string;
  after?: string;
  limit: number;
}): Promise<{ runs: RunRecord[]; next?: string }> {
  const { values, last } = await filteredPage<RunRecord>(
    {
      TableName: tableName(),
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.runs },
      ScanIndexForward: false,
      ...(options.after ? { ExclusiveStartKey: runIndexKey(options.after) } : {}),
    },
    options.limit,
    (items) => items.filter((i) => !options.organizationId || i.organizationId === options.organizationId).map((i) => [i, toRun(i)]),
    options.organizationId ? FILTERED_READ : undefined,
  );
  return { runs: values, ...(last ? { next: operationPosition(last.createdAt, last.id) } : {}) };
}

/** Progress and outcome details; the status changes only through changeRunStatus (the lifecycle's transitions). */
export async function updateRun(id: string, set: Partial<Omit<RunRecord, 'status'>>): Promise<void> {
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

/**
 * B1, O3: while an organization's contract-cancellation run deletes its members, none of them moves out: the
 * organization carries the run's id, and a transfer's membership change is conditional on its absence
 * (store/apply.ts). Set when the run (or a resumed attempt) starts; cleared when it stops running.
 */
export async function markCancellationRunning(organizationId: string, runId: string): Promise<void> {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.org(organizationId),
      UpdateExpression: 'SET cancellationRun = :run',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':run': runId },
    }),
  );
}

export async function clearCancellationRunning(organizationId: string, runId: string): Promise<void> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.org(organizationId),
        UpdateExpression: 'REMOVE cancellationRun',
        ConditionExpression: 'cancellationRun = :run',
        ExpressionAttributeValues: { ':run': runId },
      }),
    );
  } catch (error) {
    if (!conditionFailed(error)) throw error; // not marked by this run (or cleared already)
  }
}

/**
 * A status change of the run, conditional on its from-status (the lifecycle's verdict, written where it is checked
 * again): `notDeleting` also needs no batch to have begun deleting (B4's reinstatement). Throws Conflict naming the
 * status when the run is no longer in one of `from`. `outbox`: the transition's outbox entry, in the same write
 * (docs/EVENTS.md); the run answered lists every entry it holds.
 */
export async function changeRunStatus(
  id: string,
  from: readonly RunStatus[],
  to: RunStatus,
  set: Partial<RunRecord> = {},
  options: { notDeleting?: boolean; remove?: (keyof RunRecord)[]; outbox?: readonly RunOutboxEntry[] } = {},
): Promise<RunRecord> {
  const entries = Object.entries({ ...set, status: to, updatedAt: now() });
  const remove = options.remove ?? [];
  const removing = remove.length ? ` REMOVE ${remove.map((_, i) => `#r${i}`).join(', ')}` : '';
  const notDeleting = options.notDeleting ? ' AND attribute_not_exists(deletingStartedAt)' : '';
  const outbox = outboxSets(options.outbox ?? []);
  try {
    const out = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.run(id),
        UpdateExpression: `SET ${[...entries.map((_, i) => `#k${i} = :v${i}`), ...outbox.sets].join(', ')}${removing}`,
        ConditionExpression: `attribute_exists(PK) AND #status IN (${from.map((_, i) => `:from${i}`).join(', ')})${notDeleting}`,
        ExpressionAttributeNames: {
          '#status': 'status',
          ...Object.fromEntries(entries.map(([k], i) => [`#k${i}`, k])),
          ...Object.fromEntries(remove.map((k, i) => [`#r${i}`, k])),
          ...outbox.names,
        },
        ExpressionAttributeValues: {
          ...Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
          ...Object.fromEntries(from.map((f, i) => [`:from${i}`, f])),
          ...outbox.values,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRun(out.Attributes!);
  } catch (error) {
    if (!conditionFailed(error)) throw error;
    const run = await getRun(id);
    if (options.notDeleting && run?.deletingStartedAt && from.includes(run.status))
      throw new Conflict(`B4: billing run ${id} started deleting members at ${run.deletingStartedAt}`);
    throw new Conflict(`billing run ${id} is ${run?.status ?? 'absent'}; expected ${from.join(' or ')}`);
  }
}

/**
 * B4: a batch may delete only while the run is running: marks when deleting began (once) and answers false when the
 * run is no longer running (cancelled by an operator or a reinstated contract): the batch then changes nothing.
 */
export async function beginDeleting(id: string): Promise<boolean> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.run(id),
        UpdateExpression: 'SET deletingStartedAt = if_not_exists(deletingStartedAt, :at)',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':running': 'running', ':at': now() },
      }),
    );
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
}

/** O3: members skipped (they left the organization after the run was planned) are counted. */
export async function addSkipped(id: string, count: number): Promise<void> {
  if (count <= 0) return;
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.run(id),
      UpdateExpression: 'ADD skipped :n SET updatedAt = :at',
      ExpressionAttributeValues: { ':n': count, ':at': now() },
    }),
  );
}

/** One batch of a bulk run: its members, where the next batch starts, and its outcome (progress is kept per batch). */
export interface BatchRecord {
  runId: string;
  n: number;
  /** The run's attempt this batch belongs to (0: the first run; see RunRecord.attempt). */
  attempt?: number;
  /** The members-index position this batch started from, and the next batch's (absent after the last). */
  cursor?: string;
  next?: string;
  userIds: string[];
  /** Members that could not be planned or deleted, each with its reason. */
  failures: { userId: string; error: string }[];
  /** O3: members who left the organization after the run was planned, each with the reason; never deleted. */
  skipped?: { userId: string; reason: string; rule: 'O3' }[];
  status: 'planned' | 'done' | 'failed';
  planId?: string;
  /** When the batch's plan reads began (its journal entry). */
  readAt?: string;
  /**
   * Files whose deletion this batch handed to the next (bytes and record together, so F4's order holds): a batch
   * deletes files in whole DeleteObjects requests of 1,000, the last batch deletes the rest.
   */
  carry?: { fileId: string; chatId: string; rule: string }[];
}

export async function getBatch(runId: string, n: number, attempt = 0): Promise<BatchRecord | undefined> {
  const item = await getItem(keys.runBatch(runId, n, attempt));
  if (!item) return undefined;
  const { PK, SK, type, ...batch } = item;
  return batch as BatchRecord;
}

/** Every batch of one attempt of a run, in order. */
export async function batchesOf(runId: string, attempt: number): Promise<BatchRecord[]> {
  const items = await queryAll({
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': keys.run(runId).PK, ':p': `BATCH#${attempt ? `R${attempt}#` : ''}` },
  });
  return items
    .filter((i) => (attempt ? true : !String(i.SK).startsWith('BATCH#R')))
    .map(({ PK, SK, type, ...batch }) => batch as BatchRecord);
}

/** Stores a batch as planned (a retried step finds it and applies the same plan). */
export async function putBatch(batch: BatchRecord): Promise<void> {
  await ddb.send(
    new PutCommand({
      TableName: tableName(),
      Item: { ...keys.runBatch(batch.runId, batch.n, batch.attempt), type: 'run-batch', ...batch, at: now() },
    }),
  );
}

/**
 * Ends a batch, once: its status and the run's counters in one transaction, so a retried batch is never counted
 * twice. Returns false when it had ended already.
 */
export async function endBatch(
  batch: BatchRecord,
  status: 'done' | 'failed',
  done: number,
  failed: number,
  failures = batch.failures,
  skipped = 0,
): Promise<boolean> {
  try {
    await transactWrite([
      {
        Put: {
          TableName: tableName(),
          Item: { ...keys.runBatch(batch.runId, batch.n, batch.attempt), type: 'run-batch', ...batch, failures, status, at: now() },
          ConditionExpression: 'attribute_not_exists(PK) OR #status = :planned',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':planned': 'planned' },
        },
      },
      {
        Update: {
          TableName: tableName(),
          Key: keys.run(batch.runId),
          UpdateExpression: 'ADD done :done, failed :failed, skipped :skipped SET updatedAt = :at',
          ExpressionAttributeValues: { ':done': done, ':failed': failed, ':skipped': skipped, ':at': now() },
        },
      },
    ]);
    return true;
  } catch (error) {
    if (conditionFailed(error, 0)) return false;
    throw error;
  }
}

/**
 * A failed run starts again (its failed and unfinished members; those deleted already are counted done as the new
 * attempt passes them): status running, counters from zero, the attempt numbered, in one conditional write, with the
 * resumption's outbox entry (docs/EVENTS.md). Answers the run as written. Throws Conflict naming the status when the
 * run is not failed.
 */
export async function restartRun(id: string, attempt: number, at: string, outbox: readonly RunOutboxEntry[] = []): Promise<RunRecord> {
  const written = outboxSets(outbox);
  try {
    const { Attributes } = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.run(id),
        UpdateExpression: `SET ${[
          '#status = :running, attempt = :attempt, done = :zero, failed = :zero, skipped = :zero, updatedAt = :at',
          ...written.sets,
        ].join(', ')} REMOVE #error, failedAt`,
        ConditionExpression: '#status = :failed AND (attribute_not_exists(attempt) OR attempt = :previous)',
        ExpressionAttributeNames: { '#status': 'status', '#error': 'error', ...written.names },
        ExpressionAttributeValues: {
          ':running': 'running',
          ':failed': 'failed',
          ':attempt': attempt,
          ':previous': attempt - 1,
          ':zero': 0,
          ':at': at,
          ...written.values,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRun(Attributes!);
  } catch (error) {
    if (conditionFailed(error))
      throw new Conflict(`billing run ${id} is ${(await getRun(id))?.status ?? 'absent'}; only a failed run can be resumed`);
    throw error;
  }
}
