import { purgeDate } from '../domain/grace-period.js';
import type { User } from '../domain/model.js';
import { Conflict } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { audit, auditOf, getOperation, releaseLock, type OperationError, type OperationRecord } from '../store/operations.js';
import type { PlanEntry } from '../store/plans.js';
import { reactivateUser, setDeletionGraceDays } from '../store/suspensions.js';
import { create, move, requireStatus } from './transitions.js';
import { flushPending } from './events.js';
import { callerUser, mustGetOrganization, mustGetUser, readableOperation, requireAdminOf } from './access.js';
import { beginRun, startExecution, stopExecution } from './executions.js';
import { operationView, storePlan } from './views.js';

/**
 * D7 beyond: an organization's grace period. A deletion under one suspends the user at once and waits, `scheduled`,
 * in its execution (a Wait state until `purgeAt`); undone, the user is active again as before; otherwise the purge
 * plans again (X1) and runs as any deletion. Nothing of D3–D6 or F happens before the purge.
 */

/** `GET /organizations/{id}/settings`: an administrator of that organization. */
export async function readSettings(callerId: string, organizationId: string) {
  const caller = await callerUser(callerId);
  const org = await mustGetOrganization(organizationId);
  requireAdminOf(caller, org.id, "only its administrators may read an organization's settings");
  return { organizationId: org.id, deletionGraceDays: org.deletionGraceDays ?? 0 };
}

/** `PUT /organizations/{id}/settings`: an administrator sets the grace period; deletions already scheduled keep theirs. */
export async function updateSettings(callerId: string, organizationId: string, deletionGraceDays: number) {
  const caller = await callerUser(callerId);
  const org = await mustGetOrganization(organizationId);
  requireAdminOf(caller, org.id, "only its administrators may change an organization's settings");
  await setDeletionGraceDays(org.id, deletionGraceDays);
  // X2: who changed it, from what, to what (the function's structured log; settings have no audit route of their own)
  logger.info('D7 grace period set', { organizationId: org.id, by: caller.id, from: org.deletionGraceDays ?? 0, to: deletionGraceDays });
  return { organizationId: org.id, deletionGraceDays };
}

/** What a deletion preview under a grace period adds to the Impact (an extension): when it would purge, and that nothing goes before. */
export const graceNote = (graceDays: number, purgeAt: string) => ({
  graceDays,
  purgeAt,
  note: `D7: the user is suspended at once; nothing is removed before ${purgeAt}, and an administrator can undo the deletion until then`,
});

/**
 * D7 beyond, D1: the deletion is created `scheduled` and the user suspended in the transaction that takes its lock:
 * the last active administrator cannot be suspended (422 D1). The plan computed now is stored as the impact it would
 * have; the purge plans again (or compares with the saved preview, X1). The execution starts at once and waits.
 */
export async function scheduleDeletion(
  base: OperationRecord,
  user: User,
  graceDays: number,
  plan: { organizations: string[]; readAt: string; entries: readonly PlanEntry[] },
) {
  const op: OperationRecord = { ...base, status: 'scheduled', purgeAt: purgeDate(graceDays, Date.parse(base.createdAt)), graceDays };
  await create(op, 'schedule', { with: [{ suspend: user }], entries: plan.entries }); // 422 D1 for the last active administrator, 409 for another operation
  const { view } = await storePlan(
    { id: op.planId!, operation: 'deletion', userId: user.id, organizations: plan.organizations, readAt: plan.readAt },
    plan.entries,
  );
  await audit(op.id, { event: 'requested', by: op.requestedBy, rule: 'D1', ...(op.previewId ? { previewId: op.previewId } : {}) });
  await audit(op.id, { event: 'suspended', rule: 'D7', userId: user.id, graceDays, purgeAt: op.purgeAt });
  await startWaiting(op, user);
  return operationView(op, view);
}

/** The execution of a scheduled deletion, waiting for its purge date; none started: the suspension lifted, failed. */
export async function startWaiting(op: OperationRecord, user: User): Promise<void> {
  try {
    await startExecution(op, { operationId: op.id, purgeAt: op.purgeAt! });
  } catch (error) {
    // nothing waits for the purge: the suspension is lifted and the deletion ends failed
    await endWait(op, user, 'failed', { error: { code: 'ExecutionNotStarted', message: (error as Error).message } });
    throw error;
  }
}

/** Ends the wait of a scheduled deletion and makes the user active again, in one transaction; the lock is released. */
async function endWait(
  op: OperationRecord,
  user: User,
  to: 'cancelled' | 'failed',
  set: Partial<OperationRecord>,
): Promise<OperationRecord> {
  const ended = await move(op, to === 'cancelled' ? 'undo' : 'fail-scheduled', { set, with: [{ reactivate: user }] });
  await releaseLock(op.userId, op.id);
  return ended;
}

/**
 * `POST /deletions/{id}/undo` (D7 beyond): an administrator of the organization, while the deletion is `scheduled`.
 * The conditional transition scheduled → cancelled decides a race with the purge (which moves scheduled → running):
 * exactly one wins. A repeated undo answers the same cancelled deletion; once the purge started, 409.
 */
export async function undoDeletion(callerId: string, id: string) {
  const op = await readableOperation(callerId, id, 'deletion');
  if (op.status === 'cancelled' && op.undoneBy) return operationView(op); // undone already: the same answer
  requireStatus('undo', op); // D7: only a scheduled deletion can be undone
  const user = await mustGetUser(op.userId);
  const undone = await endWait(op, user, 'cancelled', { undoneBy: callerId });
  await stopExecution(undone, `undone by ${callerId}`);
  await audit(op.id, { event: 'undone', by: callerId, rule: 'D7', userId: op.userId });
  return operationView(undone);
}

/**
 * B1 ignores grace periods: a member's scheduled deletion is cancelled (the member stays suspended; the bulk run
 * deletes it now), and the run records it.
 */
export async function cancelScheduledForContract(op: OperationRecord, runId: string, error: OperationError): Promise<void> {
  await move(op, 'cancel-scheduled', { set: { error } });
  await releaseLock(op.userId, op.id);
  await stopExecution(op, error.message);
  await audit(op.id, { event: 'cancelled', by: 'system', ...error, runId, gracePeriodIgnored: true });
  await auditOf({ runId }, { event: 'grace-period-ignored', rule: 'B1', operationId: op.id, userId: op.userId, purgeAt: op.purgeAt });
}

/**
 * StartPurge (after the Wait): the purge begins only if the deletion is still `scheduled` (scheduled → running,
 * conditional); undone or cancelled first, nothing is purged. A retried step that already began says so again.
 */
export async function startPurge(operationId: string): Promise<{ purge: boolean; export?: true }> {
  const op = await flushPending(await getOperation(operationId)); // docs/EVENTS.md: the outbox's retry path
  if (!op) return { purge: false }; // gone with the world it belonged to (a world load replaces everything)
  const exporting = op.export ? { export: true as const } : {}; // X4: the state machine's ExportRequested reads it
  if (op.status === 'running' && op.runCount === 1) return { purge: true, ...exporting };
  try {
    await beginRun(op, 'purge');
  } catch (error) {
    if (error instanceof Conflict) return { purge: false };
    throw error;
  }
  await audit(op.id, { event: 'purge-started', rule: 'D7', purgeAt: op.purgeAt });
  return { purge: true, ...exporting };
}

/** StartPurge failed past its retries: the deletion ends failed and the user is active again, in one transaction. */
export async function failScheduled(op: OperationRecord, error: OperationError): Promise<void> {
  const user = await mustGetUser(op.userId);
  try {
    await move(op, 'fail-scheduled', { set: { error }, with: user.status === 'suspended' ? [{ reactivate: user }] : [] });
  } catch (e) {
    if (!(e instanceof Conflict)) throw e; // undone or begun meanwhile: that outcome stands
  }
}

/**
 * A purge that failed before DeleteUser applied (a stale saved preview, X1, or a step out of retries): nothing was
 * removed, so the user is active again rather than left suspended with nothing to undo.
 */
export async function reactivateAfterFailedPurge(op: OperationRecord): Promise<void> {
  const user = await mustGetUser(op.userId);
  if (user.status === 'suspended' && (await reactivateUser(user)))
    await audit(op.id, { event: 'reactivated', rule: 'D7', userId: user.id });
}
