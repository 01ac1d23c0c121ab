import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { planPairAllowed } from '../domain/eligibility.js';
import type { EffectKind } from '../domain/impact.js';
import { PLANS } from '../domain/model.js';
import { requireEnv } from '../shared/config.js';
import { Conflict } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { batchWrite, deleteObjects, del, queryPages } from '../store/batch.js';
import { ddb, sfn } from '../store/clients.js';
import { conditionFailed } from '../store/conditions.js';
import { GSI1, fileObjectKey, keys } from '../store/keys.js';
import { createOperation, getOperation, now, setPlannedRun, writeImpact, type OperationRecord } from '../store/operations.js';
import { createRun, eventSeen, getRun, markEventSeen, recordMemberResult, touchChats, updateRun, type RunRecord } from '../store/runs.js';
import { bucketName, getItem, getOrganization, getUser, tableName } from '../store/table.js';
import { computeDeletionImpact } from './planning.js';
import { settleChats } from './settle.js';
import { finalize } from './lifecycle.js';
import { applyAllPhases } from './phases.js';
import { cancelBySystem, incomingTransfers, resumeWaitingTransfers, waitingTransfers } from './transfers.js';

/** A billing event that cannot be applied: it changes nothing and ends in the dead-letter queue with this reason. */
export class InvalidBillingEvent extends Error {
  override name = 'InvalidBillingEvent';
}

/** The EventBridge envelope of a billing event (CONTRACT.md "Billing events"). */
export const BillingEnvelope = z.object({
  id: z.string().check(z.minLength(1)),
  source: z.literal('billing'),
  'detail-type': z.string(),
  time: z.optional(z.string()),
  detail: z.unknown(),
});
const OrgId = z.string({ error: 'must be a string' }).check(z.minLength(1, { error: 'must be a non-empty string' }));
export const DETAIL_SCHEMAS = {
  'Contract Cancelled': z.object({ organizationId: OrgId }),
  'Seats Changed': z.object({
    organizationId: OrgId,
    seats: z
      .int({ error: (issue) => (issue.input === undefined ? 'is required' : typeof issue.input !== 'number' ? 'must be a number' : 'must be an integer') })
      .check(z.minimum(0, { error: 'must be 0 or more' })),
  }),
  'Plan Changed': z.object({ organizationId: OrgId, plan: z.enum(PLANS, { error: `must be one of ${PLANS.join(', ')}` }) }),
} as const;
type DetailType = keyof typeof DETAIL_SCHEMAS;

/** Validates an event of one detail-type; the reason names the bad field. The organization must exist. */
export async function parseBillingEvent<T extends DetailType>(detailType: T, event: unknown) {
  const envelope = BillingEnvelope.safeParse(event);
  if (!envelope.success) {
    const issue = envelope.error.issues[0]!;
    throw new InvalidBillingEvent(`${issue.path.join('.') || 'event'}: ${issue.message}`);
  }
  if (envelope.data['detail-type'] !== detailType) throw new InvalidBillingEvent(`detail-type: expected "${detailType}", got "${envelope.data['detail-type']}"`);
  const detail = DETAIL_SCHEMAS[detailType].safeParse(envelope.data.detail);
  if (!detail.success) {
    const issue = detail.error.issues[0]!;
    throw new InvalidBillingEvent(`detail.${issue.path.join('.') || ''}: ${issue.message}`.replace(/\.:/, ':'));
  }
  const org = await getOrganization((detail.data as { organizationId: string }).organizationId);
  if (!org) throw new InvalidBillingEvent(`detail.organizationId: no organization ${(detail.data as { organizationId: string }).organizationId}`);
  return { id: envelope.data.id, time: envelope.data.time ?? now(), detail: detail.data as z.infer<(typeof DETAIL_SCHEMAS)[T]>, org };
}

/** Sets an organization attribute only if this event is newer than the one that last set it (out-of-order deliveries). */
async function setIfNewer(organizationId: string, attribute: 'seats' | 'plan', value: unknown, time: string): Promise<boolean> {
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

/** B2: seats are updated; transfers waiting for a seat there resume, oldest first, while seats last. */
export async function handleSeatsChanged(event: unknown) {
  const { id, time, detail } = await parseBillingEvent('Seats Changed', event);
  if (await eventSeen(id)) return { duplicate: true, resumed: [] };
  const updated = await setIfNewer(detail.organizationId, 'seats', detail.seats, time);
  const resumed = await resumeWaitingTransfers(detail.organizationId);
  await markEventSeen(id, 'Seats Changed');
  logger.info('B2 seats changed', { organizationId: detail.organizationId, seats: detail.seats, updated, resumed });
  return { duplicate: false, updated, resumed };
}

/** B3: the plan is updated; approved transfers that T1 now forbids are cancelled with the reason. */
export async function handlePlanChanged(event: unknown) {
  const { id, time, detail } = await parseBillingEvent('Plan Changed', event);
  if (await eventSeen(id)) return { duplicate: true, cancelled: [] };
  const updated = await setIfNewer(detail.organizationId, 'plan', detail.plan, time);
  const cancelled: string[] = [];
  const waiting = [...(await waitingTransfers(detail.organizationId, 'destination')), ...(await waitingTransfers(detail.organizationId, 'source'))];
  for (const op of waiting) {
    const [source, destination] = await Promise.all([getOrganization(op.sourceOrganizationId!), getOrganization(op.destinationOrganizationId!)]);
    if (!source || !destination || planPairAllowed(source.plan, destination.plan)) continue;
    try {
      await cancelBySystem(op, {
        code: 'plan-changed',
        message: `T1: a transfer from plan ${source.plan} to plan ${destination.plan} is not allowed (plan of ${detail.organizationId} changed to ${detail.plan})`,
        rule: 'T1',
      });
      cancelled.push(op.id);
    } catch (error) {
      if (!(error instanceof Conflict)) throw error; // it started or was cancelled meanwhile
    }
  }
  await markEventSeen(id, 'Plan Changed');
  logger.info('B3 plan changed', { organizationId: detail.organizationId, plan: detail.plan, updated, cancelled });
  return { duplicate: false, updated, cancelled };
}

export const runIdFor = (eventId: string) => `b1-${eventId}`;

/** B1: one bulk run per event; a duplicate delivery finds the run and the execution already there. */
export async function handleContractCancelled(event: unknown) {
  const { id, detail } = await parseBillingEvent('Contract Cancelled', event);
  const runId = runIdFor(id);
  const at = now();
  const created = await createRun({ id: runId, kind: 'contract-cancellation', organizationId: detail.organizationId, eventId: id, status: 'running', total: 0, done: 0, failed: 0, createdAt: at, updatedAt: at });
  try {
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: requireEnv('CANCELLATION_STATE_MACHINE_ARN'),
        name: runId,
        input: JSON.stringify({ runId, organizationId: detail.organizationId }),
      }),
    );
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
  }
  logger.info('B1 contract cancelled', { organizationId: detail.organizationId, runId, duplicate: !created });
  return { runId, duplicate: !created };
}

/* ---- the bulk run's steps (B1, F3) ---- */

const MEMBERS_PAGE = 100;

/** StartRun: counts the members and cancels transfers into this organization not yet run (awaiting approval or a seat). */
export async function startRun(runId: string, organizationId: string) {
  let total = 0;
  for await (const page of queryPages({ TableName: tableName(), IndexName: GSI1, KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': keys.orgMembers(organizationId) }, ProjectionExpression: 'PK' })) {
    total += page.length;
  }
  for (const op of await incomingTransfers(organizationId)) {
    await cancelBySystem(op, { code: 'contract-cancelled', message: `B1: the contract of ${organizationId} was cancelled`, rule: 'B1' }).catch((e) => {
      if (!(e instanceof Conflict)) throw e;
    });
  }
  await updateRun(runId, { total, status: 'running' });
  return { total };
}

const encodeCursor = (key: Record<string, unknown> | undefined) => (key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null);
const decodeCursor = (cursor: string | null | undefined) => (cursor ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined);

/** ReadMembers: one page of member ids, and a cursor for the next (state payloads stay bounded). */
export async function readMembers(organizationId: string, cursor: string | null | undefined) {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.orgMembers(organizationId) },
      ProjectionExpression: 'id',
      Limit: MEMBERS_PAGE,
      ExclusiveStartKey: decodeCursor(cursor),
    }),
  );
  return { userIds: (out.Items ?? []).map((i) => i.id as string), cursor: encodeCursor(out.LastEvaluatedKey) };
}

const DELETION_PHASES: (readonly [string, EffectKind[]])[] = [
  ['DeleteUser', ['user-deleted', 'api-token-revoked']],
  ['HandleFiles', ['file-deleted', 'file-handed-over']],
  ['PruneContacts', ['contact-removed']],
  ['LeaveChats', ['chat-left', 'admin-granted', 'chat-frozen']],
  ['DeleteChats', ['chat-deleted', 'task-deleted']],
];

/** A member busy with another running operation: the Map retries it later. */
export class MemberBusy extends Error {
  override name = 'MemberBusy';
}

/**
 * DeleteMember: D2–D6 for one member, with F3 for files, as one idempotent step (the operation id is derived from
 * the run and the user, so a retry continues the same operation). Then F3: every file the user ever uploaded goes.
 */
export async function deleteMember(runId: string, organizationId: string, userId: string) {
  const user = await getUser(userId);
  // Only the organization's members: one who moved out meanwhile (a transfer that was running) is not touched.
  if (user?.organizationId !== organizationId) {
    await recordMemberResult(runId, userId, 'done');
    return { userId, skipped: 'no longer a member' };
  }
  const opId = `del-${runId}-${userId}`;
  let op = await getOperation(opId);
  // A retry finds its operation and finishes it, even once the user is marked deleted.
  if (op || user.status === 'active') {
    if (!op) {
      const lock = await getItem(keys.lock(userId));
      if (lock && lock.operationId !== opId) {
        const other = await getOperation(lock.operationId);
        if (other?.status === 'running') throw new MemberBusy(`user ${userId} has operation ${other.id} running`);
        if (other) await cancelBySystem(other, { code: 'contract-cancelled', message: `B1: the contract of ${organizationId} was cancelled`, rule: 'B1' }).catch(() => undefined);
      }
      const at = now();
      op = { id: opId, operation: 'deletion', userId, organizationId, status: 'running', requestedBy: 'billing', createdAt: at, updatedAt: at, runCount: 1, runId } satisfies OperationRecord;
      await createOperation(op);
    }
    if (op.status === 'running' && op.plannedRun !== 1) {
      // planned once, before anything is applied; a retry after a partial write plans again from the same data
      const { impact, locators } = await computeDeletionImpact(user, { contractCancelled: true });
      await writeImpact(opId, impact, locators);
      await setPlannedRun(opId, 1);
    }
    if (op.status === 'running') {
      const applied = await applyAllPhases(opId, DELETION_PHASES, { bulk: true });
      await touchChats(runId, applied.flatMap(({ effect }) => ('chatId' in effect ? [effect.chatId] : [])));
      await finalize(opId, { settle: false }); // SweepChats settles every touched chat once all members are done
    }
  }
  const removed = await deleteAllUploads(userId);
  await recordMemberResult(runId, userId, 'done');
  return { userId, filesRemoved: removed };
}

/** F3: every file the user uploaded, in chats of any organization, bytes first. */
async function deleteAllUploads(userId: string): Promise<number> {
  let removed = 0;
  for await (const page of queryPages({ TableName: tableName(), IndexName: GSI1, KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': keys.userFiles(userId) } })) {
    await deleteObjects(bucketName(), page.map((f) => fileObjectKey(f.chatId, f.id)));
    await batchWrite(tableName(), page.map((f) => del({ PK: f.PK, SK: f.SK })));
    removed += page.length;
  }
  return removed;
}

export async function recordMemberFailed(runId: string, userId: string, error: { Error?: string; Cause?: string }) {
  await recordMemberResult(runId, userId, 'failed', `${error.Error ?? 'Error'}: ${error.Cause ?? ''}`.slice(0, 1000));
}

/**
 * SweepChats: members were deleted concurrently, each planning against the others still present. Once all are done,
 * each touched chat is settled as G2/D5 require: nobody left → deleted (F2); no administrator left → all become one.
 */
export async function sweepChats(runId: string, cursor: string | null | undefined) {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
      ExpressionAttributeValues: { ':pk': keys.run(runId).PK, ':p': 'CHAT#' },
      Limit: MEMBERS_PAGE,
      ExclusiveStartKey: decodeCursor(cursor),
    }),
  );
  await settleChats((out.Items ?? []).map((i) => i.chatId as string));
  return { cursor: encodeCursor(out.LastEvaluatedKey) };
}

export async function finishRun(runId: string) {
  const run = (await getRun(runId))!;
  const status: RunRecord['status'] = run.failed > 0 ? 'failed' : 'succeeded';
  await updateRun(runId, { status, ...(run.failed > 0 ? { error: { code: 'members-failed', message: `${run.failed} of ${run.total} members could not be deleted`, rule: 'B1' } } : {}) });
  return { status };
}

export async function failRun(runId: string, error: { Error?: string; Cause?: string }) {
  await updateRun(runId, { status: 'failed', error: { code: error.Error ?? 'Error', message: error.Cause ?? '', rule: 'B1' } });
}

/** The run as the API shows it: progress (done, failed, remaining) and outcome. */
export function runView(run: RunRecord) {
  return {
    id: run.id,
    kind: run.kind,
    organizationId: run.organizationId,
    eventId: run.eventId,
    status: run.status,
    total: run.total,
    done: run.done,
    failed: run.failed,
    remaining: Math.max(0, run.total - run.done - run.failed),
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    ...(run.error ? { error: run.error } : {}),
  };
}
